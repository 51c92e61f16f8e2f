"""Every event on the bus: persist a batch in one transaction (acked only after commit), then
fan each persisted event out to live listeners. The audit service's own writes are recorded
too, as one `db.query` event per stream per batch, appended directly (not through the bus,
which would recurse without end)."""

from dataclasses import dataclass

from contracts.auditlog import encode_line
from contracts.envelope import Envelope
from contracts.messages import DbQueried, SqlStatement
from services.audit import store
from services.common.bus import Bus
from services.common.db import Database, Statement

SERVICE = "audit"


@dataclass(frozen=True)
class Ports:
    db: Database
    bus: Bus


async def record_events(envelopes: list[Envelope], ports: Ports) -> None:
    async with ports.db.transaction() as tx:
        lines = await store.append_batch(tx, envelopes)
        heads = {store.stream_of_line(line): line for line in lines}
        own = list(tx.statements)  # the batch's statements, recorded in each stream it touched
        lines += await store.append_batch(tx, [_own_writes(head, own) for head in heads.values()])
    for line in lines:
        await ports.bus.publish_live(store.stream_of_line(line), encode_line(line))


def _own_writes(first: dict, statements: list[Statement]) -> Envelope:
    query = DbQueried(statements=[
        SqlStatement(sql=s.sql, tables=s.tables, rows=s.rows, duration_ms=s.duration_ms, error=s.error)
        for s in statements
    ])
    return Envelope.wrap(query, service=SERVICE, job_id=first["job_id"], user_id=first["user_id"])
