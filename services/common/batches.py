"""The audit service's consumer of every subject: batches in stream order, pulled on the bus's
one connection (the FastStream broker's).

Why a thin layer of our own and not a FastStream subscriber: FastStream 0.7.8's batch pull loop
(`PullSub(batch=True)`) drops the batch it was fetching when its fetch times out, and it fetches
through nats-py's JetStream `fetch()`, which spends a timer on every message (three times the time
per message of this loop). Here one pull request asks for what is waiting, up to the batch size,
and the answers arrive on one wildcard inbox subscribed on the broker's connection."""

import asyncio
import contextlib
import json
import logging
from typing import Any, Awaitable, Callable

from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig
from nats.js.errors import NotFoundError

from contracts.subjects import Subjects
from services.common.consumers import Consumer

log = logging.getLogger(__name__)
Decoder = Callable[[bytes], Any]  # a message's body as an event, or None if it is not one
Preparer = Callable[[list], Awaitable[Any]]  # a batch's events made ready, while the batch before is handled
BatchHandler = Callable[[Any], Awaitable[None]]  # takes what the preparer made
_PULL_WAIT_S = 1.0  # how long one pull on a quiet stream waits for a message
_TOP_UP_WAIT_S = 0.001  # a top-up that finds nothing ends this soon (about 2 ms: the server's timer)


async def consume_batches(nc: Client, js: JetStreamContext, subjects: Subjects, consumer: Consumer,
                          handler: BatchHandler, decode: Decoder, prepare: Preparer) -> None:
    """Hands `handler` what has arrived, up to the consumer's batch size (on a quiet bus, each
    event as it comes), each message read by `decode` and the batch by `prepare`. The next batch
    is pulled, decoded and prepared while the handler runs (its transaction in Postgres); one
    that is not full is topped up with what came meanwhile. Each batch is acked only after the
    handler returns (its transaction committed), else nacked for redelivery."""
    await _ensure_pull_consumer(js, subjects, consumer)
    pull = _Pull(nc, subjects.stream, consumer.name)
    await pull.start()
    size = consumer.batch_size
    ahead = asyncio.ensure_future(_pulled(pull, size, decode, prepare))
    acking: set[asyncio.Task] = set()
    try:
        while True:
            messages, events, prepared = await ahead
            if len(messages) < size:  # the pull ahead stops at its first message
                more, valid, _ = await _pulled(pull, size - len(messages), decode, None, wait=_TOP_UP_WAIT_S)
                if more:
                    messages, events = messages + more, events + valid
                    prepared = await prepare(events)
            ahead = asyncio.ensure_future(_pulled(pull, size, decode, prepare))
            if await _consume_one_batch(messages, len(events), prepared, handler, consumer):
                # The acks are sent while the next batch is handled, as its statements wait on Postgres.
                acks = asyncio.ensure_future(_acked(nc, messages))
                acking.add(acks)
                acks.add_done_callback(acking.discard)
    finally:
        ahead.cancel()
        await pull.stop()


async def _ensure_pull_consumer(js: JetStreamContext, subjects: Subjects, consumer: Consumer) -> None:
    """Created on first use; an existing consumer is left as it is."""
    try:
        await js.consumer_info(subjects.stream, consumer.name)
    except NotFoundError:
        await js.add_consumer(subjects.stream, ConsumerConfig(
            name=consumer.name, durable_name=consumer.name, filter_subject=subjects.all, ack_wait=consumer.ack_wait,
            max_deliver=consumer.max_deliver, max_ack_pending=consumer.max_ack_pending,
        ))


class _Pull:
    """JetStream pull requests answered into one wildcard inbox. A request ends when it has its
    messages or when the server answers on its own reply subject (404 none, 408 no more)."""

    def __init__(self, nc: Client, stream: str, durable: str) -> None:
        self.nc = nc
        self.api = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self.inbox = nc.new_inbox()
        self.arrived: list = []  # delivered, not handed over yet
        self._subscription = None
        self._requests = 0
        self._reply = ""
        self._wanted = 0
        self._status: tuple[str, str] | None = None  # the server's answer: code, description
        self._ended = asyncio.Event()

    async def start(self) -> None:
        self._subscription = await self.nc.subscribe(f"{self.inbox}.*", cb=self._on_message)

    async def stop(self) -> None:
        """The inbox goes; the connection is the broker's and stays. Messages delivered and not
        handed over come back after the consumer's AckWait."""
        with contextlib.suppress(Exception):  # the connection is already closed or away
            await self._subscription.unsubscribe()

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


async def _pulled(pull: _Pull, size: int, decode: Decoder, prepare: Preparer | None,
                  wait: float = _PULL_WAIT_S) -> tuple[list, list, Any]:
    messages = await pull.batch(size, wait)
    events = []
    for msg in messages:
        if (event := decode(msg.data)) is not None:
            events.append(event)
        else:
            log.error("ignoring a message that is not an envelope on %s: %.300r", msg.subject, msg.data)
    return messages, events, await prepare(events) if prepare and messages else None


async def _consume_one_batch(messages: list, events: int, prepared: Any, handler: BatchHandler,
                             consumer: Consumer) -> bool:
    """Whether the batch was handled (and is to be acked)."""
    if not messages:
        return False
    try:
        await handler(prepared)
    except Exception:
        log.exception("a batch of %d events failed; it will be redelivered", events)
        for msg in messages:
            await msg.nak(delay=consumer.redelivery.delay(msg.metadata.num_delivered))
        return False
    return True


async def _acked(nc: Client, messages: list) -> None:
    """A batch's acks in one write. An ack is an empty message to the reply subject the server
    gave the message (what nats-py's `Msg.ack` publishes); published one by one, through the
    client's subject checks and coroutines, they cost 5-9 us each, a tenth of the audit's time
    (BENCHMARKS.md). The subjects are the server's own (`$JS.ACK...`), so they need no check. The
    write goes through the client's pending buffer, as a publish does (nats-py 2.16, locked): on a
    lost connection it is sent on reconnect; an ack lost all the same brings its message back
    after AckWait, and the audit stores it once."""
    await nc._send_command(b"".join(b"PUB %s 0\r\n\r\n" % msg.reply.encode() for msg in messages))
    await nc._flush_pending()
