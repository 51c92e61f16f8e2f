"""Live fan-out: the audit service publishes each persisted event on core NATS (a stream's
lines of a batch in one message, one a row); a websocket
replays from the table, then follows live, and re-reads the table whenever it sees a gap, so
the client gets every seq once, in order. Each socket has its own bounded queue, filled by the
NATS callback without waiting: a client further behind than the queue holds is dropped (the
caller closes it with a reason) and resumes with `after_seq`, so it never holds back the
audit's writes, the gateway's one NATS connection, or any other client."""

import asyncio
import json
import logging
from typing import AsyncIterator, Callable

from nats.aio.client import Client

from contracts.auditlog import event_line
from contracts.subjects import Subjects
from services.common.db import Reads
from services.gateway import store

log = logging.getLogger(__name__)
_POLL_SECONDS = 2.0  # safety net: catches an event whose live copy was lost


class LiveFeed:
    """Subscribes on the gateway's one NATS connection, the bus's."""

    def __init__(self, nc: Client, subjects: Subjects, queue_size: int) -> None:
        self.nc = nc
        self.subjects = subjects
        self.queue_size = queue_size

    async def follow(self, reads: Reads, stream_id: str, after_seq: int,
                     too_slow: Callable[[], None]) -> AsyncIterator[dict]:
        """Every event of the stream with seq > after_seq, in order, then live; never ends by
        itself. `too_slow` is called (from the NATS callback, while the consumer may be stuck in
        a send) once more live lines wait than the queue holds."""
        queue: asyncio.Queue = asyncio.Queue(self.queue_size)

        async def on_message(msg) -> None:
            try:
                for line in msg.data.split(b"\n"):  # a batch's lines of the stream (services/audit/fanout.py)
                    queue.put_nowait(line)
            except asyncio.QueueFull:
                too_slow()

        sub = await self.nc.subscribe(self.subjects.live(stream_id), cb=on_message)
        try:
            last = after_seq
            while True:
                async for event in _from_table(reads, stream_id, last):
                    last = event["seq"]
                    yield event
                async for event in _live(queue, last):
                    last = event["seq"]
                    yield event
        finally:
            await sub.unsubscribe()


async def _from_table(reads: Reads, stream_id: str, after_seq: int) -> AsyncIterator[dict]:
    while True:
        rows = await store.events_after(reads, stream_id, after_seq)
        for row in rows:
            after_seq = row["seq"]
            yield event_line(row)
        if len(rows) < 500:
            return


async def _live(queue: asyncio.Queue, last: int) -> AsyncIterator[dict]:
    """Yields live events while they follow on without a gap; returns to let the caller re-read the table."""
    while True:
        try:
            # Not asyncio.wait_for: on Python 3.11 it loses a cancel that comes as the line does,
            # and the socket's handler would wait for this sender for ever (seen once a batch's
            # lines came in one message: test_live_audit.py's stalled client never dropped).
            async with asyncio.timeout(_POLL_SECONDS):
                event = json.loads(await queue.get())
        except TimeoutError:
            return
        if event["seq"] <= last:
            continue
        if event["seq"] != last + 1:
            return
        last = event["seq"]
        yield event
