"""Validation errors in FastAPI's own shape, except that an input which cannot be written as UTF-8
(JSON can carry a lone surrogate, "\\ud800") or as JSON (NaN, Infinity) is not echoed back, so the
refusal itself cannot fail (services/gateway/jsonbody.py refuses those numbers first anyway).
And a last line for text Postgres cannot store (NUL): every field should refuse it itself, with
its name; a field that does not still gets a 422, never a 500, and its transaction stores nothing."""

import json

import asyncpg
from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.gateway import plain


async def validation_failed(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [_echoable(error) for error in exc.errors()]
    return JSONResponse({"detail": errors, "message": plain.sentence(422, errors)}, status_code=422)


async def refused(request: Request, exc: StarletteHTTPException) -> Response:
    """A refusal with the validation shape (a list of problems, services/gateway/sources.py) gets
    its plain sentence too; a refusal that is already a sentence (404, 409) is answered as it is."""
    if isinstance(exc.detail, list):
        return JSONResponse({"detail": exc.detail, "message": plain.sentence(exc.status_code, exc.detail)},
                            status_code=exc.status_code, headers=exc.headers)
    return await http_exception_handler(request, exc)


def _echoable(error: dict) -> dict:
    try:
        encoded = jsonable_encoder(error)  # bytes that are not UTF-8 (a body sent as a form) fail here
        json.dumps(encoded, ensure_ascii=False, allow_nan=False).encode()
    except (UnicodeError, ValueError):  # ... a lone surrogate, or NaN / Infinity somewhere in it, here
        return jsonable_encoder({key: value for key, value in error.items() if key not in ("input", "ctx")})
    return encoded


async def text_not_storable(request: Request, exc: asyncpg.DataError) -> JSONResponse:
    message = "text must not contain NUL (\\x00) characters or invalid Unicode"
    return JSONResponse({"detail": [{"type": "value_error", "loc": ["body"], "msg": message}],
                         "message": "The text holds characters that cannot be stored (NUL or broken Unicode):"
                                    " remove them and send it again."}, status_code=422)


NOT_STORABLE = (asyncpg.CharacterNotInRepertoireError, asyncpg.UntranslatableCharacterError)
