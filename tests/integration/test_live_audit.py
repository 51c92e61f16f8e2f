"""The websocket replays from the table, then streams live, with no gap and no duplicate; a
client that stops reading is dropped with a reason and resumes with `after_seq`, while the
audit's writes and the other clients go on."""

import asyncio
import json
import socket
import uuid
from urllib.parse import urlsplit

import nats
import websockets
from websockets.client import ClientProtocol
from websockets.frames import Close, Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from contracts.envelope import Envelope
from contracts.subjects import Subjects
from services.gateway.websocket import TOO_SLOW
from tests.integration.client import ApiClient

# Lines of ~10 KB for one job: far more than a stalled socket's buffers (the kernel's, up to 4 MB)
# and its live queue (the gateway's live_queue_size, 1000) hold together.
_PADDING = 2000


async def _collect(client: ApiClient, job_id: str, after_seq: int, until_type: str | None, count: int | None):
    headers = {"Authorization": f"Bearer {client.token}"}
    events = []
    async with websockets.connect(client.live_url(job_id, after_seq), additional_headers=headers) as ws:
        while True:
            event = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
            events.append(event)
            if event["type"] == until_type or (count is not None and len(events) == count):
                return events


async def test_websocket_replays_exactly_what_the_download_holds(client) -> None:
    job_id = client.submit(1200)
    assert (await asyncio.to_thread(client.wait, job_id))["status"] == "completed"
    downloaded = client.audit(job_id)
    replayed = await _collect(client, job_id, 0, None, len(downloaded))
    assert replayed == downloaded


async def test_websocket_resumes_after_a_given_seq_without_gap_or_duplicate(client) -> None:
    job_id = client.submit(1200)
    assert (await asyncio.to_thread(client.wait, job_id))["status"] == "completed"
    downloaded = client.audit(job_id)
    middle = len(downloaded) // 2
    rest = await _collect(client, job_id, middle, None, len(downloaded) - middle)
    assert rest == downloaded[middle:]


async def test_a_client_following_a_running_job_sees_every_event_once_in_order(client) -> None:
    job_id = client.submit(4000)
    first = await _collect(client, job_id, 0, None, 5)  # disconnect early, then reconnect
    rest = await _collect(client, job_id, first[-1]["seq"], "job.completed", None)
    seen = first + rest
    assert [e["seq"] for e in seen] == list(range(1, len(seen) + 1))
    await asyncio.to_thread(client.wait, job_id)
    assert seen == client.audit(job_id)[: len(seen)]


async def test_a_stalled_client_is_dropped_and_resumes_while_writes_and_other_clients_go_on(
        client, nats_url, bus_prefix) -> None:
    job_id = client.submit(300)
    assert (await asyncio.to_thread(client.wait, job_id))["status"] == "completed"
    log = client.audit(job_id)
    start, user_id = log[-1]["seq"], log[0]["user_id"]
    stalled = await _StalledClient.open(client, job_id, start)  # reads nothing until told
    fast = await _connect(client, job_id, start)
    padding = await _publish_padding(nats_url, bus_prefix, job_id, user_id)

    fast_lines = await _read_until(fast, padding)  # the other client gets every line meanwhile ...
    stored = client.audit(job_id)  # ... and the audit service stored them all
    assert padding <= {e["event_id"] for e in stored}
    assert fast_lines == [e for e in stored if start < e["seq"] <= fast_lines[-1]["seq"]]

    before_drop, closed = await stalled.read_to_the_end()  # what reached it, then why it was dropped
    assert (closed.code, closed.reason) == (TOO_SLOW, f"too slow: reconnect with after_seq={before_drop[-1]['seq']}")
    assert len(before_drop) < len(fast_lines)
    assert before_drop == fast_lines[:len(before_drop)]

    resumed = await _connect(client, job_id, before_drop[-1]["seq"])
    rest = await _read_until(resumed, padding - {e["event_id"] for e in before_drop})
    await asyncio.gather(fast.close(), resumed.close())
    seen = before_drop + rest  # nothing lost, nothing twice, in seq order
    assert seen == [e for e in client.audit(job_id) if start < e["seq"] <= seen[-1]["seq"]]


async def _connect(client: ApiClient, job_id: str, after_seq: int):
    headers = {"Authorization": f"Bearer {client.token}"}
    return await websockets.connect(client.live_url(job_id, after_seq), additional_headers=headers)


class _StalledClient:
    """A websocket client that reads nothing until told: websockets' sans-I/O protocol over a
    socket whose kernel receive buffer is small (the websockets client library would go on
    reading into its own buffers), so the gateway's sends to it soon stop going through."""

    def __init__(self, protocol: ClientProtocol, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.protocol, self.reader, self.writer = protocol, reader, writer
        self.frames: list = []

    @classmethod
    async def open(cls, client: ApiClient, job_id: str, after_seq: int) -> "_StalledClient":
        address = urlsplit(client.base_url)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (address.hostname, address.port))
        reader, writer = await asyncio.open_connection(sock=sock)
        stalled = cls(ClientProtocol(parse_uri(client.live_url(job_id, after_seq)), max_size=None), reader, writer)
        request = stalled.protocol.connect()
        request.headers["Authorization"] = f"Bearer {client.token}"
        stalled.protocol.send_request(request)
        while stalled.protocol.state is not State.OPEN:  # the handshake's answer, then nothing more is read
            await stalled._receive()
        return stalled

    async def read_to_the_end(self) -> tuple[list[dict], Close]:
        """Every line that reached it, and the close frame after them."""
        while not any(frame.opcode is Opcode.CLOSE for frame in self.frames):
            await self._receive()
        self.writer.close()
        lines = [json.loads(f.data) for f in self.frames if f.opcode is Opcode.TEXT]
        return lines, next(Close.parse(f.data) for f in self.frames if f.opcode is Opcode.CLOSE)

    async def _receive(self) -> None:
        self.writer.write(b"".join(self.protocol.data_to_send()))
        data = await asyncio.wait_for(self.reader.read(2**16), timeout=60)
        self.protocol.receive_eof() if not data else self.protocol.receive_data(data)
        self.frames += [event for event in self.protocol.events_received() if isinstance(event, Frame)]
        if not data and self.protocol.state is not State.OPEN:
            self.frames.append(Frame(Opcode.CLOSE, Close(1006, "").serialize()))


async def _publish_padding(nats_url: str, bus_prefix: str, job_id: str, user_id: str) -> set[str]:
    """_PADDING events of the job on the bus, as any service's reach the audit service; their ids."""
    subjects, nc = Subjects(bus_prefix), await nats.connect(nats_url)
    events = [Envelope(event_id=uuid.uuid4(), job_id=uuid.UUID(job_id), user_id=uuid.UUID(user_id),
                       type="test.padding", service="test", data={"n": n, "text": "x" * 10_000}) for n in range(_PADDING)]
    try:
        js = nc.jetstream()
        for e in events:
            await js.publish(subjects.of(e.type), e.model_dump_json().encode(), stream=subjects.stream)
    finally:
        await nc.close()
    return {str(e.event_id) for e in events}


async def _read_until(ws, event_ids: set[str]) -> list[dict]:
    """Lines until every one of these events has come (with whatever else the log holds between)."""
    lines, waiting = [], set(event_ids)
    while waiting:
        lines.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=60)))
        waiting.discard(lines[-1]["event_id"])
    return lines
