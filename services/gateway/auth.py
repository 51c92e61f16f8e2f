"""Who is calling: a personal API token (`Authorization: Bearer`) or the page's session cookie.
Every job route resolves the caller first, then checks ownership. Tokens and session secrets are
random; only their sha256 is stored, so a database dump lets no one in."""

import hashlib
import uuid
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, WebSocket
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from services.common.db import Reads
from services.gateway.recorded import reads_of

SESSION_COOKIE = "longform_session"
CSRF_HEADER = "X-Longform-CSRF"
_UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
_bearer = HTTPBearer(auto_error=False)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def user_for_token(reads: Reads, token: str) -> uuid.UUID | None:
    """The caller, who from then on owns the request's reads."""
    reads.user_id = await reads.fetchval(
        "SELECT user_id FROM gateway.api_tokens WHERE token_hash = $1 AND revoked_at IS NULL", secret_hash(token))
    return reads.user_id


async def user_for_session(reads: Reads, secret: str) -> uuid.UUID | None:
    reads.user_id = await reads.fetchval(
        "SELECT user_id FROM gateway.sessions WHERE secret_hash = $1 AND ended_at IS NULL AND expires_at > now()",
        secret_hash(secret))
    return reads.user_id


async def current_user(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> uuid.UUID:
    if credentials is not None:
        user_id = await user_for_token(reads_of(request), credentials.credentials)
        if user_id is None:
            raise HTTPException(401, "invalid token", headers={"WWW-Authenticate": "Bearer"})
        return user_id
    user_id = await page_user(request)
    if user_id is None:
        raise HTTPException(401, "not signed in: send 'Authorization: Bearer <token>' or sign in",
                            headers={"WWW-Authenticate": "Bearer"})
    # A browser sends the cookie with any site's form; only our own scripts can add this header.
    if request.method in _UNSAFE_METHODS and request.headers.get(CSRF_HEADER) != "1":
        raise HTTPException(403, f"a request signed in by the session cookie must carry the header {CSRF_HEADER}: 1")
    return user_id


async def page_user(connection: HTTPConnection) -> uuid.UUID | None:
    """The caller by the session cookie alone, or None (the page sends them to /login)."""
    secret = connection.cookies.get(SESSION_COOKIE)
    return await user_for_session(reads_of(connection), secret) if secret else None


async def websocket_user(websocket: WebSocket) -> uuid.UUID | None:
    """Browsers cannot set headers on a websocket: the token may also come as `access_token`, and
    the page's socket carries the session cookie."""
    header = websocket.headers.get("authorization", "")
    token = header[7:] if header.lower().startswith("bearer ") else websocket.query_params.get("access_token")
    if token:
        return await user_for_token(reads_of(websocket), token)
    return await page_user(websocket) if _same_origin(websocket) else None


def _same_origin(websocket: WebSocket) -> bool:
    """Another site's page may open a socket to us, and the browser would add our cookie."""
    origin = websocket.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == websocket.headers.get("host")


def job_not_found() -> HTTPException:
    # The same answer for a job that does not exist and another user's job, so ids cannot be probed.
    return HTTPException(404, "job not found")
