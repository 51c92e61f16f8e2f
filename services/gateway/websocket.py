"""WS /v1/jobs/{id}/audit/live?after_seq=N: replay from the table, then live, with no gap or duplicate."""

import asyncio
import contextlib
import re
import uuid

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from contracts.auditlog import encode_line
from services.gateway import store
from services.common.db import Reads
from services.gateway.auth import websocket_user
from services.gateway.recorded import flush, reads_of

router = APIRouter()
_WHOLE_NUMBER = re.compile("-?[0-9]+")
_MAX_SEQ = 2**63 - 1  # seq is a bigint: any larger after_seq is simply past the end
TOO_SLOW = 4408  # the client fell further behind than the live queue holds: it reconnects with after_seq


@router.websocket("/v1/jobs/{job_id}/audit/live")
async def live_audit(websocket: WebSocket, job_id: str, after_seq: str = "0") -> None:
    """Parameters are read here, not by FastAPI, which would refuse them with a bare 403 at the handshake."""
    reads = reads_of(websocket)
    # Accept first so the refusal carries a code and reason the client can read (4401/4404/4422, like HTTP's).
    await websocket.accept()
    user_id = await websocket_user(websocket)
    if user_id is None:
        await websocket.close(code=4401, reason="missing or invalid token")
        return
    if not _WHOLE_NUMBER.fullmatch(after_seq):
        await websocket.close(code=4422, reason="after_seq must be a whole number")
        return
    job = await _owned_job(reads, user_id, job_id)
    if job is None:
        await websocket.close(code=4404, reason="job not found")
        return
    sent, behind = _Sent(min(max(int(after_seq), 0), _MAX_SEQ)), asyncio.Event()
    sender = asyncio.create_task(_send_events(websocket, reads, job["id"], sent, behind.set))
    reader = asyncio.create_task(_until_disconnect(websocket))
    dropper = asyncio.create_task(behind.wait())
    recorder = asyncio.create_task(_flush_every(reads, websocket.app.state.settings.live_audit_flush_seconds))
    # Whichever ends first (the client leaves, sending fails, or the client is too slow) ends the
    # others: no handler lingers, and a send stuck on a client that reads nothing is abandoned.
    await asyncio.wait({sender, reader, dropper}, return_when=asyncio.FIRST_COMPLETED)
    for task in (sender, reader, dropper, recorder):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await task
    if websocket.client_state == WebSocketState.CONNECTED:
        code, reason = (TOO_SLOW, f"too slow: reconnect with after_seq={sent.seq}") if behind.is_set() else (1000, None)
        with contextlib.suppress(Exception):
            await websocket.close(code, reason)


async def _owned_job(reads: Reads, user_id: uuid.UUID, job_id: str):
    try:
        return await store.job_view(reads, user_id, uuid.UUID(job_id))
    except ValueError:  # not a job id: as unknown as any other
        return None


class _Sent:
    """The seq of the last line handed to the socket (what a dropped client resumes after)."""

    def __init__(self, seq: int) -> None:
        self.seq = seq


async def _send_events(websocket: WebSocket, reads: Reads, job_id: uuid.UUID, sent: _Sent, too_slow) -> None:
    async for event in websocket.app.state.live.follow(reads, str(job_id), sent.seq, too_slow):
        await websocket.send_text(encode_line(event).decode())
        sent.seq = event["seq"]


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
