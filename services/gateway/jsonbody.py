"""JSON bodies are read strictly, before any route sees them: NaN, Infinity and -Infinity (which
Python's json accepts and no JSON document may hold), numbers beyond the range of a float, and
nesting deeper than MAX_DEPTH are refused with a 422 naming the problem. So no value that cannot
be written back as JSON reaches a validation error's echo, and no document deep enough to exhaust
the interpreter's recursion reaches a parser. The body is read once here (inside BodyLimit, so
never past max_body_bytes) and handed on unchanged."""

import json
import math

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.plain import sentence

MAX_DEPTH = 64


class BadJson(ValueError):
    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def strict_loads(body: bytes | str) -> object:
    """The parsed document, or BadJson saying what makes it unacceptable (ValueError for text that
    is not JSON at all)."""
    try:
        value = json.loads(body, parse_constant=_constant, parse_float=_finite)
    except RecursionError:
        raise BadJson(f"JSON is nested deeper than {MAX_DEPTH} levels", "json_too_deep") from None
    if _depth(value) > MAX_DEPTH:
        raise BadJson(f"JSON is nested deeper than {MAX_DEPTH} levels", "json_too_deep")
    return value


def _constant(name: str) -> float:
    raise BadJson(f"{name} is not a JSON number: send a finite number", "json_invalid_number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJson(f"the number {text[:40]} is beyond the range of a 64-bit float", "json_invalid_number")
    return value


def _depth(value: object) -> int:
    """How deeply arrays and objects nest, without recursion (and stopping past the limit)."""
    deepest, level = 0, [(value, 1)]
    while level:
        item, depth = level.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                return deepest
            level.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


class StrictJson:
    """ASGI middleware: a request whose body is declared JSON is parsed strictly first."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _declares_json(Headers(scope=scope)):
            await self.app(scope, receive, send)
            return
        messages, body = [], b""
        try:
            while True:
                message = await receive()
                messages.append(message)
                body += message.get("body", b"")
                if message["type"] != "http.request" or not message.get("more_body"):
                    break
        except HTTPException as refused:  # BodyLimit: the body streamed past max_body_bytes
            await JSONResponse({"detail": refused.detail, "message": sentence(refused.status_code, refused.detail)},
                               status_code=refused.status_code)(scope, receive, send)
            return
        problem = _problem(body)
        if problem is not None:
            await JSONResponse({"detail": [problem], "message": sentence(422, [problem])},
                               status_code=422)(scope, receive, send)
            return
        await self.app(scope, _replay(messages, receive), send)


def _declares_json(headers: Headers) -> bool:
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _problem(body: bytes) -> dict | None:
    if not body.strip():
        return None  # no body: the route says what it needs
    try:
        strict_loads(body)
    except BadJson as bad:
        return {"type": bad.kind, "loc": ["body"], "msg": str(bad)}
    except UnicodeDecodeError:  # every route's body is JSON text: bytes that are not UTF-8 are not
        return {"type": "json_invalid", "loc": ["body"], "msg": "the body is not UTF-8 text"}
    except ValueError:
        return None  # not JSON at all: the route answers that in its own words
    return None


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
