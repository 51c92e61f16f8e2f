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
from fastapi.responses import JSONResponse


async def validation_failed(request: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse({"detail": [_echoable(error) for error in exc.errors()]}, status_code=422)


def _echoable(error: dict) -> dict:
    try:
        encoded = jsonable_encoder(error)  # bytes that are not UTF-8 (a body sent as a form) fail here
        json.dumps(encoded, ensure_ascii=False, allow_nan=False).encode()
    except (UnicodeError, ValueError):  # ... a lone surrogate, or NaN / Infinity somewhere in it, here
        return jsonable_encoder({key: value for key, value in error.items() if key not in ("input", "ctx")})
    return encoded


async def text_not_storable(request: Request, exc: asyncpg.DataError) -> JSONResponse:
    message = "text must not contain NUL (\\x00) characters or invalid Unicode"
    return JSONResponse({"detail": [{"type": "value_error", "loc": ["body"], "msg": message}]}, status_code=422)


NOT_STORABLE = (asyncpg.CharacterNotInRepertoireError, asyncpg.UntranslatableCharacterError)
