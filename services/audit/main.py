"""Wiring only: settings, connections, the one consumer that sees every subject, taken by the
replica that holds the writer lock (services/audit/writer.py)."""

import gc

from services.audit.arrivals import arrived
from services.audit.config import AuditSettings
from services.audit.fanout import LiveFanout
from services.audit.handlers import Ports, drafted, record_events
from services.audit.writer import as_the_one_writer
from services.common import consumers
from services.common.bus import Bus
from services.common.db import Database
from services.common.runtime import serve


# The audit allocates a few dicts and objects per event and keeps a batch's alive until it
# commits: with the default threshold (700), the collector walked them over and over (audit CPU
# 3.9 -> 3.4 s for bench/audit_throughput's 100,000 events, BENCHMARKS.md). Reference counting
# still frees everything at once; only cycles wait longer.
_COLLECT_AFTER = (100_000, 50, 100)


async def main() -> None:
    gc.set_threshold(*_COLLECT_AFTER)
    settings = AuditSettings()
    consumer = consumers.audit(settings)

    async def wire(db: Database, bus: Bus) -> list:
        live = LiveFanout(bus, settings.live_queue_batches)

        async def consume(writer: Database) -> None:
            ports = Ports(writer, live)
            await bus.consume_batches(consumer, lambda batch: record_events(batch.events, ports, batch.drafts), arrived,
                                      lambda events: drafted(events, ports.chains))

        return [lambda: as_the_one_writer(settings, db, consume), live.run]

    await serve("audit", settings, wire)
