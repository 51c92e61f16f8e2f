"""The gateway's side of the per-user job queue (longform_meta.job_queue, migrations/0038): a new
job starts at once while its owner has fewer than `max_active_jobs_per_user` running and none
waiting; else it waits, in submit order, up to `max_queued_jobs_per_user`; beyond that it is
refused (429) and nothing is stored. The planner starts the oldest waiting job in the transaction
that ends one of the owner's running jobs (services/common/jobqueue.py). Both take the owner's
advisory lock first, so a submit and an end never decide on the same counts."""

import uuid
from dataclasses import dataclass

from fastapi import HTTPException

from contracts.messages import JobRequested
from services.common.db import Tx
from services.common.jobqueue import lock_owner
from services.gateway.config import GatewaySettings

# A queued job waits for a running one to end, which takes minutes: a client told 429 comes back later.
RETRY_AFTER_SECONDS = 60


@dataclass(frozen=True)
class Caps:
    active: int  # 0: no cap, every job starts at once
    queued: int

    @classmethod
    def of(cls, settings: GatewaySettings) -> "Caps":
        return cls(settings.max_active_jobs_per_user, settings.max_queued_jobs_per_user)


NO_CAP = Caps(0, 0)


class QueueFull(HTTPException):
    def __init__(self, caps: Caps) -> None:
        super().__init__(429, f"you have {caps.active} jobs running and {caps.queued} waiting, the most this server"
                              f" takes from one account: submit this job again when one of them has ended (cancel"
                              f" one to make room now); try again in {RETRY_AFTER_SECONDS} s",
                         headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


async def place_for(tx: Tx, user_id: uuid.UUID, caps: Caps) -> int:
    """0 when the job may start now, else its place in its owner's queue; QueueFull when it is full."""
    if caps.active <= 0:
        return 0
    await lock_owner(tx, user_id)
    row = await tx.fetchrow(
        "SELECT count(*) FILTER (WHERE state = 'active') AS active, count(*) FILTER (WHERE state = 'queued') AS queued"
        " FROM longform_meta.job_queue WHERE user_id = $1 AND state IN ('active', 'queued')", user_id)
    if row["queued"] == 0 and row["active"] < caps.active:
        return 0
    if row["queued"] >= caps.queued:
        raise QueueFull(caps)
    return row["queued"] + 1


async def record(tx: Tx, job_id: uuid.UUID, user_id: uuid.UUID, request: JobRequested, place: int) -> None:
    await tx.execute("INSERT INTO longform_meta.job_queue (job_id, user_id, state, request) VALUES ($1, $2, $3, $4)",
                     job_id, user_id, "queued" if place else "active", request.model_dump(mode="json"))
