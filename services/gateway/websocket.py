"""WS /v1/jobs/{id}/audit/live?after_seq=N: replay from the table, then live, with no gap or duplicate."""

import asyncio
import contextlib
import uuid

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from contracts.auditlog import encode_line
from services.gateway import store
from services.common.db import Reads
from services.gateway.auth import websocket_user
from services.gateway.recorded import flush, reads_of

router = APIRouter()


@router.websocket("/v1/jobs/{job_id}/audit/live")
async def live_audit(websocket: WebSocket, job_id: uuid.UUID, after_seq: int = 0) -> None:
    reads = reads_of(websocket)
    # Accept first so the refusal carries a code and reason the client can read (4401/4404, like HTTP's).
    await websocket.accept()
    user_id = await websocket_user(websocket)
    if user_id is None:
        await websocket.close(code=4401, reason="missing or invalid token")
        return
    if await store.job_view(reads, user_id, job_id) is None:
        await websocket.close(code=4404, reason="job not found")
        return
    sender = asyncio.create_task(_send_events(websocket, reads, job_id, max(after_seq, 0)))
    reader = asyncio.create_task(_until_disconnect(websocket))
    recorder = asyncio.create_task(_flush_every(reads, websocket.app.state.settings.live_audit_flush_seconds))
    # Whichever ends first (the client leaves, or sending fails) ends the other: no handler lingers.
    await asyncio.wait({sender, reader}, return_when=asyncio.FIRST_COMPLETED)
    for task in (sender, reader, recorder):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await task
    if websocket.client_state == WebSocketState.CONNECTED:
        with contextlib.suppress(Exception):
            await websocket.close()


async def _send_events(websocket: WebSocket, reads: Reads, job_id: uuid.UUID, after_seq: int) -> None:
    async for event in websocket.app.state.live.follow(reads, str(job_id), after_seq):
        await websocket.send_text(encode_line(event).decode())


async def _flush_every(reads: Reads, seconds: float) -> None:
    """A socket may stay open for hours: its reads reach the job's log every `seconds` (the rest
    when it closes)."""
    while True:
        await asyncio.sleep(seconds)
        await flush(reads)


async def _until_disconnect(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()
