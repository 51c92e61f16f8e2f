"""On start, the planner picks up the jobs it owns: every job still `writing` (or, for an analysis,
`noting`: services/planner/analysis.py `recover`) is moved on from the database alone, without
waiting for a message. A chunk the generator stored (or folded into the memory) whose report
has not reached the planner (it died before handling it, or the report is still on its way) is
marked done (or summarized), and the next chunks, or the assembly, are dispatched; a job with nothing in flight (its
messages lost) is dispatched again. Both steps are the ones a report would take, under the plan's
row lock, so the report arriving later changes nothing. A chunk in flight at the generator is left
to it: its message comes back to a generator after the consumer's AckWait."""

import asyncio
import logging
import uuid

from contracts.envelope import Envelope, derived_id
from contracts.jobstate import JobStatus
from contracts.messages import JobResumed
from contracts.steps import bind_step
from services.planner import analysis, passages, store

log = logging.getLogger(__name__)


async def resume_owned(ports, dispatch) -> None:
    """Run once on start when the planner's consumers held messages delivered and never
    acknowledged (a planner died holding them; a first start reads nothing); a failure is tried
    again by the runtime. Then idle for the process's life."""
    await _resume_all(ports, dispatch)
    await asyncio.Event().wait()


async def _resume_all(ports, dispatch) -> None:
    bind_step("resume")  # what a job's log shows of its pick-up on start
    async with ports.db.transaction(system=True) as tx:  # the scan itself: in the system stream
        jobs = await store.writing_jobs(tx)
        noting = await passages.noting_jobs(tx)
    resumed = 0
    for job_id, user_id in jobs:  # each job's log holds the read that found it
        resumed += await _resume(ports, dispatch, job_id, user_id, tx.statements)
    for job_id, user_id in noting:  # analyses still noting their source's passages
        resumed += await analysis.recover(ports, job_id, user_id, tx.statements)
    log.info("on start: %d jobs writing or noting, %d moved on from the database", len(jobs) + len(noting), resumed)


async def _resume(ports, dispatch, job_id: uuid.UUID, user_id: uuid.UUID, found_by: list) -> bool:
    async with ports.db.transaction(job_id=job_id, user_id=user_id) as tx:
        tx.statements.extend(found_by)
        plan = await store.lock_plan(tx, job_id)
        if plan is None or plan["state"] != JobStatus.WRITING:
            return False
        caught_up = await store.catch_up_stored(tx, job_id) + await store.catch_up_folded(tx, job_id)
        if not caught_up and await store.in_flight(tx, job_id):
            return False  # reports and writes are on their way: nothing is stuck
        done = await store.done_count(tx, job_id)
        resumed = Envelope.wrap(JobResumed(chunks_reset=0, reason="crash_recovery"), service="planner",
                                job_id=job_id, user_id=user_id,
                                event_id=derived_id(job_id, JobResumed.TYPE, "on start", plan["epoch"], done))
        tx.emit(resumed)
        await dispatch(tx, resumed, await store.lock_plan(tx, job_id))
        return True
