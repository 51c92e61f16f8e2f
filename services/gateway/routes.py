"""REST routes: jobs, document and audit downloads, health."""

import uuid
from typing import AsyncIterator

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from contracts.auditlog import ChainCheck, encode_line, event_line, stream_id, text_line
from contracts.envelope import Message
from contracts.headings import Heading
from contracts.jobstate import ENDED, FINAL, allows
from contracts.messages import CancelJob, CommandRefused, ResumeJob
from services.common.db import Reads
from services.gateway import costs, documents, intake, limiter, queue, store, written
from services.gateway.auth import current_user, job_not_found
from services.gateway.documents import Piece
from services.gateway.recorded import reads_of
from services.gateway.schemas import (
    AcceptedJob, AuditVerdict, Cursor, JobDetail, JobEstimate, JobPage, JobView, Problem, page_cursor,
)

router = APIRouter()
_DESCRIBED = {401: "Missing or invalid token (or session).", 404: "No such job of the caller's; another user's"
              " job is answered alike.", 409: "Not possible in the job's current status.",
              403: "Not an operator.", 429: "Too many jobs made a minute by this account, or its queue of waiting jobs is"
              " full (max_queued_jobs_per_user); Retry-After says when to try again. Nothing is stored."}
_DOCUMENT_BODY = {200: {"description": "The document as an attachment.",
                        "content": {media: {"schema": {"type": "string"}} for media in documents.MEDIA_TYPES.values()}}}
_AUDIT_BODY = {200: {"description": "The log as an attachment.",
                     "content": {"application/x-ndjson": {"schema": {"type": "string"}},
                                 "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                                 "text/plain": {"schema": {"type": "string"}}}}}


def _refusals(*codes: int) -> dict:
    return {code: {"model": Problem, "description": _DESCRIBED[code]} for code in codes}


_TIMES = ("created_at", "updated_at", "started_at", "ended_at")


def _view(view: type[JobView], row, **computed) -> JobView:
    times = {k: row[k].isoformat() if row[k] else None for k in _TIMES}
    return view(**{k: row[k] for k in view.model_fields if k not in _TIMES and k not in computed}, **times, **computed)


async def _owned_job(request: Request, job_id: uuid.UUID, user_id: uuid.UUID, *, progress: bool = False):
    row = await store.job_view(reads_of(request), user_id, job_id, progress=progress)
    if row is None:
        raise job_not_found()
    return row


_ESTIMATE = {200: {"model": JobEstimate, "description": "dry_run=true: the plan's LLM calls, tokens and cost"
                   " estimate; nothing stored."}}


@router.post("/v1/jobs", status_code=202, response_model=AcceptedJob, openapi_extra=intake.OPENAPI_EXTRA,
             responses=_ESTIMATE | _refusals(401, 429) | intake.RESPONSES)
async def submit_job(request: Request, user_id: uuid.UUID = Depends(current_user),
                     dry_run: bool = Query(False, description="Check the job as a submit does (the same refusals),"
                                           " then answer 200 with the plan's call count and its token and cost"
                                           " estimate instead of starting it: no job, source or event is stored."
                                           " It counts against the job rate limit like a submit.")):
    """A job as JSON, or as multipart/form-data with a rewrite's source as the file part `source`.
    With `dry_run=true`, what it would cost instead (200)."""
    await limiter.take(request, "job", user_id=user_id)
    settings = request.app.state.settings
    job, source = await intake.read_job(request, settings)
    if dry_run:
        return JSONResponse(costs.dry_run(job, source, settings, request.app.state.prices).model_dump(mode="json"))
    job_id, place = await store.create_job(request.app.state.db, user_id, job, source, queue.Caps.of(settings))
    reads_of(request).job_id = job_id
    return AcceptedJob(id=job_id, status="queued" if place else "requested", queue_place=place or None)


@router.get("/v1/jobs", response_model=JobPage, responses=_refusals(401))
async def list_jobs(request: Request, user_id: uuid.UUID = Depends(current_user),
                    limit: int = Query(50, ge=1, le=200),
                    before: Cursor | None = Query(None, description="`next_before` of the previous page.")) -> JobPage:
    """The caller's jobs, newest first (Job History), a page at a time."""
    rows, more = await store.job_page(reads_of(request), user_id, before, limit)
    after = page_cursor(rows[-1]["created_at"], rows[-1]["id"]) if more else None
    return JobPage(jobs=[_view(JobView, r) for r in rows], next_before=after)


@router.get("/v1/jobs/{job_id}", response_model=JobDetail, responses=_refusals(401, 404))
async def get_job(job_id: uuid.UUID, request: Request, user_id: uuid.UUID = Depends(current_user)) -> JobDetail:
    """The job's state and progress: words, chunks, current section, tokens used and their estimated
    cost (`cost_usd`, null when unknown), when it started and ended."""
    row = await _owned_job(request, job_id, user_id, progress=True)
    return _view(JobDetail, row, **costs.job_cost(row, request.app.state.prices))


@router.get("/v1/jobs/{job_id}/document", response_class=StreamingResponse,
            responses=_refusals(401, 404, 409) | _DOCUMENT_BODY)
async def get_document(job_id: uuid.UUID, request: Request, format: str = Query("txt", pattern="^(txt|md|docx)$"),
                       partial: bool = Query(False, description="What is written so far, in plan order, marked as"
                                             " partial, in any status. A cancelled or failed job's document is"
                                             " always this."),
                       user_id: uuid.UUID = Depends(current_user)) -> StreamingResponse:
    """The document with the plan's headings: txt with numbered heading lines, md with `#` levels,
    docx with Heading styles and a table of contents (the one format held whole while it is built:
    see services/gateway/documents.py)."""
    job = await _owned_job(request, job_id, user_id)
    reads = reads_of(request)
    partial = partial or job["status"] in ENDED - FINAL  # what a stopped job wrote is its document, marked partial
    contents, pieces, note = await (_written_so_far(reads, job) if partial else _finished(request, reads, job))
    body = await documents.rendered(format, job["title"], pieces, contents, note)
    name = documents.file_name(job["title"], job_id, format, partial)
    return StreamingResponse(body, media_type=documents.MEDIA_TYPES[format],
                             headers={"Content-Disposition": name, "X-Longform-Partial": str(partial).lower()})


async def _written_so_far(reads: Reads, job) -> tuple[list[Heading], AsyncIterator[Piece], str]:
    titled = await written.plan_headings_wanted(reads, job["id"])
    contents, first_chunks = await written.written_headings(reads, job["id"], titled)
    note = f"Partial: {job['words']:,} of {job['target_words']:,} words written; {_why_partial(job)}"
    return contents, written.written_pieces(reads, job["id"], contents, first_chunks), note


def _why_partial(job) -> str:
    if job["status"] == "cancelled":
        return "the job was cancelled. Resume it to write the rest."
    if job["status"] == "failed":
        return f"the job failed ({job['error'] or 'no reason recorded'}). Resume it to write the rest."
    return f"the job is {job['status']}, and this is what it has written so far."


async def _finished(request: Request, reads: Reads, job) -> tuple[list[Heading], AsyncIterator[Piece], str]:
    document = await written.finished(reads, job["id"]) if job["status"] == "completed" else None
    if document is None:
        raise HTTPException(409, f"the document is not ready: the job is {job['status']}; what is written so far"
                                 f" is at /v1/jobs/{job['id']}/document?partial=true")
    size = request.app.state.settings.download_slice_chars
    return document.headings, written.finished_pieces(reads, job["id"], document, size), ""


_AUDIT_FORMATS = {
    "ndjson": ("application/x-ndjson", "ndjson"),
    "json": ("application/json", "json"),
    "txt": ("text/plain; charset=utf-8", "txt"),
}


@router.get("/v1/jobs/{job_id}/audit", response_class=StreamingResponse, responses=_refusals(401, 404) | _AUDIT_BODY)
async def get_audit(job_id: uuid.UUID, request: Request, format: str = Query("ndjson", pattern="^(ndjson|json|txt)$"),
                    user_id: uuid.UUID = Depends(current_user)) -> StreamingResponse:
    """The job's audit log, streamed from the event table page by page (never whole in memory)."""
    await _owned_job(request, job_id, user_id)
    return _audit_download(reads_of(request), str(job_id), format, f"{job_id}.audit")


@router.get("/v1/jobs/{job_id}/audit/verify", response_model=AuditVerdict, responses=_refusals(401, 404))
async def verify_audit(job_id: uuid.UUID, request: Request, user_id: uuid.UUID = Depends(current_user)) -> AuditVerdict:
    """The job's log recomputed against its hash chain, page by page, and its head row: names the
    first seq that was changed, removed or forged (docs/architecture.md, "A tamper-evident log")."""
    await _owned_job(request, job_id, user_id)
    reads, check, after = reads_of(request), ChainCheck(), 0
    # The head first: events keep coming, and an event is committed with the head that covers it.
    head = await store.stream_head(reads, str(job_id))
    last = head["chained_seq"] if head else 0
    while after < last and (rows := await store.events_after(reads, str(job_id), after)):
        check.feed(event_line(r) for r in rows if r["seq"] <= last)
        after = rows[-1]["seq"]
    verdict = check.verdict(head["head"], last) if head else check.verdict(None, None)
    return AuditVerdict(intact=verdict.intact, events=verdict.events, head=verdict.head,
                        head_seq=head["chained_seq"] if head else None, first_bad_seq=verdict.first_bad_seq,
                        reason=verdict.reason)


@router.get("/v1/account/audit", response_class=StreamingResponse, responses=_refusals(401) | _AUDIT_BODY)
async def get_account_audit(request: Request, format: str = Query("ndjson", pattern="^(ndjson|json|txt)$"),
                            user_id: uuid.UUID = Depends(current_user)) -> StreamingResponse:
    """The account's own log: sign-up, job listings, and the tombstones of deleted jobs."""
    return _audit_download(reads_of(request), stream_id(None, user_id), format, f"account-{user_id}.audit")


@router.get("/v1/system/audit", response_class=StreamingResponse, responses=_refusals(401, 403) | _AUDIT_BODY)
async def get_system_audit(request: Request, format: str = Query("ndjson", pattern="^(ndjson|json|txt)$"),
                           user_id: uuid.UUID = Depends(current_user)) -> StreamingResponse:
    """The system stream, for operators: what ran for no job or account (the planner's recovery
    scan, retention passes, the outbox relay's reports of them, refused anonymous requests)."""
    reads = reads_of(request)
    if not await store.is_operator(reads, user_id):
        raise HTTPException(403, "the system log is for operators (longform users create --operator)")
    return _audit_download(reads, stream_id(None, None), format, "system.audit")


def _audit_download(reads: Reads, stream: str, format: str, filename: str) -> StreamingResponse:
    media_type, suffix = _AUDIT_FORMATS[format]
    return StreamingResponse(_audit_pages(reads, stream, format), media_type=media_type,
                             headers={"Content-Disposition": f'attachment; filename="{filename}.{suffix}"'})


async def _audit_pages(reads: Reads, stream: str, format: str):
    after, first = 0, True
    if format == "json":
        yield b"["
    while rows := await store.events_after(reads, stream, after):
        after = rows[-1]["seq"]
        lines = [event_line(r) for r in rows]
        if format == "ndjson":
            yield b"".join(encode_line(line) + b"\n" for line in lines)
        elif format == "txt":
            yield "".join(text_line(line) + "\n" for line in lines).encode()
        else:
            yield (b"" if first else b",") + b",".join(encode_line(line) for line in lines)
        first = False
    if format == "json":
        yield b"]"


@router.post("/v1/jobs/{job_id}/resume", status_code=202, response_model=AcceptedJob,
             responses=_refusals(401, 404, 409))
async def resume_job(job_id: uuid.UUID, request: Request, user_id: uuid.UUID = Depends(current_user)) -> AcceptedJob:
    """A failed or cancelled job continues from its first incomplete chunk; chunks written are kept."""
    job = await _owned_job(request, job_id, user_id)
    if job["cancelled_in_queue"]:
        await _refuse(request, user_id, job, ResumeJob(), "the job was cancelled while it waited in the queue and"
                      " never started: there is nothing to resume; submit it again")
    await send_command(request, user_id, job, ResumeJob(),
                   f"only a failed or cancelled job can be resumed: this one is {job['status']}")
    return AcceptedJob(id=job_id, status="resuming")


@router.post("/v1/jobs/{job_id}/cancel", status_code=202, response_model=AcceptedJob,
             responses=_refusals(401, 404, 409))
async def cancel_job(job_id: uuid.UUID, request: Request, user_id: uuid.UUID = Depends(current_user)) -> AcceptedJob:
    """Stops the job promptly (a chunk being written is abandoned); everything written is kept."""
    job = await _owned_job(request, job_id, user_id)
    await send_command(request, user_id, job, CancelJob(), f"the job is {job['status']}: there is nothing to cancel")
    return AcceptedJob(id=job_id, status="cancelling")


async def send_command(request: Request, user_id: uuid.UUID, job, command: Message, refusal: str) -> None:
    """Sends the owner's command if the job's status allows it (contracts/jobstate.py); else logs
    the refusal in the job's log and answers 409 with it."""
    if allows(job["status"], command.TYPE):
        await store.request(request.app.state.db, user_id, job["id"], command)
        return
    await _refuse(request, user_id, job, command, refusal)


async def _refuse(request: Request, user_id: uuid.UUID, job, command: Message, refusal: str) -> None:
    await store.request(request.app.state.db, user_id, job["id"],
                        CommandRefused(command=command.TYPE, status=job["status"], reason=refusal))
    raise HTTPException(409, refusal)


@router.delete("/v1/jobs/{job_id}", status_code=202, response_model=AcceptedJob, responses=_refusals(401, 404))
async def delete_job(job_id: uuid.UUID, request: Request, user_id: uuid.UUID = Depends(current_user)) -> AcceptedJob:
    """The owner's hard delete: the job, its chunks, document and events. The job is gone from the
    API at once; the account's log keeps a tombstone saying what was erased."""
    await _owned_job(request, job_id, user_id)
    reads_of(request).job_id = None  # the job's log is being erased: the reads go to the account's
    await store.delete_job(request.app.state.db, user_id, job_id)
    return AcceptedJob(id=job_id, status="deleting")


@router.get("/healthz", responses={503: {"model": Problem, "description": "Postgres or NATS is not reachable."}})
async def healthz(request: Request) -> dict:
    await request.app.state.db.read("SELECT 1")
    if not request.app.state.live.nc.is_connected:
        raise HTTPException(503, "not connected to NATS")
    return {"status": "ok"}
