"""Bearer tokens: every job route resolves the caller first, then checks ownership."""

import uuid

from fastapi import Depends, HTTPException, Request, WebSocket
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.gateway import store
from services.gateway.recorded import reads_of

_bearer = HTTPBearer(auto_error=False)


async def current_user(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> uuid.UUID:
    if credentials is None:
        raise HTTPException(401, "missing bearer token: send 'Authorization: Bearer <token>'",
                            headers={"WWW-Authenticate": "Bearer"})
    user_id = await store.user_for_token(reads_of(request), credentials.credentials)
    if user_id is None:
        raise HTTPException(401, "invalid token", headers={"WWW-Authenticate": "Bearer"})
    return user_id


async def websocket_user(websocket: WebSocket) -> uuid.UUID | None:
    """Browsers cannot set headers on a websocket, so the token may also come as `access_token`."""
    header = websocket.headers.get("authorization", "")
    token = header[7:] if header.lower().startswith("bearer ") else websocket.query_params.get("access_token")
    return await store.user_for_token(reads_of(websocket), token) if token else None


def job_not_found() -> HTTPException:
    # The same answer for a job that does not exist and another user's job, so ids cannot be probed.
    return HTTPException(404, "job not found")
