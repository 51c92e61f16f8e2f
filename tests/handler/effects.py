"""What a handler did, read back as the database's owner: the events its transaction wrote to
its service's outbox (no relay runs in this tier, so they stay there), and a job to drive."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import asyncpg

from contracts.envelope import Envelope, Message
from services.audit.arrivals import Arrived, arrived


@dataclass(frozen=True)
class Job:
    """A fresh job (tests share one database without cleaning up), and envelopes of its messages
    as the service that owns each would send them."""
    job_id: uuid.UUID = field(default_factory=uuid.uuid4)
    user_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def envelope(self, message: Message, service: str) -> Envelope:
        return Envelope.wrap(message, service=service, job_id=self.job_id, user_id=self.user_id)


def off_the_bus(envelopes: list[Envelope]) -> list[Arrived]:
    """Envelopes as the audit service takes them off the bus (services/audit/arrivals.py)."""
    return [arrived(e.model_dump_json().encode()) for e in envelopes]


async def outbox(owner: asyncpg.Connection, service: str, job_id: uuid.UUID, *types: str) -> list[Envelope]:
    """The events `service` committed for the job, in commit order (of `types` only, if named)."""
    rows = await owner.fetch(
        f"SELECT payload::text AS payload FROM {service}.outbox WHERE payload->>'job_id' = $1 ORDER BY id",
        str(job_id))
    events = [Envelope.model_validate_json(r["payload"]) for r in rows]
    return [e for e in events if not types or e.type in types]


AUDIT_TRAIL = ("db.query", "db.row_inserted", "db.row_updated")  # what every audited transaction writes


async def effects(owner: asyncpg.Connection, service: str, job_id: uuid.UUID) -> list[Envelope]:
    """The events `service` emitted for the job, less the audit trail of its statements (a handler
    that does nothing on a redelivery still records the read that told it so)."""
    return [e for e in await outbox(owner, service, job_id) if e.type not in AUDIT_TRAIL]
