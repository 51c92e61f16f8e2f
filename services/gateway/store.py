"""The gateway's job tables (gateway.jobs, gateway.sources) and its reads of what it shows, through
the views the audit and assembler services publish for it (migrations/0023): audit.job_state_v1,
audit.events_v2, audit.stream_heads_v1 and assembler.documents_v1."""

import uuid
from datetime import datetime
from typing import AsyncIterator

from contracts.envelope import Envelope, Message, derived_id
from contracts.messages import DeleteJob, JobDataDeleted, JobQueued, JobRequested
from services.common import jobqueue
from services.common.db import Database, Reads, Tx, text_slices
from services.gateway import queue
from services.gateway.schemas import NewJob
from services.gateway.sources import Source

SERVICE = "gateway"
_JOB_VIEW = """
SELECT j.id, j.mode, j.title, j.model, j.target_words, j.created_at,
       coalesce(s.status, CASE WHEN q.state = 'queued' THEN 'queued' ELSE 'requested' END) AS status, coalesce(s.words, 0) AS words, coalesce(s.heading_words, 0) AS heading_words,
       coalesce(s.chunks_done, 0) AS chunks_done, coalesce(s.chunks_total, 0) AS chunks_total,
       s.error, s.updated_at, s.started_at, s.ended_at, coalesce(s.last_seq, 0) AS last_seq,
       CASE WHEN q.state = 'queued' THEN (SELECT count(*) FROM longform_meta.job_queue w
             WHERE w.user_id = q.user_id AND w.state = 'queued' AND (w.queued_at, w.job_id) <= (q.queued_at, q.job_id))
       END AS queue_place, q.state IS NOT DISTINCT FROM 'cancelled' AS cancelled_in_queue
"""
_JOB_PROGRESS = (", s.section, coalesce(s.tokens_in, 0) AS tokens_in, coalesce(s.tokens_out, 0) AS tokens_out,"
                 " coalesce(s.passages_total, 0) AS passages_total, coalesce(s.passages_noted, 0) AS passages_noted,"
                 " coalesce(s.tokens_by_model, '{}') AS tokens_by_model\n")
_JOBS = ("FROM gateway.jobs j LEFT JOIN audit.job_state_v1 s ON s.job_id = j.id"
         " LEFT JOIN longform_meta.job_queue q ON q.job_id = j.id")


async def create_job(db: Database, user_id: uuid.UUID, job: NewJob, source: Source | None,
                     caps: queue.Caps = queue.NO_CAP) -> tuple[uuid.UUID, int]:
    """The job, its source and its JobRequested (or, when its owner has `caps.active` jobs running,
    its JobQueued) commit together: a job never exists without its source. Returns the job's id and
    its place in its owner's queue (0: started). QueueFull (429) rolls everything back."""
    job_id = uuid.uuid4()
    async with db.transaction(job_id=job_id, user_id=user_id) as tx:
        place = await queue.place_for(tx, user_id, caps)
        await tx.execute(
            "INSERT INTO gateway.jobs (id, user_id, mode, title, instructions, target_words, model)"
            " VALUES ($1,$2,$3,$4,$5,$6,$7)",
            job_id, user_id, job.mode, job.title, job.instructions, job.target_words, job.model,
        )
        if source is not None:
            await _insert_source(tx, job_id, source)
        message = JobRequested(mode=job.mode, title=job.title, instructions=job.instructions,
                               target_words=job.target_words, model=job.model, headings=job.headings,
                               source_words=source.words if source else None, review_plan=job.review_plan)
        if caps.active > 0:
            await queue.record(tx, job_id, user_id, message, place)
        if place:
            message = JobQueued(mode=job.mode, title=job.title, target_words=job.target_words, place=place,
                                active_cap=caps.active)
        tx.emit(Envelope.wrap(message, service=SERVICE, job_id=job_id, user_id=user_id,
                              event_id=derived_id(job_id, message.TYPE)))
    return job_id, place


async def _insert_source(tx: Tx, job_id: uuid.UUID, source: Source) -> None:
    await tx.execute(
        "INSERT INTO gateway.sources (job_id, filename, media_type, bytes, words, sha256, text)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7)",
        job_id, source.filename, source.media_type, source.bytes, source.words, source.sha256, source.text,
    )


async def request(db: Database, user_id: uuid.UUID, job_id: uuid.UUID, message: Message) -> None:
    """The owner's command (or its refusal) into the job's log."""
    async with db.transaction(job_id=job_id, user_id=user_id) as tx:
        tx.emit(Envelope.wrap(message, service=SERVICE, job_id=job_id, user_id=user_id))


async def delete_job(db: Database, user_id: uuid.UUID, job_id: uuid.UUID) -> None:
    """The gateway's rows of the job go now (the job is gone for the API at once); the request to
    the other services goes with them. Recorded in the account's log: the job's will be erased."""
    async with db.transaction(user_id=user_id) as tx:
        await jobqueue.job_ended(tx, job_id, SERVICE)  # a running job deleted gives its place on
        rows = await tx.fetchval("SELECT longform_meta.erase_job_rows('gateway', $1)", job_id)
        tx.emit(Envelope.wrap(DeleteJob(), service=SERVICE, job_id=job_id, user_id=user_id,
                              event_id=derived_id(job_id, DeleteJob.TYPE)))
        tx.emit(Envelope.wrap(JobDataDeleted(job_id=job_id, rows=rows), service=SERVICE, job_id=None,
                              user_id=user_id))


async def job_view(reads: Reads, user_id: uuid.UUID, job_id: uuid.UUID, *, progress: bool = False):
    """The caller's job (with its section and tokens if `progress`), or None; once it is theirs,
    the request's reads name it in the account's log (reads that show a job are its viewer's
    business, not the job's: its log ends with what happened to it)."""
    query = _JOB_VIEW + (_JOB_PROGRESS if progress else "") + _JOBS
    rows = await reads.fetch(query + " WHERE j.id = $1 AND j.user_id = $2", job_id, user_id)
    if not rows:
        return None
    reads.viewed_job = job_id
    return rows[0]


async def job_page(reads: Reads, user_id: uuid.UUID, before: tuple[datetime, uuid.UUID] | None, limit: int):
    """Up to `limit` jobs, newest first, older than the cursor `before` (created_at, id), and
    whether there are more: ties on created_at are ordered by id, so no job is skipped or repeated."""
    if before is None:
        rows = await reads.fetch(_JOB_VIEW + _JOBS + " WHERE j.user_id = $1"
                                 " ORDER BY j.created_at DESC, j.id DESC LIMIT $2", user_id, limit + 1)
    else:
        rows = await reads.fetch(_JOB_VIEW + _JOBS + " WHERE j.user_id = $1 AND (j.created_at, j.id) < ($2, $3)"
                                 " ORDER BY j.created_at DESC, j.id DESC LIMIT $4", user_id, *before, limit + 1)
    return rows[:limit], len(rows) > limit


def document_slices(reads: Reads, job_id: uuid.UUID, size: int) -> AsyncIterator[str]:
    return text_slices(reads.fetchval, "SELECT substr(body, $2, $3) FROM assembler.documents_v1 WHERE job_id = $1",
                       job_id, size)


async def has_document(reads: Reads, job_id: uuid.UUID) -> bool:
    return bool(await reads.fetchval("SELECT true FROM assembler.documents_v1 WHERE job_id = $1", job_id))


async def events_after(reads: Reads, stream_id: str, after_seq: int, limit: int = 500):
    return await reads.fetch(
        "SELECT seq, event_id, job_id, user_id, type, service, occurred_at, data, hash, step FROM audit.events_v2"
        " WHERE stream_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        stream_id, after_seq, limit,
    )


async def event_at(reads: Reads, stream_id: str, seq: int):
    """The stream's event at `seq`, or None."""
    rows = await reads.fetch("SELECT type, occurred_at, data FROM audit.events_v2 WHERE stream_id = $1 AND seq = $2",
                             stream_id, seq)
    return rows[0] if rows else None


async def llm_call(reads: Reads, service: str, call_id: int, job_id: uuid.UUID):
    """One stored LLM call of the job, through its service's published view, or None."""
    view = {"planner": "planner.llm_calls_v1", "generator": "generator.llm_calls_v1"}[service]
    rows = await reads.fetch(f"SELECT * FROM {view} WHERE id = $1 AND job_id = $2", call_id, job_id)
    return rows[0] if rows else None


async def stream_head(reads: Reads, stream_id: str):
    """The stream's head row: its chain head and that event's seq (None for a stream not begun)."""
    rows = await reads.fetch("SELECT head, chained_seq FROM audit.stream_heads_v1 WHERE stream_id = $1", stream_id)
    return rows[0] if rows else None


async def is_operator(reads: Reads, user_id: uuid.UUID) -> bool:
    return bool(await reads.fetchval("SELECT operator FROM gateway.users WHERE id = $1", user_id))
