"""The planner's handlers on a real database: a requested job becomes a plan whose budgets cover
its target and whose first chunks are dispatched; each chunk's report dispatches what comes next,
then the assembly; a failed chunk fails the job; a redelivered message changes nothing."""

import pytest

from contracts.envelope import derived_id
from contracts.messages import (
    CancelJob, ChunkProcessed, ChunkSummarized, ExtendJob, JobRequested,
)
from services.planner.handlers import cancel_job, chunk_processed, chunk_summarized, extend_job, plan_job
from tests.handler.effects import Job, effects, outbox

INSTRUCTIONS = "A field guide to imaginary rivers, one river per section."


def requested(target: int, **fields) -> JobRequested:
    return JobRequested(mode="generate", title="Imaginary rivers", instructions=INSTRUCTIONS,
                        target_words=target, **fields)


async def planned_chunks(owner, job: Job) -> list:
    return await owner.fetch("SELECT chunk_index, section_index, budget_words, status, words FROM planner.chunks"
                             " WHERE job_id = $1 ORDER BY chunk_index", job.job_id)


async def plan_state(owner, job: Job):
    return await owner.fetchrow("SELECT * FROM planner.plans WHERE job_id = $1", job.job_id)


def first_of_each_section(chunks: list, sections: int) -> list[int]:
    firsts: dict[int, int] = {}
    for chunk in chunks:
        firsts.setdefault(chunk["section_index"], chunk["chunk_index"])
    return sorted(firsts.values())[:sections]


def report(write, words: int | None = None) -> ChunkProcessed:
    """The generator's report of a dispatched chunk, `words` written (its budget unless said)."""
    budget = write.data["budget_words"]
    written = budget if words is None else words
    return ChunkProcessed(chunk_index=write.data["chunk_index"], budget_words=budget, output_words=written,
                          passed=written >= budget, attempts=1,
                          reason="" if written else "provider returned an empty reply 9 times")


async def test_a_requested_job_gets_budgets_covering_its_target_and_its_first_sections_dispatched(planner, owner):
    ports, job = await planner(section_width=2, chunk_words=400), Job()
    await plan_job(job.envelope(requested(6000), "gateway"), ports)

    plan = await plan_state(owner, job)
    assert (plan["state"], plan["outline_source"], plan["width"]) == ("writing", "llm", 2)
    chunks = await planned_chunks(owner, job)
    assert sum(c["budget_words"] for c in chunks) >= 6000
    assert all(0 < c["budget_words"] <= 400 for c in chunks)
    assert len({c["section_index"] for c in chunks}) >= 2
    [planned] = await outbox(owner, "planner", job.job_id, "job.planned")
    assert planned.data | {"fallback": ""} == {
        "sections": len({c["section_index"] for c in chunks}), "chunks_total": len(chunks),
        "planned_words": sum(c["budget_words"] for c in chunks), "outline_source": "llm", "fallback": ""}
    writes = await outbox(owner, "planner", job.job_id, "chunk.write")
    dispatched = first_of_each_section(chunks, 2)
    assert [w.data["chunk_index"] for w in writes] == dispatched
    budgets = {c["chunk_index"]: c["budget_words"] for c in chunks}
    assert all(w.data["budget_words"] == budgets[w.data["chunk_index"]] for w in writes)
    assert [c["chunk_index"] for c in chunks if c["status"] == "dispatched"] == dispatched
    calls = await owner.fetch("SELECT purpose, kept FROM planner.llm_calls WHERE job_id = $1", job.job_id)
    assert [(c["purpose"], c["kept"]) for c in calls] == [("outline", True)]


async def test_a_redelivered_job_request_is_neither_planned_nor_asked_of_the_llm_again(planner, owner):
    ports, job = await planner(), Job()
    request = job.envelope(requested(1500), "gateway")
    await plan_job(request, ports)
    before = await effects(owner, "planner", job.job_id)
    await plan_job(request, ports)
    assert await effects(owner, "planner", job.job_id) == before
    assert await owner.fetchval("SELECT count(*) FROM planner.llm_calls WHERE job_id = $1", job.job_id) == 1


@pytest.mark.parametrize("target", [40, 800])
async def test_a_target_of_one_chunk_is_planned_without_the_llm(planner, owner, target):
    ports, job = await planner(), Job()
    await plan_job(job.envelope(requested(target), "gateway"), ports)
    assert (await plan_state(owner, job))["outline_source"] == "single"
    [write] = await outbox(owner, "planner", job.job_id, "chunk.write")
    assert (write.data["chunk_index"], write.data["budget_words"], write.data["last"]) == (0, target, True)
    assert await owner.fetchval("SELECT count(*) FROM planner.llm_calls WHERE job_id = $1", job.job_id) == 0
    assert await owner.fetchval("SELECT count(*) FROM planner.llm_calls WHERE job_id = $1", job.job_id) == 0


async def test_a_chunk_written_dispatches_the_next_of_its_section_which_follows_its_memory(planner, owner):
    ports, job = await planner(chunk_words=200), Job()
    await plan_job(job.envelope(requested(1000), "gateway"), ports)
    [first] = await outbox(owner, "planner", job.job_id, "chunk.write")
    await chunk_processed(job.envelope(report(first), "generator"), ports)

    chunks = {c["chunk_index"]: c for c in await planned_chunks(owner, job)}
    assert (chunks[0]["status"], chunks[0]["words"]) == ("done", first.data["budget_words"])
    [_, second] = await outbox(owner, "planner", job.job_id, "chunk.write")
    assert (second.data["chunk_index"], second.data["previous_chunk_index"]) == (1, 0)
    assert chunks[1]["status"] == "dispatched"


def folded(write) -> ChunkSummarized:
    """The generator's report that a written chunk is folded into the memory."""
    return ChunkSummarized(chunk_index=write.data["chunk_index"], version=write.data["chunk_index"] + 1,
                           summary_words=40, ledger_entries=3, made_by="code")


async def written_and_folded(job: Job, write, ports) -> None:
    await chunk_processed(job.envelope(report(write), "generator"), ports)
    await chunk_summarized(job.envelope(folded(write), "generator"), ports)


async def test_every_chunk_written_asks_for_the_assembly_once_each_chunk_was_dispatched_once(planner, owner):
    ports, job = await planner(section_width=2, chunk_words=300), Job()
    await plan_job(job.envelope(requested(2500), "gateway"), ports)
    answered: set = set()
    while unanswered := [w for w in await outbox(owner, "planner", job.job_id, "chunk.write")
                         if w.event_id not in answered]:
        for write in unanswered:
            answered.add(write.event_id)
            await written_and_folded(job, write, ports)

    chunks = await planned_chunks(owner, job)
    writes = await outbox(owner, "planner", job.job_id, "chunk.write")
    assert sorted(w.data["chunk_index"] for w in writes) == [c["chunk_index"] for c in chunks]
    assert {c["status"] for c in chunks} == {"done"}
    assert writes[-1].data["last"] and not any(w.data["last"] for w in writes[:-1])
    [assemble] = await outbox(owner, "planner", job.job_id, "document.assemble")
    assert assemble.data == {"target_words": 2500, "round": 1, "headings": True}
    assert (await plan_state(owner, job))["state"] == "assembling"


async def test_a_chunk_that_could_not_be_written_fails_the_job_with_a_reason_to_resume(planner, owner):
    ports, job = await planner(chunk_words=200), Job()
    await plan_job(job.envelope(requested(1000), "gateway"), ports)
    [first] = await outbox(owner, "planner", job.job_id, "chunk.write")
    await chunk_processed(job.envelope(report(first, words=0), "generator"), ports)

    assert (await plan_state(owner, job))["state"] == "failed"
    [failed] = await outbox(owner, "planner", job.job_id, "job.failed")
    assert failed.data["words"] == 0
    assert failed.data["reason"].startswith(f"provider returned an empty reply 9 times for “{first.data['section_title']}”")
    assert failed.data["reason"].endswith(f"resume with POST /v1/jobs/{job.job_id}/resume")
    assert len(await outbox(owner, "planner", job.job_id, "chunk.write")) == 1
    assert [c["status"] for c in await planned_chunks(owner, job)][0] == "failed"


async def test_a_redelivered_chunk_report_dispatches_nothing_more(planner, owner):
    ports, job = await planner(chunk_words=200), Job()
    await plan_job(job.envelope(requested(1000), "gateway"), ports)
    [first] = await outbox(owner, "planner", job.job_id, "chunk.write")
    processed = job.envelope(report(first), "generator")
    await chunk_processed(processed, ports)
    before = await effects(owner, "planner", job.job_id)
    await chunk_processed(processed, ports)
    assert await effects(owner, "planner", job.job_id) == before


async def test_a_cancelled_job_keeps_a_late_chunk_and_dispatches_nothing_more(planner, owner):
    ports, job = await planner(chunk_words=200), Job()
    await plan_job(job.envelope(requested(1000), "gateway"), ports)
    [first] = await outbox(owner, "planner", job.job_id, "chunk.write")
    await cancel_job(job.envelope(CancelJob(), "gateway"), ports)

    plan = await plan_state(owner, job)
    assert (plan["state"], plan["epoch"]) == ("cancelled", 1)
    [cancelled] = await outbox(owner, "planner", job.job_id, "job.cancelled")
    assert (cancelled.data["epoch"], cancelled.data["chunks_done"]) == (0, 0)
    await chunk_processed(job.envelope(report(first), "generator"), ports)
    assert [c["status"] for c in await planned_chunks(owner, job)][0] == "done"
    assert len(await outbox(owner, "planner", job.job_id, "chunk.write")) == 1


async def test_a_short_document_gets_extension_chunks_after_the_last_and_they_are_dispatched(planner, owner):
    ports, job = await planner(chunk_words=200), Job()
    await plan_job(job.envelope(requested(40), "gateway"), ports)
    [write] = await outbox(owner, "planner", job.job_id, "chunk.write")
    await written_and_folded(job, write, ports)
    extend = job.envelope(ExtendJob(missing_words=300, words=40, round=1), "assembler")
    await extend_job(extend, ports)

    chunks = await planned_chunks(owner, job)
    added = [c for c in chunks if c["chunk_index"] > 0]
    assert sum(c["budget_words"] for c in added) >= 300
    [extended] = await outbox(owner, "planner", job.job_id, "job.extended")
    assert extended.data == {"chunks_added": len(added), "words_added": sum(c["budget_words"] for c in added),
                             "chunks_total": len(chunks), "round": 1}
    next_write = (await outbox(owner, "planner", job.job_id, "chunk.write"))[-1]
    assert next_write.data["chunk_index"] == 1
    assert next_write.event_id == derived_id(extend.event_id, "chunk.write", 1)
    plan = await plan_state(owner, job)
    assert (plan["state"], plan["extension_round"]) == ("writing", 1)


async def test_the_assembly_waits_for_the_last_chunk_folded_into_the_memory(planner, owner):
    """Summaries come in any order with the chunks' reports; the assembly is asked once, when the
    last of both has come, so no step of the job is left when it completes."""
    ports, job = await planner(section_width=2, chunk_words=300), Job()
    await plan_job(job.envelope(requested(1200), "gateway"), ports)
    answered: set = set()
    held = []
    while unanswered := [w for w in await outbox(owner, "planner", job.job_id, "chunk.write")
                         if w.event_id not in answered]:
        for write in unanswered:
            answered.add(write.event_id)
            await chunk_processed(job.envelope(report(write), "generator"), ports)
            held.append(write)
    first, *rest = held
    for write in rest:  # a summary that comes before its chunk's report counts as well
        await chunk_summarized(job.envelope(folded(write), "generator"), ports)
    assert await outbox(owner, "planner", job.job_id, "document.assemble") == []
    assert (await plan_state(owner, job))["state"] == "writing"

    last = job.envelope(folded(first), "generator")
    await chunk_summarized(last, ports)
    await chunk_summarized(last, ports)  # a redelivery asks for nothing more
    [assemble] = await outbox(owner, "planner", job.job_id, "document.assemble")
    assert assemble.data["round"] == 1
    assert (await plan_state(owner, job))["state"] == "assembling"
