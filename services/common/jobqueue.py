"""A running job's place in the per-user job queue (longform_meta.job_queue, migrations/0038; the
gateway admits jobs into it: services/gateway/queue.py) given on when it ends: the planner's, in
the transaction that records its end; the gateway's, in the one that deletes it. The owner's
oldest queued job gets it, and its job.requested is sent then: no process polls the queue. The
owner's advisory lock orders this with submits and with the owner's other ends, and a job moves
from active to ended once, so each end starts at most one job, and each queued job starts once
(its job.requested's id is derived from the job's, as the gateway's is)."""

import uuid

from contracts.envelope import Envelope, derived_id
from contracts.messages import JobRequested
from services.common.db import Tx


async def job_ended(tx: Tx, job_id: uuid.UUID, service: str) -> None:
    """The job completed, failed or was cancelled: the next queued job of its owner starts."""
    owner = await _locked_owner(tx, job_id)
    if owner is None:
        return
    if not await tx.fetchval("UPDATE longform_meta.job_queue SET state = 'ended'"
                             " WHERE job_id = $1 AND state = 'active' RETURNING true", job_id):
        return  # ended before (a redelivery, a second failure), or never ran through the queue
    row = await tx.fetchrow(
        "UPDATE longform_meta.job_queue SET state = 'active' WHERE job_id = ("
        " SELECT job_id FROM longform_meta.job_queue WHERE user_id = $1 AND state = 'queued'"
        " ORDER BY queued_at, job_id LIMIT 1) RETURNING job_id, request", owner)
    if row is not None:
        tx.emit(Envelope.wrap(JobRequested.model_validate(row["request"]), service=service, job_id=row["job_id"],
                              user_id=owner, event_id=derived_id(row["job_id"], JobRequested.TYPE)))


async def cancel_queued(tx: Tx, job_id: uuid.UUID) -> bool:
    """Takes a job out of its owner's queue; False when it is not waiting there (started, or never queued)."""
    if await _locked_owner(tx, job_id) is None:
        return False
    return bool(await tx.fetchval("UPDATE longform_meta.job_queue SET state = 'cancelled'"
                                  " WHERE job_id = $1 AND state = 'queued' RETURNING true", job_id))


async def lock_owner(tx: Tx, user_id: uuid.UUID) -> None:
    """The owner's queue lock, until the transaction ends: submits and ends take it first."""
    await tx.execute("SELECT pg_advisory_xact_lock(longform_meta.queue_lock_key($1))", user_id)


async def _locked_owner(tx: Tx, job_id: uuid.UUID) -> uuid.UUID | None:
    owner = await tx.fetchval("SELECT user_id FROM longform_meta.job_queue WHERE job_id = $1", job_id)
    if owner is not None:
        await lock_owner(tx, owner)
    return owner
