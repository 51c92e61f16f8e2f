"""The generator's handlers on a real database, writing through the fake LLM server: a chunk is
written to its budget, stored with its report and every call; a redelivered chunk is never sent to
the LLM again; misbehaving replies are continued, retried or given up with a reason; the memory
step folds a chunk in, with a fallback made in code when the summariser gives nothing usable."""

import uuid

from contracts.messages import JobCancelled, SummarizeChunk, WriteChunk
from services.generator.echoes import LEAN_AFTER
from services.generator.handlers import job_cancelled, write_chunk
from services.generator.memory import Memory
from services.generator.summarizer import remember
from services.generator.summarizing import summarize_chunk
from tests.handler.effects import Job, effects, outbox

CHUNK = ("Ada reached the river at dusk. The ferry was gone and the ferryman with it. She slept under the "
         "willows and woke to bells. By noon she had found the bridge the old maps promised.")


def write(budget: int = 200, model: str | None = None, **fields) -> WriteChunk:
    return WriteChunk(chunk_index=0, section_index=0, section_title="The Saltwater Meander",
                      brief="A river that runs uphill at night and the villages that follow it.",
                      budget_words=budget, title="Imaginary rivers", instructions="A field guide to imaginary rivers.",
                      position="chunk 1 of 3", model=model, **fields)


async def calls(owner, job: Job, purpose: str = "write") -> list:
    return await owner.fetch("SELECT attempt, kept, error, words FROM generator.llm_calls"
                             " WHERE job_id = $1 AND purpose = $2 ORDER BY attempt", job.job_id, purpose)


async def stored_chunk(owner, job: Job, index: int = 0):
    return await owner.fetchrow("SELECT text, words, budget_words FROM generator.chunks"
                                " WHERE job_id = $1 AND chunk_index = $2", job.job_id, index)


async def test_a_chunk_is_written_to_its_budget_and_stored_with_its_report_and_its_calls(generator, owner):
    ports, job = await generator(), Job()
    command = job.envelope(write(200), "planner")
    await write_chunk(command, ports)

    chunk = await stored_chunk(owner, job)
    assert chunk["words"] >= 200 and chunk["budget_words"] == 200
    assert [(c["kept"], c["error"]) for c in await calls(owner, job)][-1] == (True, None)
    [started, processed] = await outbox(owner, "generator", job.job_id, "job.chunk_started", "chunk.processed")
    assert started.data == {"chunk_index": 0, "budget_words": 200, "attempts_before": 0}
    announced = [e.data["attributes"] for e in await outbox(owner, "generator", job.job_id, "llm.call")]
    assert processed.data | {"input_words": 0} == {
        "chunk_index": 0, "budget_words": 200, "output_words": chunk["words"], "input_words": 0, "passed": True,
        "attempts": len(await calls(owner, job)), "reason": "",
        "trimmed_words": sum(a.get("longform.trimmed_words", 0) for a in announced),
        "trimmed_tokens": sum(a.get("longform.trimmed_tokens", 0) for a in announced)}
    assert len(announced) == len(await calls(owner, job))
    [summarize] = await outbox(owner, "generator", job.job_id, "chunk.summarize")
    assert summarize.data["chunk_index"] == 0  # no chunk before it: its memory step starts at once


async def test_a_redelivered_chunk_is_reported_again_without_a_call_to_the_llm(generator, owner):
    ports, job = await generator(), Job()
    command = job.envelope(write(120), "planner")
    await write_chunk(command, ports)
    made = await calls(owner, job)
    before = await effects(owner, "generator", job.job_id)
    await write_chunk(command, ports)
    assert await calls(owner, job) == made
    assert await effects(owner, "generator", job.job_id) == before  # the report's id is derived: no second one


async def test_a_short_reply_is_continued_and_the_log_says_so(generator, owner):
    """Moved from tests/integration/test_lifecycle_events.py: one chunk's continuations are the
    generator's alone."""
    ports, job = await generator(), Job()
    await write_chunk(job.envelope(write(400, model="fake/short:fraction=0.4"), "planner"), ports)

    continued = [e.data for e in await outbox(owner, "generator", job.job_id, "job.chunk_continued")]
    assert continued
    for step in continued:
        assert 0 < step["words_so_far"] < step["budget_words"] and step["round"] >= 2
    kept = [e for e in await outbox(owner, "generator", job.job_id, "llm.call")
            if e.data["attributes"]["longform.kept"]]
    assert len(kept) >= len(continued) + 1
    [processed] = await outbox(owner, "generator", job.job_id, "chunk.processed")
    assert processed.data["passed"] and processed.data["output_words"] >= 400


async def test_truncated_replies_are_continued_from_their_last_sentence(generator, owner):
    ports, job = await generator(), Job()
    await write_chunk(job.envelope(write(400, model="fake/truncated:fraction=0.5"), "planner"), ports)
    finish = {e.data["attributes"]["gen_ai.response.finish_reasons"]
              for e in await outbox(owner, "generator", job.job_id, "llm.call")}
    assert "length" in finish
    assert (await stored_chunk(owner, job))["words"] >= 400


async def test_a_provider_that_only_returns_empty_replies_is_retried_then_reported_with_a_reason(generator, owner):
    ports, job = await generator(), Job()
    await write_chunk(job.envelope(write(200, model="fake/empty"), "planner"), ports)

    made = await calls(owner, job)
    assert len(made) == ports.settings.max_failures_per_chunk
    assert {(c["kept"], c["error"]) for c in made} == {(False, "empty reply")}
    assert await stored_chunk(owner, job) is None
    [processed] = await outbox(owner, "generator", job.job_id, "chunk.processed")
    assert (processed.data["output_words"], processed.data["passed"]) == (0, False)
    assert processed.data["reason"] == f"provider returned an empty reply {len(made)} times"


async def test_a_chunk_of_a_cancelled_epoch_is_stopped_before_any_call(generator, owner):
    ports, job = await generator(), Job()
    await job_cancelled(job.envelope(JobCancelled(epoch=0, chunks_done=0, words_written=0), "planner"), ports)
    await write_chunk(job.envelope(write(200), "planner"), ports)

    assert await calls(owner, job) == []
    assert await outbox(owner, "generator", job.job_id, "chunk.processed", "job.chunk_started") == []
    [stopped] = await outbox(owner, "generator", job.job_id, "job.chunk_stopped")
    assert (stopped.data["chunk_index"], stopped.data["words_discarded"]) == (0, 0)


async def test_a_chunk_is_folded_into_the_memory_once_from_the_summary_written_with_it(generator, owner):
    ports, job = await generator(), Job()
    await write_chunk(job.envelope(write(150), "planner"), ports)
    [summarize] = await outbox(owner, "generator", job.job_id, "chunk.summarize")
    await summarize_chunk(summarize, ports)
    await summarize_chunk(summarize, ports)  # a redelivery folds nothing in again

    versions = await owner.fetch("SELECT version, caused_by_chunk, made_by, summary FROM generator.coherence"
                                 " WHERE job_id = $1", job.job_id)
    assert [(v["version"], v["caused_by_chunk"], v["made_by"]) for v in versions] == [(1, 0, "inline")]
    [summarized] = await outbox(owner, "generator", job.job_id, "chunk.summarized")
    assert summarized.data | {"summary_words": 0, "ledger_entries": 0} == {
        "chunk_index": 0, "version": 1, "made_by": "inline", "fallback": "", "summary_words": 0, "ledger_entries": 0}
    assert summarized.data["summary_words"] == len(versions[0]["summary"].split()) > 0
    assert await calls(owner, job, "summarize") == []  # the summary came with the chunk: no call of its own
    first, *rest = await owner.fetch("SELECT response FROM generator.llm_calls WHERE job_id = $1 AND kept"
                                     " ORDER BY attempt", job.job_id)
    chunk = await stored_chunk(owner, job)
    assert "@@MEMORY@@" in first["response"] and "@@MEMORY@@" not in chunk["text"]  # logged whole, stored cut
    assert all("@@MEMORY@@" not in r["response"] for r in rest)  # one tail a chunk: continuations are not asked
    assert versions[0]["summary"] in " ".join(first["response"].split())  # the reply's gist, folded in


async def test_a_chunk_whose_reply_ignores_the_memory_tail_is_summarised_by_a_call_and_the_log_says_why(
        generator, owner):
    ports, job = await generator(), Job()
    await write_chunk(job.envelope(write(150, model="fake/ignore_formats"), "planner"), ports)
    [summarize] = await outbox(owner, "generator", job.job_id, "chunk.summarize")
    await summarize_chunk(summarize, ports)

    [summarized] = await outbox(owner, "generator", job.job_id, "chunk.summarized")
    assert summarized.data["made_by"] in ("prose", "code")  # the same provider ignores the summary's form too
    assert "no usable memory tail (no memory tail): summarised by a call of its own" in summarized.data["fallback"]
    assert len(await calls(owner, job, "summarize")) >= 1
    kept = [e.data["attributes"] for e in await outbox(owner, "generator", job.job_id, "llm.call")
            if e.data["attributes"]["longform.kept"] and e.data["attributes"]["longform.purpose"] == "write"]
    assert kept and all(a["longform.memory_tail"] == "no memory tail" for a in kept)


async def test_a_model_that_writes_far_past_its_ask_is_capped_near_the_budget_once_its_tokens_per_word_are_known(
        generator, owner):
    """Issue 19, part 3: an overshoot is paid for and trimmed, so max_tokens bounds it. The first
    reply of a model is capped at the generous default rate (2 tokens a word) and teaches the
    model's rate; from then on a reply ends about 5 % and 64 tokens past the words still needed. The memory
    tail that the cap cut off is made up in code, not by a call that would cost more."""
    ports, overshooting = await generator(), "fake/random_length:min=1.8,max=1.8"  # 1.8x what is asked
    jobs = [Job() for _ in range(3)]
    for job in jobs:
        await write_chunk(job.envelope(write(400, model=overshooting), "planner"), ports)
    first, *later = [[e.data["attributes"] for e in await outbox(owner, "generator", job.job_id, "llm.call")]
                     for job in jobs]

    assert first[0]["gen_ai.request.max_tokens"] == (400 * 1.05 + 60) * 2.0 + 64  # the default rate
    assert first[0]["gen_ai.usage.output_tokens"] > 1.7 * 400 * 4 / 3  # it let the reply run: most of it trimmed
    for made in later:
        [reply] = made  # no continuation was needed
        assert reply["gen_ai.request.max_tokens"] <= (400 * 1.05 + 60) * 4 / 3 + 64 + 2 < first[0][
            "gen_ai.request.max_tokens"]
        assert reply["gen_ai.response.finish_reasons"] == "length"
        assert reply["gen_ai.usage.output_tokens"] <= 1.35 * 400 * 4 / 3  # of the 1.8x (room for the tail included)
    for job in jobs:
        assert (await stored_chunk(owner, job))["words"] >= 400

    capped = jobs[1]
    [summarize] = await outbox(owner, "generator", capped.job_id, "chunk.summarize")
    await summarize_chunk(summarize, ports)
    [summarized] = await outbox(owner, "generator", capped.job_id, "chunk.summarized")
    assert summarized.data["made_by"] == "code"
    assert "ran into its max_tokens (cut short before its memory tail)" in summarized.data["fallback"]
    assert await calls(owner, capped, "summarize") == []


async def test_a_model_written_to_with_the_lean_prompt_is_not_asked_for_summaries(generator, owner):
    """A model that echoes the full write prompt (a small base model) echoes the summary prompt,
    which is all state and instructions, too: its memory is made in code, and the log says why."""
    ports, job, model = await generator(), Job(), "fake/ignore_formats"
    for chunk in range(LEAN_AFTER):  # it echoed the full prompt in earlier chunks of this process
        ports.echoes.echoed(model, "an earlier job", chunk)
    await write_chunk(job.envelope(write(150, model=model), "planner"), ports)
    [summarize] = await outbox(owner, "generator", job.job_id, "chunk.summarize")
    await summarize_chunk(summarize, ports)

    [summarized] = await outbox(owner, "generator", job.job_id, "chunk.summarized")
    assert summarized.data["made_by"] == "code"
    assert f"{model} echoed the full write prompt in {LEAN_AFTER} chunks" in summarized.data["fallback"]
    assert await calls(owner, job, "summarize") == []
    prompts = [e.data["attributes"]["longform.prompt"] for e in await outbox(owner, "generator", job.job_id, "llm.call")]
    assert prompts and set(prompts) == {"lean"}


async def test_a_summariser_with_nothing_usable_leaves_a_memory_made_in_code_through_the_handler(generator, owner):
    ports, job = await generator(), Job()
    await write_chunk(job.envelope(write(150, model="fake/ignore_formats"), "planner"), ports)  # no memory tail
    await summarize_chunk(job.envelope(SummarizeChunk(chunk_index=0, model="fake/empty"), "generator"), ports)

    [summarized] = await outbox(owner, "generator", job.job_id, "chunk.summarized")
    assert summarized.data["made_by"] == "code"
    assert "no usable summary in 3 attempts (last: empty reply)" in summarized.data["fallback"]
    assert [c["kept"] for c in await calls(owner, job, "summarize")] == [False, False, False]
    assert await owner.fetchval("SELECT made_by FROM generator.coherence WHERE job_id = $1", job.job_id) == "code"


async def test_a_summariser_with_nothing_usable_leaves_a_memory_made_in_code(generator) -> None:
    """Moved from tests/integration/test_memory_step.py, which started the whole stack for it."""
    ports = await generator()
    made = await remember(ports.llm, ports.db, ports.settings, Memory(summary="Ada leaves the mill town."), CHUNK,
                          job_id=uuid.uuid4(), user_id=None, chunk_index=0, model="fake/empty")
    assert made.made_by == "code" and "no usable summary in 3 attempts (last: empty reply)" in made.fallback
    assert made.memory.summary == ("Ada leaves the mill town. Ada reached the river at dusk. "
                                   "By noon she had found the bridge the old maps promised.")
