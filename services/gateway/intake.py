"""POST /v1/jobs reads a job from JSON (a rewrite's source inline as `source_text`) or from
multipart/form-data (the same fields, and the source as the file part `source`). Both end in one
NewJob and at most one checked Source; every refusal names its field in FastAPI's error shape."""

from typing import Callable

from fastapi import Request, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from services.gateway.config import GatewaySettings
from services.gateway.jsonbody import BadJson, strict_loads
from services.gateway.schemas import NewJob, Refused
from services.gateway.sources import (
    DOCX,
    Source,
    media_type_for,
    parse_docx,
    parse_source,
    read_upload,
    rejected,
    too_large,
)

_FORM = "multipart/form-data"


async def read_job(request: Request, settings: GatewaySettings) -> tuple[NewJob, Source | None]:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == _FORM:
        return await _from_form(request, settings)
    if media in ("", "application/json") or media.endswith("+json"):
        job = _validated(_json_fields(await request.body()), NewJob.model_validate)
        return job, await _inline_source(job, settings, missing_field="source_text")
    raise rejected(415, "content-type", f"send the job as application/json or {_FORM}, not {media}",
                   "media_type", where="header")


async def _from_form(request: Request, settings: GatewaySettings) -> tuple[NewJob, Source | None]:
    # Text parts may be as long as the body (a source pasted as source_text); files spool to disk.
    async with request.form(max_part_size=settings.max_body_bytes) as form:
        upload = _uploaded_source(form)
        job = _validated(_text_fields(form), NewJob.model_validate_strings)
        if upload is None:
            return job, await _inline_source(job, settings, missing_field="source")
        if job.source_text is not None:
            raise rejected(422, "source", "send the source once: as the file part source or as source_text",
                           "value_error")
        _check_mode(job, has_source=True, field="source")
        media_type = media_type_for(upload.filename)
        raw = await read_upload(upload, settings.max_source_bytes)
    if media_type == DOCX:
        async with request.app.state.docx_readers:  # each read is bounded in memory and time; this, how many at once
            return job, await run_in_threadpool(parse_docx, raw, field="source", filename=upload.filename,
                                                cap=settings.max_source_bytes)
    return job, await run_in_threadpool(parse_source, raw, field="source", filename=upload.filename,
                                        media_type=media_type)


async def _inline_source(job: NewJob, settings: GatewaySettings, missing_field: str) -> Source | None:
    if job.source_text is None:
        _check_mode(job, has_source=False, field=missing_field)
        return None
    _check_mode(job, has_source=True, field="source_text")
    raw = job.source_text.encode("utf-8", "surrogatepass")  # a lone surrogate then fails the UTF-8 check
    if len(raw) > settings.max_source_bytes:
        raise too_large("source_text", settings.max_source_bytes)
    # Counting the words of a long source takes a while: keep it off the event loop.
    return await run_in_threadpool(parse_source, raw, field="source_text", filename=None, media_type="text/plain")


_WITH_SOURCE = ("rewrite", "analyze")


def _check_mode(job: NewJob, has_source: bool, field: str) -> None:
    if job.mode in _WITH_SOURCE and not has_source:
        raise rejected(422, field, f"mode {job.mode} needs a source: send source_text, or upload the file part"
                       f" source as {_FORM}", "missing")
    if job.mode not in _WITH_SOURCE and has_source:
        raise rejected(422, field, "source is only used by mode rewrite or analyze", "value_error")


def _uploaded_source(form: FormData) -> UploadFile | None:
    # A browser sends an unused file input as a part with an empty filename; some clients as an empty field.
    parts = [part for part in form.getlist("source") if part != ""]
    if any(isinstance(part, str) for part in parts):
        raise rejected(422, "source", "source must be an uploaded .txt, .md or .docx file; send inline text as"
                       " source_text", "value_error")
    chosen = [part for part in parts if part.filename]
    if len(chosen) > 1:
        raise rejected(422, "source", "upload one source file, not several", "value_error")
    return chosen[0] if chosen else None


def _text_fields(form: FormData) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, value in form.multi_items():
        if name == "source":
            continue
        if not isinstance(value, str):
            raise rejected(422, name, f"{name} must be a text field, not a file", "value_error")
        if name in fields:
            raise rejected(422, name, f"send {name} once", "value_error")
        if value:  # a form sends an empty string for a field left blank: the field's default applies
            fields[name] = value
    return fields


def _json_fields(body: bytes) -> object:
    try:
        return strict_loads(body)
    except BadJson as bad:
        raise RequestValidationError([{"type": bad.kind, "loc": ("body",), "msg": str(bad), "input": {}}]) from None
    except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8 at all
        position = getattr(exc, "pos", 0)
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body", position), "msg": "JSON decode error",
                                       "input": {}, "ctx": {"error": str(exc)}}]) from None


def _validated(fields: object, validate: Callable[[object], NewJob]) -> NewJob:
    try:
        return validate(fields)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


def _request_body_doc() -> dict:
    """Both content types in the OpenAPI schema, since the route reads its body itself."""
    as_json = NewJob.model_json_schema()
    upload = {"type": "string", "contentMediaType": "application/octet-stream",
              "description": "rewrite, analyze: the source as a .txt or .md file of UTF-8 text, or a .docx"
              " (instead of source_text)."}
    as_form = as_json | {"title": "NewJobUpload", "properties": as_json["properties"] | {"source": upload}}
    return {"required": True, "content": {"application/json": {"schema": as_json}, _FORM: {"schema": as_form}}}


OPENAPI_EXTRA = {"requestBody": _request_body_doc()}
RESPONSES = {
    413: {"model": Refused, "description": "The body (max_body_bytes) or the source (max_source_bytes) is too large."},
    415: {"model": Refused, "description": "Neither JSON nor multipart/form-data, or a source not .txt, .md or .docx."},
    422: {"model": Refused, "description": "A field is invalid, or the source is empty, binary, not UTF-8, a"
                                           " corrupt .docx or too long; each error's loc names the field."},
}
