"""The message bus: NATS JetStream through FastStream. One stream holds every Longform
subject; each service reads it through durable pull consumers shared by its replicas."""

import asyncio
import contextlib
import json
import logging
import traceback
from typing import Awaitable, Callable

import nats
from faststream import AckPolicy
from faststream.exceptions import NackMessage, RejectMessage
from faststream.nats import JStream, NatsBroker, NatsMessage, PullSub
from nats.js.api import ConsumerConfig, StorageType, StreamConfig
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from contracts.envelope import Envelope
from contracts.subjects import Subjects
from services.common.logs import bind_job

log = logging.getLogger(__name__)
Handler = Callable[[Envelope], Awaitable[None]]
BatchHandler = Callable[[list[Envelope]], Awaitable[None]]
_DUPLICATE_WINDOW_S = 120.0
_PULL_WAIT_S = 1.0  # how long one pull on a quiet stream waits for a message
_TOP_UP_WAIT_S = 0.001  # a top-up that finds nothing ends this soon (about 2 ms: the server's timer)


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
        self.on_redelivery: Callable[[Envelope, int, str], Awaitable[None]] | None = None
        # Set by the wiring: True once an outage (Postgres away) that raised `failure` is over.
        self.waited_out_outage: Callable[[BaseException], Awaitable[bool]] | None = None
        self.max_ack_pending = max_ack_pending  # across all replicas of a consumer
        self.subjects = subjects
        self.service = service
        self.broker = NatsBroker(
            nats_url, max_reconnect_attempts=-1, reconnect_time_wait=1, logger=log, log_level=logging.DEBUG
        )
        self._stream = JStream(subjects.stream, declare=False)
        self.nats_url = nats_url
        self._publisher = None  # plain nats-py: JetStream publishes pipelined, in order

    async def report_failure(self, envelope: Envelope, trace: str, final: bool) -> None:
        """Set by the service's wiring to record the failure; a report that fails is only logged."""
        if self.on_failure is None:
            return
        try:
            await self.on_failure(envelope, trace, final)
        except Exception:
            log.exception("could not record the failure of %s %s", envelope.type, envelope.event_id)

    async def report_redelivery(self, envelope: Envelope, delivery: int, consumer: str) -> None:
        """Set by the wiring to put a redelivery in the job's log before it is handled again."""
        if self.on_redelivery is not None:
            await self.on_redelivery(envelope, delivery, consumer)

    async def start(self) -> None:
        await ensure_stream(self.nats_url, self.subjects, self.stream_replicas)
        await self.broker.start()
        self._publisher = await nats.connect(self.nats_url, max_reconnect_attempts=-1, reconnect_time_wait=1)

    async def stop(self) -> None:
        await self.broker.stop()
        if self._publisher is not None:
            await self._publisher.close()

    async def publish(self, message_type: str, payload: bytes, msg_id: str) -> None:
        await self.publish_in_order([(message_type, payload, msg_id)])

    async def publish_in_order(self, messages: list[tuple[str, bytes, str]], timeout: float = 5.0) -> None:
        """(type, payload, event id) messages, sent one after another on one connection (so the
        stream keeps their order) without waiting for each ack; returns once JetStream has
        acknowledged them all, and raises if it has not within `timeout`."""
        js = self._publisher.jetstream()
        acks = [await js.publish_async(self.subjects.of(message_type), payload, stream=self.subjects.stream,
                                       headers={"Nats-Msg-Id": msg_id}) for message_type, payload, msg_id in messages]
        await asyncio.wait_for(asyncio.gather(*acks), timeout)

    async def unacknowledged(self) -> int:
        """Messages this service's consumers delivered and have not seen acknowledged: work that a
        process of this service held when it died (or that a live replica holds now). Asked before
        `start`, it counts none of this process's own."""
        nc = await nats.connect(self.nats_url, connect_timeout=5, max_reconnect_attempts=5)
        try:
            infos = await nc.jetstream().consumers_info(self.subjects.stream)
        except NotFoundError:  # the first start: no stream yet
            return 0
        finally:
            await nc.close()
        return sum(info.num_ack_pending for info in infos if info.name.startswith(f"{self.service}-"))

    async def publish_live(self, stream_id: str, payload: bytes) -> None:
        """Core NATS, at most once: a listener that misses a line re-reads the table."""
        await self._publisher.publish(self.subjects.live(stream_id), payload)

    async def publish_anchor(self, job_id: str, payload: bytes) -> None:
        """Core NATS, at most once, like live lines: the anchor is also in the log (its job.completed line)."""
        await self._publisher.publish(self.subjects.anchor(job_id), payload)

    def subscribe(
        self, message_type: str, handler: Handler, *, ack_wait: float = 30.0,
        max_deliver: int = 20, workers: int = 1,
    ) -> None:
        """A durable consumer named after this service and the message type."""
        durable = consumer_name(self.service, message_type)
        subject = self.subjects.of(message_type)
        self.broker.subscriber(
            subject, stream=self._stream, durable=durable,
            pull_sub=PullSub(batch_size=1, timeout=5.0), max_workers=workers,
            config=ConsumerConfig(
                ack_wait=ack_wait, max_deliver=max_deliver, max_ack_pending=self.max_ack_pending,
                filter_subject=subject,
            ),
            ack_policy=AckPolicy.NACK_ON_ERROR,
        )(_acknowledged(handler, ack_wait, max_deliver, self, durable))

    async def consume_batches(self, handler: BatchHandler, *, batch_size: int = 100, ack_wait: float = 30.0) -> None:
        """One durable consumer over every subject, handed batches in stream order: what has arrived,
        up to batch_size (on a quiet bus, each event as it comes). The next batch is pulled while the
        handler runs and topped up with what came meanwhile; each batch is acked only after the
        handler returns (its transaction committed), else nacked for redelivery. Pulled on nats-py's
        core client: its JetStream fetch() spends a timer on every message (three times the time per
        message), and FastStream 0.7.8's batch loop drops a batch on a timeout."""
        nc = await nats.connect(self.nats_url, max_reconnect_attempts=-1, reconnect_time_wait=1)
        try:
            durable = f"{self.service}-all"
            await _ensure_pull_consumer(nc.jetstream(), self.subjects, durable, max_ack_pending=batch_size * 2,
                                        ack_wait=ack_wait)
            pull = _Pull(nc, self.subjects.stream, durable)
            await pull.start()
            ahead = asyncio.ensure_future(_pulled(pull, batch_size))
            try:
                while True:
                    messages, envelopes = await ahead
                    if len(messages) < batch_size:  # the pull ahead stops at its first message
                        more, valid = await _pulled(pull, batch_size - len(messages), wait=_TOP_UP_WAIT_S)
                        messages, envelopes = messages + more, envelopes + valid
                    ahead = asyncio.ensure_future(_pulled(pull, batch_size))
                    await _consume_one_batch(messages, envelopes, handler)
            finally:
                ahead.cancel()
        finally:
            await nc.close()


async def _ensure_pull_consumer(js, subjects: Subjects, durable: str, *, max_ack_pending: int,
                                ack_wait: float) -> None:
    """Created on first use; an existing consumer is left as it is."""
    try:
        await js.consumer_info(subjects.stream, durable)
    except NotFoundError:
        await js.add_consumer(subjects.stream, ConsumerConfig(
            name=durable, durable_name=durable, filter_subject=subjects.all, ack_wait=ack_wait, max_deliver=-1,
            max_ack_pending=max_ack_pending,
        ))


class _Pull:
    """JetStream pull requests answered into one wildcard inbox. A request ends when it has its
    messages or when the server answers on its own reply subject (404 none, 408 no more)."""

    def __init__(self, nc, stream: str, durable: str) -> None:
        self.nc = nc
        self.api = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self.inbox = nc.new_inbox()
        self.arrived: list = []  # delivered, not handed over yet
        self._requests = 0
        self._reply = ""
        self._wanted = 0
        self._status: tuple[str, str] | None = None  # the server's answer: code, description
        self._ended = asyncio.Event()

    async def start(self) -> None:
        await self.nc.subscribe(f"{self.inbox}.*", cb=self._on_message)

    async def batch(self, size: int, wait: float) -> list:
        """What is waiting, up to `size`; if nothing is, the first message to come within `wait` s.
        (Asked with `no_wait` and `expires`, the server answers at once when it has messages, else
        when one comes or the request expires, also when the consumer's max_ack_pending is full.)"""
        if len(self.arrived) < size:
            body = {"batch": size - len(self.arrived), "no_wait": True, "expires": int(wait * 1e9)}
            await self._request(body, size, wait + 1.0)
        taken, self.arrived = self.arrived[:size], self.arrived[size:]
        return taken

    async def _request(self, body: dict, wanted: int, timeout: float) -> None:
        self._requests += 1
        self._reply, self._wanted, self._status = f"{self.inbox}.{self._requests}", wanted, None
        self._ended.clear()
        await self.nc.publish(self.api, json.dumps(body).encode(), reply=self._reply)
        with contextlib.suppress(asyncio.TimeoutError):  # a request or its answer lost to a reconnect
            await asyncio.wait_for(self._ended.wait(), timeout)
        if self._status and self._status[0] not in ("404", "408"):
            raise RuntimeError(f"pull from {self.api} refused: {' '.join(self._status)}")

    async def _on_message(self, msg) -> None:
        status = msg.headers.get("Status") if msg.headers else None
        if status is None:
            self.arrived.append(msg)
            if len(self.arrived) >= self._wanted:
                self._ended.set()
        elif msg.subject == self._reply and status != "100":  # 100: an idle heartbeat
            self._status = (status, msg.headers.get("Description", ""))
            self._ended.set()


def consumer_name(service: str, message_type: str) -> str:
    return f"{service}-{'all' if message_type == '>' else message_type.replace('.', '-')}"


def _acknowledged(handler: Handler, ack_wait: float, max_deliver: int, bus: "Bus", consumer: str) -> Callable:
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
        bind_job(envelope.job_id)  # every line logged while this message is handled names its job
        heartbeat = asyncio.create_task(_heartbeat(msg, ack_wait / 3))
        delivered = msg.raw_message.metadata.num_delivered
        try:
            if delivered > 1:
                await bus.report_redelivery(envelope, delivered, consumer)
            await _handled_through_outages(handler, envelope, bus)
        except Exception as exc:
            final = isinstance(exc, ValidationError) or 0 < max_deliver <= delivered
            log.exception("%s %s failed (delivery %d%s)", envelope.type, envelope.event_id, delivered,
                          ", final" if final else "")
            await bus.report_failure(envelope, traceback.format_exc(), final)
            raise RejectMessage() if final else NackMessage(delay=min(0.5 * 2 ** min(delivered, 6), 30.0))
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            bind_job(None)

    return consume


async def _handled_through_outages(handler: Handler, envelope: Envelope, bus: "Bus") -> None:
    """While Postgres is away nothing can be stored, so nothing is acked and no delivery is spent:
    the message is held (heartbeats go on) until the database answers, then handled again."""
    while True:
        try:
            return await handler(envelope)
        except Exception as exc:
            if bus.waited_out_outage is None or not await bus.waited_out_outage(exc):
                raise
            log.warning("%s %s: handled again now that the database is back (%s)", envelope.type,
                        envelope.event_id, exc)


async def _pulled(pull: _Pull, size: int, wait: float = _PULL_WAIT_S) -> tuple[list, list[Envelope]]:
    messages = await pull.batch(size, wait)
    envelopes = []
    for msg in messages:
        try:
            envelopes.append(Envelope.model_validate_json(msg.data))
        except ValueError:
            log.error("ignoring a message that is not an envelope on %s: %.300r", msg.subject, msg.data)
    return messages, envelopes


async def _consume_one_batch(messages: list, envelopes: list[Envelope], handler: BatchHandler) -> None:
    if not messages:
        return
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
        try:
            await msg.in_progress()
        except Exception as exc:  # NATS away for a moment: the next beat goes out after the reconnect
            log.warning("in-progress heartbeat not sent: %s", exc)
