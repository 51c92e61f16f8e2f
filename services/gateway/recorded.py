"""Every read the gateway makes for a request is audited: this middleware gives each request
(and each websocket) a `Reads` recorder and writes what it ran as one `db.query` event when the
request ends, in the log of the job it turned out to be about, else in the caller's account log.
Reads made before the caller is known, for a token that matches nobody, belong to no account
and are not logged (nor is the health check)."""

import logging

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

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
        try:
            await self.app(scope, receive, send)
        finally:
            await flush(reads)


def reads_of(connection: HTTPConnection) -> Reads:
    return connection.state.reads


async def flush(reads: Reads) -> None:
    try:
        await reads.flush()
    except Exception:  # the answer is already sent; Postgres is away (the reads most likely failed too)
        log.exception("could not record a request's reads")
