"""The message bus: NATS JetStream through FastStream. One stream holds every Longform
subject; each service reads it through durable pull consumers shared by its replicas."""

import asyncio
import contextlib
import logging
import traceback
from typing import Awaitable, Callable

import nats
import nats.errors
from faststream import AckPolicy
from faststream.exceptions import NackMessage, RejectMessage
from faststream.nats import JStream, NatsBroker, NatsMessage, PullSub
from nats.js.api import ConsumerConfig, StorageType, StreamConfig
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from contracts.envelope import Envelope
from contracts.subjects import Subjects

log = logging.getLogger(__name__)
Handler = Callable[[Envelope], Awaitable[None]]
BatchHandler = Callable[[list[Envelope]], Awaitable[None]]
_DUPLICATE_WINDOW_S = 120.0


async def ensure_stream(nats_url: str, subjects: Subjects, replicas: int = 1) -> None:
    """Creates the stream if it is missing; an existing one is left as the operator configured it."""
    nc = await nats.connect(nats_url, connect_timeout=5, max_reconnect_attempts=5)
    try:
        js = nc.jetstream()
        try:
            await js.stream_info(subjects.stream)
        except NotFoundError:
            await js.add_stream(StreamConfig(
                name=subjects.stream, subjects=[subjects.all], storage=StorageType.FILE,
                duplicate_window=_DUPLICATE_WINDOW_S, num_replicas=replicas,
            ))
    finally:
        await nc.close()


class Bus:
    def __init__(self, nats_url: str, subjects: Subjects, service: str, *, stream_replicas: int = 1,
                 max_ack_pending: int = 1000) -> None:
        self.stream_replicas = stream_replicas
        self.on_failure: Callable[[Envelope, str, bool], Awaitable[None]] | None = None
        self.max_ack_pending = max_ack_pending  # across all replicas of a consumer
        self.subjects = subjects
        self.service = service
        self.broker = NatsBroker(
            nats_url, max_reconnect_attempts=-1, reconnect_time_wait=1, logger=log, log_level=logging.DEBUG
        )
        self._stream = JStream(subjects.stream, declare=False)
        self.nats_url = nats_url

    async def report_failure(self, envelope: Envelope, trace: str, final: bool) -> None:
        """Set by the service's wiring to record the failure; a report that fails is only logged."""
        if self.on_failure is None:
            return
        try:
            await self.on_failure(envelope, trace, final)
        except Exception:
            log.exception("could not record the failure of %s %s", envelope.type, envelope.event_id)

    async def start(self) -> None:
        await ensure_stream(self.nats_url, self.subjects, self.stream_replicas)
        await self.broker.start()

    async def stop(self) -> None:
        await self.broker.stop()

    async def publish(self, message_type: str, payload: bytes, msg_id: str) -> None:
        await self.broker.publish(
            payload, self.subjects.of(message_type), headers={"Nats-Msg-Id": msg_id},
            stream=self.subjects.stream, timeout=5,
        )

    async def publish_live(self, stream_id: str, payload: bytes) -> None:
        await self.broker.publish(payload, self.subjects.live(stream_id))

    def subscribe(
        self, message_type: str, handler: Handler, *, ack_wait: float = 30.0,
        max_deliver: int = 20, workers: int = 1,
    ) -> None:
        """A durable consumer named after this service and the message type."""
        durable = f"{self.service}-{'all' if message_type == '>' else message_type.replace('.', '-')}"
        subject = self.subjects.of(message_type)
        self.broker.subscriber(
            subject, stream=self._stream, durable=durable,
            pull_sub=PullSub(batch_size=1, timeout=5.0), max_workers=workers,
            config=ConsumerConfig(
                ack_wait=ack_wait, max_deliver=max_deliver, max_ack_pending=self.max_ack_pending,
                filter_subject=subject,
            ),
            ack_policy=AckPolicy.NACK_ON_ERROR,
        )(_acknowledged(handler, ack_wait, max_deliver, self))

    async def consume_batches(self, handler: BatchHandler, *, batch_size: int = 100) -> None:
        """One durable consumer over every subject, handed batches in stream order; each batch is
        acked only after the handler returns (its transaction committed), else nacked for redelivery.
        Written on nats-py directly: FastStream 0.7.8's batch pull loop drops a fetched batch when
        nats-py raises asyncio.TimeoutError mid-fetch."""
        nc = await nats.connect(self.nats_url, max_reconnect_attempts=-1, reconnect_time_wait=1)
        try:
            sub = await nc.jetstream().pull_subscribe(
                self.subjects.all, durable=f"{self.service}-all", stream=self.subjects.stream,
                config=ConsumerConfig(ack_wait=30.0, max_deliver=-1, max_ack_pending=batch_size * 2),
            )
            while True:
                await _consume_one_batch(sub, handler, batch_size)
        finally:
            await nc.close()


def _acknowledged(handler: Handler, ack_wait: float, max_deliver: int, bus: "Bus") -> Callable:
    """Run the handler with in-progress heartbeats, so a long LLM call is not redelivered. On
    failure: report it (an `error` event with the traceback), then nack with a growing delay;
    a message that can never succeed (its payload is invalid) or has used its last delivery is
    terminated and reported as final, so the job fails with a reason instead of waiting forever."""

    async def consume(body: dict, msg: NatsMessage) -> None:
        try:
            envelope = Envelope.model_validate(body)
        except ValidationError:
            log.error("terminating a message that is not an envelope: %.300r", body)
            raise RejectMessage()
        heartbeat = asyncio.create_task(_heartbeat(msg, ack_wait / 3))
        try:
            await handler(envelope)
        except Exception as exc:
            delivered = msg.raw_message.metadata.num_delivered
            final = isinstance(exc, ValidationError) or 0 < max_deliver <= delivered
            log.exception("%s %s failed (delivery %d%s)", envelope.type, envelope.event_id, delivered,
                          ", final" if final else "")
            await bus.report_failure(envelope, traceback.format_exc(), final)
            raise RejectMessage() if final else NackMessage(delay=min(0.5 * 2 ** min(delivered, 6), 30.0))
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    return consume


async def _consume_one_batch(sub, handler: BatchHandler, batch_size: int) -> None:
    try:
        messages = await sub.fetch(batch_size, timeout=1.0)
    except (asyncio.TimeoutError, nats.errors.TimeoutError):
        return
    envelopes = []
    for msg in messages:
        try:
            envelopes.append(Envelope.model_validate_json(msg.data))
        except ValueError:
            log.error("ignoring a message that is not an envelope on %s: %.300r", msg.subject, msg.data)
    try:
        await handler(envelopes)
    except Exception:
        log.exception("a batch of %d events failed; it will be redelivered", len(envelopes))
        for msg in messages:
            await msg.nak(delay=1.0)
        return
    for msg in messages:
        await msg.ack()


async def _heartbeat(msg: NatsMessage, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        await msg.in_progress()
