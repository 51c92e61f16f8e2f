"""Every event on the bus: persist a batch in one transaction (acked only after commit), then
fan each persisted event out to live listeners. The audit service's own writes are recorded
too, as one `db.query` event per stream per batch, appended directly (not through the bus)."""

from collections import defaultdict
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
    lines = []
    async with ports.db.transaction() as tx:
        own: dict[str, list[Statement]] = defaultdict(list)
        heads: dict[str, Envelope] = {}
        for envelope in envelopes:
            before = len(tx.statements)
            line = await store.append(tx, envelope)
            if line is not None:
                lines.append(line)
                stream = store.stream_of(envelope)
                own[stream].extend(tx.statements[before:])
                heads.setdefault(stream, envelope)
        for stream, statements in own.items():
            lines.append(await store.append(tx, _own_writes(heads[stream], statements)))
    for line in lines:
        await ports.bus.publish_live(store.stream_of_line(line), encode_line(line))


def _own_writes(first: Envelope, statements: list[Statement]) -> Envelope:
    tables: dict[str, str] = {}
    for s in statements:
        tables.update(s.tables)
    query = DbQueried(
        sql=f"{len(statements)} statements appending this batch's events: "
            + "; ".join(dict.fromkeys(s.sql for s in statements)),
        tables=tables, rows=sum(s.rows or 0 for s in statements if s.sql.startswith("INSERT")),
        duration_ms=round(sum(s.duration_ms for s in statements), 3),
    )
    return Envelope.wrap(query, service=SERVICE, job_id=first.job_id, user_id=first.user_id)


