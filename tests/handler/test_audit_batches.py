"""The audit's batch consumer (services/common/batches.py) on the session's real NATS: every
message of a batch the handler stored is acknowledged (its acks go out in one write to the
connection), and a batch whose handler fails comes back and is then acknowledged too, so the
consumer ends with nothing pending and its ack floor at the stream's last message."""

import asyncio
import secrets
import uuid

from contracts.envelope import Envelope
from contracts.subjects import Subjects
from services.common.batches import consume_batches
from services.common.bus import Bus
from services.common.consumers import Consumer, EVERY_SUBJECT
from services.common.retry import Backoff

WAIT = 30.0
EVENTS = 25


def _events() -> list[Envelope]:
    job = uuid.uuid4()
    return [Envelope(event_id=uuid.uuid4(), job_id=job, user_id=None, type="chunk.processed", service="generator",
                     data={"chunk_index": i}) for i in range(EVENTS)]


async def _settled(js, subjects: Subjects, consumer: Consumer):
    """The consumer's state once nothing is left to deliver or acknowledge."""
    async with asyncio.timeout(WAIT):
        while True:
            info = await js.consumer_info(subjects.stream, consumer.name)
            if info.num_pending == 0 and info.num_ack_pending == 0:
                return info
            await asyncio.sleep(0.05)


async def test_each_message_of_a_stored_batch_is_acked_and_a_failed_batch_comes_back(nats_url):
    subjects = Subjects(f"lfbatch{secrets.token_hex(4)}")
    bus = Bus(nats_url, subjects, "audit")
    await bus.connect()
    js = bus.connection.jetstream()
    consumer = Consumer("audit", EVERY_SUBJECT, ack_wait=WAIT, max_deliver=-1, redelivery=Backoff(first=0.05, cap=0.05),
                        batch_size=10, max_ack_pending=20)
    sent = _events()
    for envelope in sent:
        await js.publish(subjects.of(envelope.type), envelope.model_dump_json().encode(), stream=subjects.stream)

    handed: list[list[str]] = []
    everything = asyncio.Event()

    async def handler(events: list[Envelope]) -> None:
        handed.append([str(e.event_id) for e in events])
        if len(handed) == 2:
            raise RuntimeError("the second batch fails once")
        if {i for batch in handed[:1] + handed[2:] for i in batch} >= {str(e.event_id) for e in sent}:
            everything.set()

    async def prepared(events: list[Envelope]) -> list[Envelope]:
        return events

    consuming = asyncio.create_task(consume_batches(bus.connection, js, subjects, consumer, handler,
                                                    Envelope.model_validate_json, prepared))
    try:
        async with asyncio.timeout(WAIT):
            await everything.wait()
        info = await _settled(js, subjects, consumer)
    finally:
        consuming.cancel()
        await js.delete_stream(subjects.stream)
        await bus.stop()

    assert info.ack_floor.stream_seq == EVENTS  # every message acked, the last one included
    failed = set(handed[1])
    assert failed and all(sum(i in batch for batch in handed) == 2 for i in failed)  # handed again after the failure
    stored = [i for batch in handed[:1] + handed[2:] for i in batch]
    assert sorted(stored) == sorted(str(e.event_id) for e in sent)  # each stored once
