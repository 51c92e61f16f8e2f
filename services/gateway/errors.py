"""Validation errors in FastAPI's own shape, except that an input which cannot be written as UTF-8
(JSON can carry a lone surrogate, "\\ud800") is not echoed back, so the refusal itself cannot fail."""

import json

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


async def validation_failed(request: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse({"detail": [_echoable(error) for error in jsonable_encoder(exc.errors())]}, status_code=422)


def _echoable(error: dict) -> dict:
    try:
        json.dumps(error, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return {key: value for key, value in error.items() if key != "input"}
    return error
