"""The owner's delete, on the audit side. The delete request (`job.delete_requested`) is appended
to the job's log like any event; then audit.erase_job, the only way an event is ever deleted,
checks that request in the log, erases the job's events and keeps a tombstone row with the log's
final seq and chain head; a `job.deleted` event carrying them goes to the account's log. A late
event of an erased job is dropped rather than stored."""

import uuid

from contracts.envelope import Envelope, derived_id
from contracts.messages import DeleteJob, JobDeleted
from services.audit.arrivals import Arrived
from services.common.db import Tx

SERVICE = "audit"


async def drop_erased(tx: Tx, events: list[Arrived]) -> tuple[list[Arrived], list[Arrived]]:
    """The batch without the events of jobs erased before, and the delete requests in it (one per job)."""
    jobs = list({e.job_id for e in events if e.job_id})
    if not jobs:
        return events, []
    # Ordered against audit.erase_job in another transaction, by the same per-job lock.
    await tx.execute("SELECT pg_advisory_xact_lock_shared(longform_meta.job_lock_key(j))"
                     " FROM unnest($1::uuid[]) AS j ORDER BY j", jobs)
    erased = {r["job_id"] for r in await tx.fetch(
        "SELECT job_id FROM audit.erased_jobs WHERE job_id = ANY($1::uuid[])", jobs)}
    kept = [e for e in events if e.job_id not in erased]
    requests = {e.job_id: e for e in reversed(kept) if e.type == DeleteJob.TYPE}
    return kept, list(requests.values())


async def erase(tx: Tx, requests: list[Arrived]) -> list[Arrived]:
    """Erases each requested job's log (its request now in it); returns the tombstones."""
    return [await _erase(tx, request) for request in requests]


async def _erase(tx: Tx, request: Arrived) -> Arrived:
    job_id: uuid.UUID = request.job_id
    title = await tx.fetchval("SELECT title FROM audit.job_state WHERE job_id = $1", job_id) or ""
    erased = await tx.fetchrow("SELECT * FROM audit.erase_job($1, $2)", job_id, request.event_id)
    tombstone = JobDeleted(job_id=job_id, title=title, events_erased=erased["events"],
                           request_event_id=request.event_id, final_seq=erased["final_seq"],
                           final_hash=bytes(erased["final_hash"]).hex() if erased["final_hash"] else None)
    return Arrived.of(Envelope.wrap(tombstone, service=SERVICE, job_id=None, user_id=request.user_id,
                                    event_id=derived_id(request.event_id, JobDeleted.TYPE), step=request.step))
