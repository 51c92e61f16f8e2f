"""The retention policy (SPEC S1): off unless the operator sets a window. When on, the generator
prunes the intermediate working state of finished jobs: the superseded versions of
`generator.coherence`. Never the audit log, the final document, the plan, the accepted chunks or
the LLM calls (prompts and replies, which the log's llm.call events link to). Each prune is an
audited transaction in the job's log with a `job.retention_pruned` event."""

import asyncio
import logging
import uuid
from datetime import timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.envelope import Envelope
from contracts.messages import RetentionPruned
from contracts.steps import bind_step
from services.common.db import Database

log = logging.getLogger(__name__)
SERVICE = "generator"


class RetentionSettings(BaseSettings):
    """Unset windows are off: nothing is ever pruned by default."""

    model_config = SettingsConfigDict(env_prefix="LONGFORM_", extra="ignore", env_ignore_empty=True)

    retention_completed_hours: float | None = Field(default=None, ge=0)
    retention_failed_days: float | None = Field(default=None, ge=0)
    retention_interval_seconds: float = Field(default=600.0, gt=0)  # how often the sweep runs

    @property
    def completed_after(self) -> timedelta | None:
        hours = self.retention_completed_hours
        return None if hours is None else timedelta(hours=hours)

    @property
    def failed_after(self) -> timedelta | None:
        days = self.retention_failed_days
        return None if days is None else timedelta(days=days)

    @property
    def on(self) -> bool:
        return self.completed_after is not None or self.failed_after is not None


# A coherence version is superseded once a later one exists and the chunk after the one it
# folded in is accepted: no write, resume or summary can ask for it again (a resumed chunk waits
# for its previous chunk's version, which is therefore kept).
_SUPERSEDED = ("c.version < (SELECT max(l.version) FROM generator.coherence l WHERE l.job_id = c.job_id)"
               " AND (c.caused_by_chunk IS NULL OR EXISTS (SELECT 1 FROM generator.chunks n"
               " WHERE n.job_id = c.job_id AND n.chunk_index = c.caused_by_chunk + 1))")
# Which jobs are due (completed or failed longer ago than their window) comes from the audit
# service's function (migrations/0011), measured from the job.completed / job.failed event.
_CANDIDATES = ("SELECT d.job_id, d.user_id FROM audit.jobs_due_for_retention_v1($1, $2) d"
               f" WHERE EXISTS (SELECT 1 FROM generator.coherence c WHERE c.job_id = d.job_id AND {_SUPERSEDED})"
               " LIMIT 100")
_PRUNE = ("WITH due AS (SELECT d.status FROM audit.jobs_due_for_retention_v1($2, $3, $1) d),"
          " gone AS (DELETE FROM generator.coherence c WHERE c.job_id = $1 AND EXISTS (SELECT 1 FROM due)"
          f" AND {_SUPERSEDED} RETURNING 1)"
          " SELECT (SELECT status FROM due) AS status, (SELECT count(*) FROM gone) AS rows")
_KEPT = ("the final document, the audit log, the plan, the accepted chunks, every LLM call, and the latest "
         "coherence version (and any a resume would build on)")


async def sweep(db: Database, settings: RetentionSettings) -> list[uuid.UUID]:
    """One pass: prunes every due job (a page at a time); returns the jobs pruned."""
    if not settings.on:
        return []
    windows = (settings.completed_after, settings.failed_after)
    pruned = []
    while True:
        # Which jobs are due belongs to no job's log but the system stream; each prune is in its job's.
        reads = db.reads(system=True)
        due = await reads.fetch(_CANDIDATES, *windows)
        await reads.flush()
        done = [r["job_id"] for r in due if await prune_job(db, r["job_id"], r["user_id"], windows)]
        pruned += done
        if len(due) < 100 or not done:
            return pruned


async def prune_job(db: Database, job_id: uuid.UUID, user_id: uuid.UUID | None,
                    windows: tuple[timedelta | None, timedelta | None]) -> bool:
    """Prunes one job under its retention lock (another replica pruning it is skipped, not
    waited for); the window is checked again in the same statement, so a resumed job is spared."""
    bind_step("retention")
    async with db.transaction(job_id=job_id, user_id=user_id) as tx:
        if not await tx.fetchval("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 7411021))",
                                 f"retention:{job_id}"):
            return False
        row = await tx.fetchrow(_PRUNE, job_id, *windows)
        if not row["rows"]:
            return False
        window = windows[0] if row["status"] == "completed" else windows[1]
        tx.emit(Envelope.wrap(
            RetentionPruned(status=row["status"], older_than=str(window),
                            rows={"generator.coherence": row["rows"]}, rows_deleted=row["rows"], kept=_KEPT),
            service=SERVICE, job_id=job_id, user_id=user_id))
    log.info("retention pruned %d coherence versions of job %s", row["rows"], job_id)
    return True


async def run_retention(db: Database, settings: RetentionSettings) -> None:
    """The scheduled sweep, for the generator's background loops (wired only when the policy is on)."""
    while True:
        await sweep(db, settings)
        await asyncio.sleep(settings.retention_interval_seconds)
