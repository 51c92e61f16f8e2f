"""The plan moves only along contracts/jobstate.py's PLAN_MOVES: the planner completes its plan
with the document; a cancel while assembling waits for the assembler's verdict; a completed plan
takes no cancel, failure or resume; a move the table does not allow raises."""

import pytest

from contracts.jobstate import IllegalMove, JobStatus
from contracts.messages import CancelJob, CompleteJob, ExtendJob, JobFailed, ResumeJob
from services.planner import store
from services.planner.handlers import (
    cancel_job, complete_job, extend_job, job_failed, plan_job, resume_job,
)
from tests.handler.effects import Job, effects, outbox
from tests.handler.test_planner_handlers import plan_state, requested, written_and_folded


async def _assembling(planner, owner):
    """A one-chunk job whose chunk is written: its plan waits for the assembler."""
    ports, job = await planner(chunk_words=200), Job()
    await plan_job(job.envelope(requested(40), "gateway"), ports)
    [write] = await outbox(owner, "planner", job.job_id, "chunk.write")
    await written_and_folded(job, write, ports)
    assert (await plan_state(owner, job))["state"] == "assembling"
    return ports, job


async def test_the_plan_completes_with_its_document_and_then_takes_no_command(planner, owner):
    ports, job = await _assembling(planner, owner)
    await complete_job(job.envelope(CompleteJob(words=45, target_words=40), "assembler"), ports)
    assert (await plan_state(owner, job))["state"] == "completed"
    [completed] = await outbox(owner, "planner", job.job_id, "job.completed")  # said with the plan's move
    assert completed.data == {"words": 45, "target_words": 40, "heading_words": 0}
    assert (await effects(owner, "planner", job.job_id))[-1].type == "job.completed"  # the transaction's last

    before = await effects(owner, "planner", job.job_id)
    await cancel_job(job.envelope(CancelJob(), "gateway"), ports)
    await job_failed(job.envelope(JobFailed(reason="late", words=0), "generator"), ports)
    await resume_job(job.envelope(ResumeJob(), "gateway"), ports)
    plan = await plan_state(owner, job)
    assert (plan["state"], plan["epoch"]) == ("completed", 0)
    assert await effects(owner, "planner", job.job_id) == before


async def test_a_cancel_while_assembling_lets_a_document_at_its_target_complete(planner, owner):
    ports, job = await _assembling(planner, owner)
    await cancel_job(job.envelope(CancelJob(), "gateway"), ports)
    assert (await plan_state(owner, job))["state"] == "cancelling"
    assert await outbox(owner, "planner", job.job_id, "job.cancelled") == []
    await complete_job(job.envelope(CompleteJob(words=45, target_words=40), "assembler"), ports)
    assert (await plan_state(owner, job))["state"] == "completed"
    assert await outbox(owner, "planner", job.job_id, "job.cancelled") == []


async def test_a_cancel_while_assembling_stops_a_short_document_instead_of_extending_it(planner, owner):
    ports, job = await _assembling(planner, owner)
    await cancel_job(job.envelope(CancelJob(), "gateway"), ports)
    chunks_before = await owner.fetchval("SELECT count(*) FROM planner.chunks WHERE job_id = $1", job.job_id)
    await extend_job(job.envelope(ExtendJob(missing_words=300, words=40, round=1), "assembler"), ports)

    plan = await plan_state(owner, job)
    assert (plan["state"], plan["epoch"]) == ("cancelled", 1)
    [cancelled] = await outbox(owner, "planner", job.job_id, "job.cancelled")
    assert (cancelled.data["epoch"], cancelled.data["chunks_done"], cancelled.data["words_written"]) == (0, 1, 40)
    assert await outbox(owner, "planner", job.job_id, "job.extended") == []
    assert await owner.fetchval("SELECT count(*) FROM planner.chunks WHERE job_id = $1", job.job_id) == chunks_before

    await resume_job(job.envelope(ResumeJob(), "gateway"), ports)  # a resume continues it: every chunk is
    assert (await plan_state(owner, job))["state"] == "assembling"  # written, so it asks for the assembly again
    assert len(await outbox(owner, "planner", job.job_id, "document.assemble")) == 2


async def test_a_failure_while_cancelling_fails_the_plan(planner, owner):
    ports, job = await _assembling(planner, owner)
    await cancel_job(job.envelope(CancelJob(), "gateway"), ports)
    await job_failed(job.envelope(JobFailed(reason="document still short", words=40), "assembler"), ports)
    assert (await plan_state(owner, job))["state"] == "failed"


@pytest.mark.parametrize("to", [JobStatus.COMPLETED, JobStatus.CANCELLING, JobStatus.ASSEMBLING])
async def test_a_move_the_table_does_not_allow_raises_and_changes_nothing(planner, owner, to):
    ports, job = await planner(chunk_words=200), Job()
    await plan_job(job.envelope(requested(1000), "gateway"), ports)  # writing, chunks still to write
    if to == JobStatus.ASSEMBLING:
        await job_failed(job.envelope(JobFailed(reason="x", words=0), "generator"), ports)  # failed -> assembling
    before = (await plan_state(owner, job))["state"]
    with pytest.raises(IllegalMove):
        async with ports.db.transaction(job_id=job.job_id, user_id=job.user_id) as tx:
            await store.move(tx, job.job_id, to)
    assert (await plan_state(owner, job))["state"] == before
