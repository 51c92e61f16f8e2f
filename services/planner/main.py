"""Wiring only: settings, connections, subscribers."""

from contracts.messages import (
    ApprovePlan, CancelJob, ChunkProcessed, ChunkSummarized, CompleteJob, DeleteJob, EditPlan, ExtendJob, JobFailed,
    JobRequested, PassageNoted, PlanReport, ResumeJob,
)
from services.common import consumers
from services.common.bus import Bus
from services.common.db import Database
from services.common.llm import provider_from_settings
from services.common.runtime import serve
from services.planner import analysis
from services.planner.config import PlannerSettings
from services.planner.handlers import (
    Ports, cancel_job, chunk_processed, chunk_summarized, complete_job, delete_job, dispatch, extend_job, job_failed,
)
from services.planner.reporting import plan_report
from services.planner.recovery import resume_owned
from services.planner.review import approve_plan, edit_plan


async def main() -> None:
    settings = PlannerSettings()
    consumer = consumers.planner(settings)

    async def wire(db: Database, bus: Bus) -> list:
        ports = Ports(db, provider_from_settings(settings, db), settings)
        bus.subscribe(consumer[JobRequested.TYPE], lambda e: analysis.job_requested(e, ports))
        bus.subscribe(consumer[PassageNoted.TYPE], lambda e: analysis.passage_noted(e, ports))
        bus.subscribe(consumer[PlanReport.TYPE], lambda e: plan_report(e, ports))
        bus.subscribe(consumer[ChunkProcessed.TYPE], lambda e: chunk_processed(e, ports))
        bus.subscribe(consumer[ChunkSummarized.TYPE], lambda e: chunk_summarized(e, ports))
        bus.subscribe(consumer[ExtendJob.TYPE], lambda e: extend_job(e, ports))
        bus.subscribe(consumer[ResumeJob.TYPE], lambda e: analysis.resume(e, ports))
        bus.subscribe(consumer[JobFailed.TYPE], lambda e: job_failed(e, ports))
        bus.subscribe(consumer[CompleteJob.TYPE], lambda e: complete_job(e, ports))
        bus.subscribe(consumer[CancelJob.TYPE], lambda e: cancel_job(e, ports))
        bus.subscribe(consumer[DeleteJob.TYPE], lambda e: delete_job(e, ports))
        bus.subscribe(consumer[EditPlan.TYPE], lambda e: edit_plan(e, ports))
        bus.subscribe(consumer[ApprovePlan.TYPE], lambda e: approve_plan(e, ports))
        owned = await bus.unacknowledged()  # before this process pulls anything
        return [lambda: resume_owned(ports, dispatch)] if owned else []

    await serve("planner", settings, wire)
