"""Every read the gateway makes for a request is audited: this middleware gives each request
(and each websocket) a `Reads` recorder and writes what it ran as one `db.query` event when the
request ends, in the log of the job it turned out to be about, else in the caller's account log.
Reads made before the caller is known, for a token that matches nobody, belong to no account
and are not logged (nor is the health check). Each request is a step of its job's story
(contracts/steps.py): `request`, `cancel`, `resume`, `delete`, `review`, `account`, else `view`."""

import logging
import re

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from contracts.steps import bind_step
from services.common.db import Reads

log = logging.getLogger(__name__)


class RecordReads:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        reads = scope["app"].state.db.reads()
        scope.setdefault("state", {})["reads"] = reads
        bind_step(request_step(scope.get("method", "GET"), scope["path"]))
        try:
            await self.app(scope, receive, send)
        finally:
            await flush(reads)


# What each of the gateway's commands is, as a step of its job: (method, path pattern, step).
_COMMANDS = [
    ("POST", re.compile(r"/v1/jobs/?"), "request"),
    ("POST", re.compile(r"/v1/jobs/[^/]+/cancel"), "cancel"),
    ("POST", re.compile(r"/v1/jobs/[^/]+/resume"), "resume"),
    ("DELETE", re.compile(r"/v1/jobs/[^/]+"), "delete"),
    ("PUT", re.compile(r"/v1/jobs/[^/]+/plan"), "review"),
    ("POST", re.compile(r"/v1/jobs/[^/]+/approve"), "review"),
]
_ACCOUNT = re.compile(r"/v1/(users|session|tokens)(/.*)?")


def request_step(method: str, path: str) -> str:
    """The step a request's events belong to: the command it is, `account` (sign-up, sign-in,
    tokens), else `view` (a read, a page)."""
    for wanted, pattern, step in _COMMANDS:
        if method == wanted and pattern.fullmatch(path):
            return step
    return "account" if _ACCOUNT.fullmatch(path) else "view"


def reads_of(connection: HTTPConnection) -> Reads:
    return connection.state.reads


async def flush(reads: Reads) -> None:
    try:
        await reads.flush()
    except Exception:  # the answer is already sent; Postgres is away (the reads most likely failed too)
        log.exception("could not record a request's reads")
