"""Wiring only: settings, connections, the one subscriber that sees every subject."""

from services.audit.config import AuditSettings
from services.audit.handlers import Ports, record_events
from services.common.bus import Bus
from services.common.db import Database
from services.common.runtime import serve


async def main() -> None:
    settings = AuditSettings()

    async def wire(db: Database, bus: Bus) -> list:
        ports = Ports(db, bus)
        return [lambda: bus.consume_batches(lambda batch: record_events(batch, ports), batch_size=settings.batch_size,
                                           ack_wait=settings.ack_wait_seconds)]

    await serve("audit", settings, wire)
