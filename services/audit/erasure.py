"""The owner's delete, on the audit side: a job's events are erased (through audit.erase_job, the
only way an event is ever deleted), the job is remembered in audit.erased_jobs so that a late
event of it is dropped rather than stored, and a `job.deleted` tombstone goes to the account's log."""

import uuid

from contracts.envelope import Envelope, derived_id
from contracts.messages import DeleteJob, JobDeleted
from services.common.db import Tx

SERVICE = "audit"


async def erase_deleted_jobs(tx: Tx, envelopes: list[Envelope]) -> tuple[list[Envelope], list[Envelope]]:
    """The batch without the events of erased jobs (erased before, or by this batch), and the
    tombstones of the jobs this batch erases."""
    jobs = list({e.job_id for e in envelopes if e.job_id})
    if not jobs:
        return envelopes, []
    # Ordered against audit.erase_job in another transaction, by the same per-job lock.
    await tx.execute("SELECT pg_advisory_xact_lock_shared(longform_meta.job_lock_key(j))"
                     " FROM unnest($1::uuid[]) AS j ORDER BY j", jobs)
    erased = {r["job_id"] for r in await tx.fetch(
        "SELECT job_id FROM audit.erased_jobs WHERE job_id = ANY($1::uuid[])", jobs)}
    tombstones = []
    for request in (e for e in envelopes if e.type == DeleteJob.TYPE and e.job_id not in erased):
        tombstones.append(await _erase(tx, request))
        erased.add(request.job_id)
    return [e for e in envelopes if e.job_id not in erased], tombstones


async def _erase(tx: Tx, request: Envelope) -> Envelope:
    job_id: uuid.UUID = request.job_id
    title = await tx.fetchval("SELECT title FROM audit.job_state WHERE job_id = $1", job_id) or ""
    events = await tx.fetchval("SELECT audit.erase_job($1)", job_id)
    await tx.execute("INSERT INTO audit.erased_jobs (job_id, user_id, events) VALUES ($1, $2, $3)",
                     job_id, request.user_id, events)
    return Envelope.wrap(JobDeleted(job_id=job_id, title=title, events_erased=events), service=SERVICE,
                         job_id=None, user_id=request.user_id, event_id=derived_id(request.event_id, JobDeleted.TYPE))
