"""The message bus: NATS JetStream through FastStream. One stream holds every Longform subject;
each service reads it through the durable pull consumers named in services/common/consumers.py,
shared by its replicas.

One NATS connection per process, and FastStream's broker owns it: the subscribers, the
publishing, the stream and consumer look-ups, the audit service's batch pull
(services/common/batches.py) and the gateway's live feed all use `Bus.connection`. Publishing
goes through nats-py's JetStream context on that connection rather than FastStream's
`broker.publish`, because FastStream waits for each message's ack before sending the next, and
the outbox relay sends hundreds in a row: here they are pipelined, in order, and their acks
awaited together."""

import asyncio
import contextlib
import logging
import traceback
from typing import Awaitable, Callable

from faststream import AckPolicy
from faststream.exceptions import NackMessage, RejectMessage
from faststream.nats import JStream, NatsBroker, NatsMessage, PullSub
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, StorageType, StreamConfig
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from contracts.envelope import Envelope
from contracts.steps import bind_step, step_of
from contracts.subjects import Subjects
from services.common.batches import BatchHandler, Decoder, Preparer, consume_batches
from services.common.consumers import Consumer
from services.common.logs import bind_job
from services.common.retry import OUTAGE

log = logging.getLogger(__name__)
Handler = Callable[[Envelope], Awaitable[None]]
FailureReport = Callable[[Envelope, str, bool], Awaitable[None]]  # envelope, traceback, given up
RedeliveryReport = Callable[[Envelope, int, str], Awaitable[None]]  # envelope, delivery, consumer name
OutageWait = Callable[[BaseException], Awaitable[bool]]  # True once the outage that raised it is over
_DUPLICATE_WINDOW_S = 120.0


async def _not_reported(*_) -> None:
    """A bus with no job log to write to (a test of the bus alone)."""


async def _no_outage(failure: BaseException) -> bool:
    return False


class Bus:
    """`on_failure` records a failed delivery (and, when it is given up, fails the job);
    `on_redelivery` puts a redelivery in the job's log before the handler runs again;
    `waited_out_outage` holds a message through a Postgres outage (services/common/db.py)."""

    def __init__(self, nats_url: str | list[str], subjects: Subjects, service: str, *, instance: str = "",
                 stream_replicas: int = 1, on_failure: FailureReport = _not_reported,
                 on_redelivery: RedeliveryReport = _not_reported, waited_out_outage: OutageWait = _no_outage) -> None:
        self.subjects = subjects
        self.service = service
        self.stream_replicas = stream_replicas
        self.on_failure = on_failure
        self.on_redelivery = on_redelivery
        self.waited_out_outage = waited_out_outage
        # nats-py reconnects by itself at a fixed interval (it takes no back-off function): the
        # longest wait of the outage policy, retried for ever.
        self.broker = NatsBroker(nats_url, name=instance or service, max_reconnect_attempts=-1,
                                 reconnect_time_wait=OUTAGE.cap, logger=log, log_level=logging.DEBUG)
        self._stream = JStream(subjects.stream, declare=False)
        self._js: JetStreamContext | None = None  # one context: its reply inbox is subscribed once

    @property
    def connection(self) -> Client:
        return self.broker.connection

    async def connect(self) -> None:
        """The process's connection, and the stream if it is missing; no subscriber starts yet
        (so `unacknowledged` can be asked before this process takes any message)."""
        if self._js is None:
            await self.broker.connect()
            self._js = self.connection.jetstream()
            await _ensure_stream(self._js, self.subjects, self.stream_replicas)

    async def start(self) -> None:
        await self.connect()
        await self.broker.start()

    async def stop(self) -> None:
        """Stops the subscribers and drains the connection: what was published goes out first."""
        await self.broker.stop()
        self._js = None

    async def report_failure(self, envelope: Envelope, trace: str, final: bool) -> None:
        """A report that fails is only logged: the message's own nack or term still happens."""
        try:
            await self.on_failure(envelope, trace, final)
        except Exception:
            log.exception("could not record the failure of %s %s", envelope.type, envelope.event_id)

    async def publish(self, message_type: str, payload: bytes, msg_id: str) -> None:
        await self.publish_in_order([(message_type, payload, msg_id)])

    async def publish_in_order(self, messages: list[tuple[str, bytes, str]], timeout: float = 5.0) -> None:
        """(type, payload, event id) messages, sent one after another on the connection (so the
        stream keeps their order) without waiting for each ack; returns once JetStream has
        acknowledged them all, and raises if it has not within `timeout` (the acks still
        awaited are then given up, so none holds a place in the client's pending limit)."""
        acks = [await self._js.publish_async(self.subjects.of(message_type), payload, stream=self.subjects.stream,
                                             headers={"Nats-Msg-Id": msg_id})
                for message_type, payload, msg_id in messages]
        await asyncio.wait_for(asyncio.gather(*acks), timeout)

    async def publish_live(self, stream_id: str, payload: bytes) -> None:
        """Core NATS, at most once: a listener that misses a line re-reads the table."""
        await self.connection.publish(self.subjects.live(stream_id), payload)

    async def publish_anchor(self, job_id: str, payload: bytes) -> None:
        """Core NATS, at most once, like live lines: the anchor is also in the log (its job.completed line)."""
        await self.connection.publish(self.subjects.anchor(job_id), payload)

    async def unacknowledged(self) -> int:
        """Messages this service's consumers delivered and have not seen acknowledged: work that a
        process of this service held when it died (or that a live replica holds now). Asked before
        `start`, it counts none of this process's own."""
        await self.connect()
        infos = await self._js.consumers_info(self.subjects.stream)
        return sum(info.num_ack_pending for info in infos if info.name.startswith(f"{self.service}-"))

    def subscribe(self, consumer: Consumer, handler: Handler) -> None:
        """`handler` takes each message of the consumer's type, as the consumer is configured."""
        if consumer.service != self.service:
            raise ValueError(f"{self.service} cannot read through {consumer.name}, a consumer of {consumer.service}")
        subject = self.subjects.of(consumer.message_type)
        self.broker.subscriber(
            subject, stream=self._stream, durable=consumer.name,
            pull_sub=PullSub(batch_size=1, timeout=5.0), max_workers=consumer.workers,
            config=ConsumerConfig(ack_wait=consumer.ack_wait, max_deliver=consumer.max_deliver,
                                  max_ack_pending=consumer.max_ack_pending, filter_subject=subject),
            ack_policy=AckPolicy.NACK_ON_ERROR,
        )(_acknowledged(handler, consumer, self))

    async def consume_batches(self, consumer: Consumer, handler: BatchHandler, decode: Decoder,
                              prepare: Preparer) -> None:
        """Every subject, in stream order, in batches (the audit service's consumer), each message
        read by `decode`, each batch made ready by `prepare` while the one before is handled: see
        services/common/batches.py for why this one pull is ours, not FastStream's."""
        await self.connect()
        await consume_batches(self.connection, self._js, self.subjects, consumer, handler, decode, prepare)


async def _ensure_stream(js: JetStreamContext, subjects: Subjects, replicas: int) -> None:
    """Creates the stream if it is missing; an existing one is left as the operator configured it."""
    try:
        await js.stream_info(subjects.stream)
    except NotFoundError:
        await js.add_stream(StreamConfig(
            name=subjects.stream, subjects=[subjects.all], storage=StorageType.FILE,
            duplicate_window=_DUPLICATE_WINDOW_S, num_replicas=replicas,
        ))


def _acknowledged(handler: Handler, consumer: Consumer, bus: Bus) -> Callable:
    """Run the handler with in-progress heartbeats, so a long LLM call is not redelivered. On
    failure: report it (an `error` event with the traceback), then nack with the consumer's
    redelivery back-off; a message that can never succeed (its payload is invalid) or has used its
    last delivery is terminated and reported as final, so the job fails with a reason instead of
    waiting forever."""

    async def consume(body: dict) -> None:
        # The message from FastStream's context, not as a `msg: NatsMessage` parameter: such a
        # parameter is a synchronous dependency, which fast_depends resolves on a worker thread,
        # a thread hand-off for every message (bench/e2e_job.py --profile).
        msg: NatsMessage = bus.broker.context.get_local("message")
        try:
            envelope = Envelope.model_validate(body)
        except ValidationError:
            log.error("terminating a message that is not an envelope: %.300r", body)
            raise RejectMessage()
        bind_job(envelope.job_id)  # every line logged while this message is handled names its job
        bind_step(step_of(envelope.type, envelope.data, envelope.step))  # every event it makes, its step
        heartbeat = asyncio.create_task(_heartbeat(msg, consumer.ack_wait / 3))
        delivered = msg.raw_message.metadata.num_delivered
        try:
            if delivered > 1:
                await bus.on_redelivery(envelope, delivered, consumer.name)
            await _handled_through_outages(handler, envelope, bus)
        except Exception as exc:
            final = isinstance(exc, ValidationError) or 0 < consumer.max_deliver <= delivered
            log.exception("%s %s failed (delivery %d%s)", envelope.type, envelope.event_id, delivered,
                          ", final" if final else "")
            await bus.report_failure(envelope, traceback.format_exc(), final)
            raise RejectMessage() if final else NackMessage(delay=consumer.redelivery.delay(delivered))
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            bind_job(None)
            bind_step(None)

    return consume


async def _handled_through_outages(handler: Handler, envelope: Envelope, bus: Bus) -> None:
    """While Postgres is away nothing can be stored, so nothing is acked and no delivery is spent:
    the message is held (heartbeats go on) until the database answers, then handled again."""
    while True:
        try:
            return await handler(envelope)
        except Exception as exc:
            if not await bus.waited_out_outage(exc):
                raise
            log.warning("%s %s: handled again now that the database is back (%s)", envelope.type,
                        envelope.event_id, exc)


async def _heartbeat(msg: NatsMessage, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await msg.in_progress()
        except Exception as exc:  # NATS away for a moment: the next beat goes out after the reconnect
            log.warning("in-progress heartbeat not sent: %s", exc)
