"""The audit's live fan-out never makes the writer wait: with its queue full, a committed batch's
lines are dropped and counted (listeners re-read them from the table), and the lines queued
before are still sent, in order."""

import asyncio

from services.audit.fanout import LiveFanout
from services.common.ops import LIVE_LINES_DROPPED


class _Published:
    """Stands in for the bus's core-NATS publishing: records what was sent."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, bytes]] = []
        self.sent = asyncio.Condition()

    async def publish_live(self, stream_id: str, payload: bytes) -> None:
        self.lines.append((stream_id, payload))
        async with self.sent:
            self.sent.notify_all()

    async def until(self, count: int) -> None:
        async with self.sent:
            await asyncio.wait_for(self.sent.wait_for(lambda: len(self.lines) >= count), timeout=10)

    async def publish_anchor(self, job_id: str, payload: bytes) -> None:
        self.lines.append((f"anchor:{job_id}", payload))


async def test_a_full_queue_drops_a_batch_without_waiting_and_keeps_the_ones_before() -> None:
    bus = _Published()
    live = LiveFanout(bus, batches=1)
    dropped_before = LIVE_LINES_DROPPED._value.get()
    live.hand_over([("job", b'{"seq":1}')])
    live.hand_over([("job", b'{"seq":2}'), ("job", b'{"seq":3}')])  # returns at once: the queue is full
    assert LIVE_LINES_DROPPED._value.get() - dropped_before == 2

    fanout = asyncio.create_task(live.run())
    await bus.until(1)
    live.hand_over([("job", b'{"seq":4}')])
    await bus.until(2)
    fanout.cancel()
    assert bus.lines == [("job", b'{"seq":1}'), ("job", b'{"seq":4}')]


async def test_a_streams_lines_of_a_batch_go_in_one_message_each_stream_apart_and_none_too_long() -> None:
    bus = _Published()
    long = b'{"seq":4,"data":"' + b"x" * (300 * 1024) + b'"}'
    await LiveFanout(bus, batches=1).publish([("a", b'{"seq":1}'), ("a", b'{"seq":2}'), ("b", b'{"seq":1}'),
                                              ("a", b'{"seq":3}'), ("a", long), ("a", b'{"seq":5}')])
    assert bus.lines == [("a", b'{"seq":1}\n{"seq":2}'), ("b", b'{"seq":1}'), ("a", b'{"seq":3}'), ("a", long),
                         ("a", b'{"seq":5}')]


async def test_a_completed_jobs_head_is_anchored_after_its_line() -> None:
    bus = _Published()
    before, line = b'{"seq":8,"type":"db.query","hash":"cd"}', b'{"seq":9,"type":"job.completed","hash":"ab"}'
    await LiveFanout(bus, batches=1).publish([("job", before), ("job", line)])
    assert bus.lines == [("job", before + b"\n" + line), ("anchor:job", b'{"job_id": "job", "seq": 9, "hash": "ab"}')]
