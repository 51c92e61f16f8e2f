"""Following a job: its audit log line by line from the websocket (reconnecting from the last
sequence number seen, so no line is lost or repeated) and its state from the API, until the job
has ended, its last ending event has been shown, and so has every line its log held by then
(events stored after the ending, such as a late memory fold or logged reads, too)."""

import asyncio
import json
from typing import Callable

import websockets

from longform_cli.client.gateway import CliError, Gateway

TERMINAL = ("completed", "failed", "cancelled")
_ENDING_EVENTS = ("job.completed", "job.failed", "job.cancelled")
_RESTARTING_EVENTS = ("job.resume_requested", "job.resumed")
_POLL_SECONDS = 1.0
_RECONNECTS = 5
_REFUSALS = {4401: "the gateway did not accept your token (run `longform login`)", 4404: "job not found"}


class Follower:
    def __init__(self, gateway: Gateway, job_id: str, on_line: Callable[[dict], None],
                 on_state: Callable[[dict], None] = lambda state: None) -> None:
        self.gateway = gateway
        self.job_id = job_id
        self.on_line = on_line
        self.on_state = on_state
        self.last_seq = 0
        self.ended = asyncio.Event()  # the log's latest word is an ending event

    async def run(self) -> dict:
        """The job's final state, once it has ended and the log has caught up with it."""
        tail = asyncio.create_task(self._tail())
        try:
            while True:
                state = await self.gateway.job(self.job_id)
                self.on_state(state)
                if state["status"] in TERMINAL and self.ended.is_set() and self.last_seq >= state["last_seq"]:
                    return state  # every line the log held when the state was read has been shown
                await self._until_news(tail)
        finally:
            tail.cancel()

    async def _until_news(self, tail: asyncio.Task) -> None:
        """Until the log shows an ending, the next poll is due, or the tail gave up (which raises)."""
        ending = None if self.ended.is_set() else asyncio.ensure_future(self.ended.wait())
        await asyncio.wait({tail, ending} - {None}, timeout=_POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        if ending is not None:
            ending.cancel()
        if tail.done():
            raise tail.exception() or CliError("the live audit log stopped")

    async def _tail(self) -> None:
        failures = 0
        while True:
            try:
                await self._read_socket()
                failures = 0
            except websockets.ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
                if code in _REFUSALS:
                    raise CliError(f"live audit refused: {_REFUSALS[code]}") from None
            except (OSError, websockets.InvalidHandshake):
                failures += 1
                if failures > _RECONNECTS:
                    raise CliError(f"cannot reach the gateway's websocket at {self.gateway.url}") from None
            await asyncio.sleep(min(0.5 * (failures + 1), 3.0))

    async def _read_socket(self) -> None:
        headers = {"Authorization": f"Bearer {self.gateway.token}"}
        async with websockets.connect(self.gateway.live_url(self.job_id, self.last_seq),
                                      additional_headers=headers, max_size=None) as socket:
            async for message in socket:
                line = json.loads(message)
                if line["seq"] <= self.last_seq:
                    continue
                self.last_seq = line["seq"]
                if line["type"] in _ENDING_EVENTS:
                    self.ended.set()
                elif line["type"] in _RESTARTING_EVENTS:
                    self.ended.clear()
                self.on_line(line)
