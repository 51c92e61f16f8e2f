"""Wiring only: settings, connections, subscribers."""

from contracts.messages import CancelJob, ChunkProcessed, DeleteJob, ExtendJob, JobFailed, JobRequested, ResumeJob
from services.common.bus import Bus
from services.common.db import Database
from services.common.llm import provider_from_settings
from services.common.runtime import serve
from services.planner.config import PlannerSettings
from services.planner.handlers import (
    Ports, cancel_job, chunk_processed, delete_job, dispatch, extend_job, job_failed, plan_job, resume_job,
)
from services.planner.recovery import resume_owned


async def main() -> None:
    settings = PlannerSettings()
    llm = provider_from_settings(settings)

    async def wire(db: Database, bus: Bus) -> list:
        ports = Ports(db, llm, settings)
        wait = settings.ack_wait_seconds
        bus.subscribe(JobRequested.TYPE, lambda e: plan_job(e, ports), ack_wait=wait, workers=settings.plan_workers)
        bus.subscribe(ChunkProcessed.TYPE, lambda e: chunk_processed(e, ports), ack_wait=wait,
                      workers=settings.progress_workers)
        bus.subscribe(ExtendJob.TYPE, lambda e: extend_job(e, ports), ack_wait=wait)
        bus.subscribe(ResumeJob.TYPE, lambda e: resume_job(e, ports), ack_wait=wait)
        bus.subscribe(JobFailed.TYPE, lambda e: job_failed(e, ports), ack_wait=wait)
        bus.subscribe(CancelJob.TYPE, lambda e: cancel_job(e, ports), ack_wait=wait)
        bus.subscribe(DeleteJob.TYPE, lambda e: delete_job(e, ports), ack_wait=wait)
        owned = await bus.unacknowledged()  # before this process pulls anything
        return [lambda: resume_owned(ports, dispatch)] if owned else []

    await serve("planner", settings, wire)
