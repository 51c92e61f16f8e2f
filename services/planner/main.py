"""Wiring only: settings, connections, subscribers."""

from contracts.messages import ChunkProcessed, ExtendJob, JobRequested
from services.common.bus import Bus
from services.common.db import Database
from services.common.runtime import serve
from services.planner.config import PlannerSettings
from services.planner.handlers import Ports, chunk_processed, extend_job, plan_job


async def main() -> None:
    settings = PlannerSettings()

    async def wire(db: Database, bus: Bus) -> list:
        ports = Ports(db, settings)
        bus.subscribe(JobRequested.TYPE, lambda e: plan_job(e, ports))
        bus.subscribe(ChunkProcessed.TYPE, lambda e: chunk_processed(e, ports))
        bus.subscribe(ExtendJob.TYPE, lambda e: extend_job(e, ports))
        return []

    await serve("planner", settings, wire)
