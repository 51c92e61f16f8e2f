"""Coherence through stored state, on the generator's handlers (SPEC C2, C4): each chunk folded
into the memory leaves a new version linked to it; each section's chunks are folded in order,
whichever event starts a chunk's summary; a chunk's prompt is built from the stored summary,
ledger and style sheet and the previous chunk's tail; and the prompt stays flat as the document
grows. The test hands each `chunk.summarize` the generator emitted back to it, as its consumer would."""

import uuid
from collections import Counter

from contracts.messages import WriteChunk
from services.generator.handlers import write_chunk
from services.generator.prompts import last_words
from services.generator.summarizing import summarize_chunk
from tests.handler.effects import Job, outbox

STYLE = "Plain and exact, past tense, third person, for walkers who like maps."


def chunk(index: int, previous: int | None, budget: int = 200, section: int = 0) -> WriteChunk:
    return WriteChunk(chunk_index=index, section_index=section, section_title=f"River {section + 1}",
                      brief="Where the river rises, the towns along it, and where it ends.", budget_words=budget,
                      title="Imaginary rivers", instructions="A field guide to imaginary rivers.",
                      previous_chunk_index=previous, position=f"chunk {index + 1}", style=STYLE)


async def fold_in_what_is_due(owner, ports, job: Job) -> list:
    """Runs every `chunk.summarize` the generator emitted and the test has not run yet, until it
    emits no more; returns all the job's summarize commands. The newest run first: the bus keeps
    no order between them, so a summary started too early would be folded in before its turn."""
    ran: set[uuid.UUID] = set()
    while due := [c for c in await outbox(owner, "generator", job.job_id, "chunk.summarize") if c.event_id not in ran]:
        for command in reversed(due):
            ran.add(command.event_id)
            await summarize_chunk(command, ports)
    return await outbox(owner, "generator", job.job_id, "chunk.summarize")


async def write_section(owner, ports, job: Job, chunks: int, budget: int = 200) -> None:
    """The section's chunks one after the other, each folded in before the next is written."""
    for index in range(chunks):
        await write_chunk(job.envelope(chunk(index, index - 1 if index else None, budget), "planner"), ports)
        await fold_in_what_is_due(owner, ports, job)


async def first_prompts(owner, job: Job) -> dict[int, dict]:
    rows = await owner.fetch("SELECT chunk_index, prompt, input_tokens FROM generator.llm_calls WHERE job_id = $1"
                             " AND purpose = 'write' AND attempt = 1 ORDER BY chunk_index", job.job_id)
    return {r["chunk_index"]: r for r in rows}


async def test_each_chunk_is_folded_in_once_after_the_chunk_before_it(generator, owner) -> None:
    """Moved from tests/integration/test_memory_step.py. Both ways a summary starts are taken:
    chunk 1 is stored before chunk 0 is folded in (its summary waits for chunk 0's), chunk 2 after
    chunk 1 is (its store starts it), and chunks 3-4 are a second section beside the first."""
    ports, job = await generator(), Job()
    for index, previous, section in ((0, None, 0), (1, 0, 0), (3, None, 1)):
        await write_chunk(job.envelope(chunk(index, previous, section=section), "planner"), ports)
    await fold_in_what_is_due(owner, ports, job)
    for index, previous, section in ((2, 1, 0), (4, 3, 1)):
        await write_chunk(job.envelope(chunk(index, previous, section=section), "planner"), ports)
    commands = await fold_in_what_is_due(owner, ports, job)

    assert Counter(c.data["chunk_index"] for c in commands) == Counter(range(5))  # one each, whichever path
    summarized = await outbox(owner, "generator", job.job_id, "chunk.summarized")
    assert sorted(e.data["chunk_index"] for e in summarized) == list(range(5))
    version = {r["caused_by_chunk"]: r["version"] for r in await owner.fetch(
        "SELECT caused_by_chunk, version FROM generator.coherence WHERE job_id = $1", job.job_id)}
    follows = {r["chunk_index"]: r["previous_chunk_index"] for r in await owner.fetch(
        "SELECT chunk_index, previous_chunk_index FROM generator.chunks WHERE job_id = $1", job.job_id)}
    chained = [k for k, previous in follows.items() if previous is not None]
    assert sorted(chained) == [1, 2, 4]
    assert all(version[k] > version[follows[k]] for k in chained)


async def test_each_chunk_leaves_a_new_version_of_the_coherence_state(generator, owner) -> None:
    """Moved from tests/integration/test_coherence.py."""
    ports, job = await generator(), Job()
    await write_section(owner, ports, job, 4)
    versions = await owner.fetch("SELECT version, caused_by_chunk, summary, ledger FROM generator.coherence"
                                 " WHERE job_id = $1 ORDER BY version", job.job_id)
    assert [v["version"] for v in versions] == [1, 2, 3, 4]
    assert sorted(v["caused_by_chunk"] for v in versions) == [0, 1, 2, 3]
    assert all(v["summary"] and v["ledger"] for v in versions)


async def test_each_chunk_prompt_carries_the_summary_and_ledger_written_before_it(generator, owner) -> None:
    """Moved from tests/integration/test_coherence.py, which looked for any stored summary in the
    prompts of a whole job's chunks: here the prompt carries the latest version, all of its ledger,
    the style sheet, and the previous chunk's tail."""
    ports, job = await generator(), Job()
    await write_section(owner, ports, job, 3)
    prompts = await first_prompts(owner, job)
    versions = {r["caused_by_chunk"]: r for r in await owner.fetch(
        "SELECT caused_by_chunk, summary, ledger, style FROM generator.coherence WHERE job_id = $1", job.job_id)}
    for index in (1, 2):
        prompt, memory = prompts[index]["prompt"], versions[index - 1]
        assert memory["summary"] in prompt, f"chunk {index}'s prompt carries no stored summary"
        assert memory["ledger"] and all(line in prompt for line in memory["ledger"].splitlines())
        assert memory["style"] == STYLE and STYLE in prompt
        before = await owner.fetchval("SELECT text FROM generator.chunks WHERE job_id = $1 AND chunk_index = $2",
                                      job.job_id, index - 1)
        assert last_words(before, ports.settings.tail_words) in prompt
    assert versions[0]["summary"] not in prompts[0]["prompt"]


async def test_summaries_keep_prompts_flat_as_the_document_grows(generator, owner) -> None:
    """Moved from tests/integration/test_coherence.py: twelve chunks of 800 words in a row."""
    ports, job = await generator(), Job()
    await write_section(owner, ports, job, 12, budget=800)
    sizes = [p["input_tokens"] for p in (await first_prompts(owner, job)).values()]
    assert len(sizes) == 12
    # Bounded by the summary, the ledger, the tail and the template, never by what was written:
    # about 2,000 tokens whatever the document's length.
    assert max(sizes) <= 2500, sizes
