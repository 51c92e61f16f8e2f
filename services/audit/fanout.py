"""The live fan-out, off the write path: the writer hands each committed batch's lines over
without waiting, and a task of its own publishes them on core NATS. The queue between them is
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
        for stream, line in lines:
            await self.bus.publish_live(stream, line)
            if _COMPLETED in line and (event := json.loads(line))["type"] == "job.completed":
                # A finished job's chain head, anchored outside the database.
                await self.bus.publish_anchor(stream, json.dumps(
                    {"job_id": stream, "seq": event["seq"], "hash": event["hash"]}).encode())
