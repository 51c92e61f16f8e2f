"""Every event on the bus: persist a batch in one transaction (acked only after commit), then
fan each persisted event out to live listeners. The audit service's own writes are recorded
too, as one `db.query` event per stream per batch, appended directly (not through the bus)."""

from dataclasses import dataclass

from contracts.auditlog import encode_line
from contracts.envelope import Envelope
from contracts.messages import DbQueried
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
        counts = {stream: sum(1 for line in lines if store.stream_of_line(line) == stream) for stream in heads}
        own = list(tx.statements)
        lines += await store.append_batch(tx, [_own_writes(heads[s], counts[s], own) for s in heads])
    for line in lines:
        await ports.bus.publish_live(store.stream_of_line(line), encode_line(line))


def _own_writes(first: dict, appended: int, statements: list[Statement]) -> Envelope:
    tables: dict[str, str] = {}
    for s in statements:
        tables.update(s.tables)
    query = DbQueried(
        sql=f"{len(statements)} statements appending a batch of events (this stream's: {appended}): "
            + "; ".join(dict.fromkeys(s.sql for s in statements)),
        tables=tables, rows=appended, duration_ms=round(sum(s.duration_ms for s in statements), 3),
    )
    return Envelope.wrap(query, service=SERVICE, job_id=first["job_id"], user_id=first["user_id"])
