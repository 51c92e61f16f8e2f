"""Wiring only: settings, connections, subscribers."""

from contracts.messages import AssembleDocument, DeleteJob
from services.assembler.config import AssemblerSettings
from services.assembler.handlers import Ports, assemble_document
from services.common import consumers
from services.common.bus import Bus
from services.common.db import Database
from services.common.deletion import erase_job_rows
from services.common.runtime import serve


async def main() -> None:
    settings = AssemblerSettings()
    consumer = consumers.assembler(settings)

    async def wire(db: Database, bus: Bus) -> list:
        ports = Ports(db, settings)
        bus.subscribe(consumer[AssembleDocument.TYPE], lambda e: assemble_document(e, ports))
        bus.subscribe(consumer[DeleteJob.TYPE], lambda e: erase_job_rows(db, "assembler", e))
        return []

    await serve("assembler", settings, wire)
