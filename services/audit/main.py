"""Wiring only: settings, connections, the one consumer that sees every subject, taken by the
replica that holds the writer lock (services/audit/writer.py)."""

from services.audit.arrivals import arrived
from services.audit.config import AuditSettings
from services.audit.fanout import LiveFanout
from services.audit.handlers import Ports, record_events
from services.audit.writer import as_the_one_writer
from services.common import consumers
from services.common.bus import Bus
from services.common.db import Database
from services.common.runtime import serve


async def main() -> None:
    settings = AuditSettings()
    consumer = consumers.audit(settings)

    async def wire(db: Database, bus: Bus) -> list:
        live = LiveFanout(bus, settings.live_queue_batches)

        async def consume(writer: Database) -> None:
            ports = Ports(writer, live)
            await bus.consume_batches(consumer, lambda batch: record_events(batch, ports), arrived)

        return [lambda: as_the_one_writer(settings, db, consume), live.run]

    await serve("audit", settings, wire)
