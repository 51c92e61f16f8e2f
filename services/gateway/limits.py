"""The request body limit (`max_body_bytes`). A body is refused at once when its Content-Length is
over the limit, and as soon as it streams past the limit when it declares none (chunked), so no
body over the limit is ever read whole, into memory or into an upload's spool file."""

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.plain import body_too_large


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await JSONResponse({"detail": self._too_large(), "message": body_too_large(self.limit)},
                               status_code=413)(scope, receive, send)
            return
        await self.app(scope, self._counting(receive), send)

    def _counting(self, receive: Receive) -> Receive:
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                # Raised inside the route that reads the body, so the app answers it like any 413.
                raise HTTPException(413, self._too_large())
            return message

        return counted

    def _too_large(self) -> list[dict]:
        return [{"type": "too_large", "loc": ["body"],
                 "msg": f"request body is over this server's limit of {self.limit} bytes (max_body_bytes)"}]
