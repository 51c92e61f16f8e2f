"""The live fan-out, off the write path: the writer hands each committed batch's lines over
without waiting, and a task of its own publishes them on core NATS, a stream's lines of a batch
in one message, one line a row (a line is compact JSON: it holds no newline), up to a size a
NATS server takes (a message a line cost 2,500 publishes a batch). The queue between them is
bounded; when it is full the batch's lines are dropped and counted, never waited for: live lines
are at most once already, and a listener that sees a gap in seq re-reads the table
(services/gateway/live.py), so a slow publisher can cost a listener a re-read, never a writer
its pace."""

import asyncio
import json
import logging

from services.common.bus import Bus
from services.common.ops import LIVE_LINES_DROPPED

log = logging.getLogger(__name__)
_COMPLETED = b'"type":"job.completed"'
_MESSAGE_BYTES = 256 * 1024  # well under NATS's default max_payload (1 MiB); a longer line goes alone
Lines = list[tuple[str, bytes]]  # (stream id, line) in commit order


class LiveFanout:
    def __init__(self, bus: Bus, batches: int) -> None:
        self.bus = bus
        self._queue: asyncio.Queue[Lines] = asyncio.Queue(batches)

    def hand_over(self, lines: Lines) -> None:
        """Never blocks: a full queue drops these lines (the table has them)."""
        if not lines:
            return
        try:
            self._queue.put_nowait(lines)
        except asyncio.QueueFull:
            LIVE_LINES_DROPPED.inc(len(lines))
            log.warning("live fan-out behind: %d lines not sent live (listeners re-read them)", len(lines))

    async def run(self) -> None:
        while True:
            await self.publish(await self._queue.get())

    async def publish(self, lines: Lines) -> None:
        for stream, payload in _packed(lines):
            await self.bus.publish_live(stream, payload)
            if _COMPLETED in payload:
                for line in payload.split(b"\n"):
                    if _COMPLETED in line and (event := json.loads(line))["type"] == "job.completed":
                        # A finished job's chain head, anchored outside the database.
                        await self.bus.publish_anchor(stream, json.dumps(
                            {"job_id": stream, "seq": event["seq"], "hash": event["hash"]}).encode())


def _packed(lines: Lines) -> list[tuple[str, bytes]]:
    """Each run of one stream's lines joined into messages of at most _MESSAGE_BYTES (or one line)."""
    packed: list[tuple[str, bytes]] = []
    run: list[bytes] = []
    size, current = 0, None
    for stream, line in lines:
        if run and (stream != current or size + len(line) + 1 > _MESSAGE_BYTES):
            packed.append((current, b"\n".join(run)))
            run, size = [], 0
        run.append(line)
        size += len(line) + 1
        current = stream
    if run:
        packed.append((current, b"\n".join(run)))
    return packed
