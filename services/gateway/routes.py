"""REST routes: accounts, jobs, document and audit downloads, health."""

import secrets
import uuid
from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from contracts.auditlog import encode_line, event_line, stream_id, text_line
from contracts.messages import CancelJob, ResumeJob
from services.common.db import Reads
from services.gateway import intake, store
from services.gateway.auth import current_user, job_not_found
from services.gateway.recorded import reads_of
from services.gateway.schemas import AcceptedJob, CreatedUser, JobPage, JobView, NewUser

router = APIRouter()


def _view(row) -> JobView:
    updated = row["updated_at"].isoformat() if row["updated_at"] else None
    return JobView(**{k: row[k] for k in JobView.model_fields if k not in ("created_at", "updated_at")},
                   created_at=row["created_at"].isoformat(), updated_at=updated)


async def _owned_job(request: Request, job_id: uuid.UUID, user_id: uuid.UUID):
    row = await store.job_view(reads_of(request), user_id, job_id)
    if row is None:
        raise job_not_found()
    return row


@router.post("/v1/users", status_code=201, response_model=CreatedUser)
async def sign_up(body: NewUser, request: Request) -> CreatedUser:
    if not request.app.state.settings.open_signup:
        raise HTTPException(403, "open sign-up is turned off on this server; ask an operator for an account")
    token = secrets.token_urlsafe(32)
    user_id = await store.create_user(request.app.state.db, body.name, token)
    return CreatedUser(id=user_id, token=token)


@router.post("/v1/jobs", status_code=202, response_model=AcceptedJob, openapi_extra=intake.OPENAPI_EXTRA,
             responses=intake.RESPONSES)
async def submit_job(request: Request, user_id: uuid.UUID = Depends(current_user)) -> AcceptedJob:
    """A job as JSON, or as multipart/form-data with a rewrite's source as the file part `source`."""
    job, source = await intake.read_job(request, request.app.state.settings)
    job_id = await store.create_job(request.app.state.db, user_id, job, source)
    reads_of(request).job_id = job_id
    return AcceptedJob(id=job_id, status="requested")


@router.get("/v1/jobs", response_model=JobPage)
async def list_jobs(request: Request, user_id: uuid.UUID = Depends(current_user),
                    limit: int = Query(50, ge=1, le=200), before: datetime | None = None) -> JobPage:
    rows = await store.job_page(reads_of(request), user_id, before, limit)
    after = rows[-1]["created_at"].isoformat() if len(rows) == limit else None
    return JobPage(jobs=[_view(r) for r in rows], next_before=after)


@router.get("/v1/jobs/{job_id}", response_model=JobView)
async def get_job(job_id: uuid.UUID, request: Request, user_id: uuid.UUID = Depends(current_user)) -> JobView:
    return _view(await _owned_job(request, job_id, user_id))


@router.get("/v1/jobs/{job_id}/document", response_class=StreamingResponse)
async def get_document(job_id: uuid.UUID, request: Request, format: str = Query("txt", pattern="^txt$"),
                       user_id: uuid.UUID = Depends(current_user)) -> StreamingResponse:
    job = await _owned_job(request, job_id, user_id)
    reads = reads_of(request)
    if job["status"] != "completed" or not await store.has_document(reads, job_id):
        raise HTTPException(409, f"the document is not ready: the job is {job['status']}")
    size = request.app.state.settings.download_slice_chars
    pieces = (p.encode() async for p in store.document_slices(reads, job_id, size))
    return StreamingResponse(pieces, media_type="text/plain; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{job_id}.txt"'})


_ENDED = ("completed", "failed", "cancelled")
_AUDIT_FORMATS = {
    "ndjson": ("application/x-ndjson", "ndjson"),
    "json": ("application/json", "json"),
    "txt": ("text/plain; charset=utf-8", "txt"),
}


@router.get("/v1/jobs/{job_id}/audit", response_class=StreamingResponse)
async def get_audit(job_id: uuid.UUID, request: Request, format: str = Query("ndjson", pattern="^(ndjson|json|txt)$"),
                    user_id: uuid.UUID = Depends(current_user)) -> StreamingResponse:
    """The job's audit log, streamed from the event table page by page (never whole in memory)."""
    await _owned_job(request, job_id, user_id)
    return _audit_download(reads_of(request), str(job_id), format, f"{job_id}.audit")


@router.get("/v1/account/audit", response_class=StreamingResponse)
async def get_account_audit(request: Request, format: str = Query("ndjson", pattern="^(ndjson|json|txt)$"),
                            user_id: uuid.UUID = Depends(current_user)) -> StreamingResponse:
    """The account's own log: sign-up, job listings, and the tombstones of deleted jobs."""
    return _audit_download(reads_of(request), stream_id(None, user_id), format, f"account-{user_id}.audit")


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


@router.post("/v1/jobs/{job_id}/resume", status_code=202, response_model=AcceptedJob)
async def resume_job(job_id: uuid.UUID, request: Request, user_id: uuid.UUID = Depends(current_user)) -> AcceptedJob:
    """A failed or cancelled job continues from its first incomplete chunk; chunks written are kept."""
    job = await _owned_job(request, job_id, user_id)
    if job["status"] not in ("failed", "cancelled"):
        raise HTTPException(409, f"only a failed or cancelled job can be resumed: this one is {job['status']}")
    await store.request(request.app.state.db, user_id, job_id, ResumeJob())
    return AcceptedJob(id=job_id, status="resuming")


@router.post("/v1/jobs/{job_id}/cancel", status_code=202, response_model=AcceptedJob)
async def cancel_job(job_id: uuid.UUID, request: Request, user_id: uuid.UUID = Depends(current_user)) -> AcceptedJob:
    """Stops the job promptly (a chunk being written is abandoned); everything written is kept."""
    job = await _owned_job(request, job_id, user_id)
    if job["status"] in _ENDED:
        raise HTTPException(409, f"the job is {job['status']}: there is nothing to cancel")
    await store.request(request.app.state.db, user_id, job_id, CancelJob())
    return AcceptedJob(id=job_id, status="cancelling")


@router.delete("/v1/jobs/{job_id}", status_code=202, response_model=AcceptedJob)
async def delete_job(job_id: uuid.UUID, request: Request, user_id: uuid.UUID = Depends(current_user)) -> AcceptedJob:
    """The owner's hard delete: the job, its chunks, document and events. The job is gone from the
    API at once; the account's log keeps a tombstone saying what was erased."""
    await _owned_job(request, job_id, user_id)
    reads_of(request).job_id = None  # the job's log is being erased: the reads go to the account's
    await store.delete_job(request.app.state.db, user_id, job_id)
    return AcceptedJob(id=job_id, status="deleting")


@router.get("/healthz")
async def healthz(request: Request) -> dict:
    await request.app.state.db.read("SELECT 1")
    if not request.app.state.live.nc.is_connected:
        raise HTTPException(503, "not connected to NATS")
    return {"status": "ok"}
