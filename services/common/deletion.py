"""The owner's hard delete, as each service carries it out in its own schema."""

from contracts.envelope import Envelope, derived_id
from contracts.messages import DeleteJob, JobDataDeleted
from services.common.db import Database


async def erase_job_rows(db: Database, service: str, envelope: Envelope) -> None:
    """Every row of the job in this service's schema goes (and no late write can bring one back:
    migrations/0010_cancel_delete.sql); the account's log says how many rows each table lost."""
    envelope.payload(DeleteJob)
    async with db.transaction(user_id=envelope.user_id) as tx:  # the job's own log is being erased
        if not await tx.claim(envelope.event_id):
            return
        rows = await tx.fetchval("SELECT longform_meta.erase_job_rows($1, $2)", db.schema, envelope.job_id)
        tx.emit(Envelope.wrap(JobDataDeleted(job_id=envelope.job_id, rows=rows), service=service, job_id=None,
                              user_id=envelope.user_id, event_id=derived_id(envelope.event_id, JobDataDeleted.TYPE, service)))
