"""Publishes what a service committed to its outbox, with the event id as `Nats-Msg-Id`.

The fast way: each transaction hands its committed events to the relay, whose one publisher sends
them in the order they were handed over (pipelined) and, later and in batches, marks them
published in the table. A publish that fails (NATS slow or away) is tried again, with backoff,
before anything committed later, so a service's events reach the bus in commit order. The safe
way: a sweep publishes whatever the table still holds unmarked and is not on its way already (a
crash between commit and publish, another replica's leftovers), once it has settled for
`settle_seconds`: at start, after each batch marked, and when idle only every `sweep_seconds` (5 s:
the hand-off, not polling, is what carries events). A crash loses nothing; an event
published twice is dropped by JetStream's dedupe and, past its window, by the consumers."""

import asyncio
import logging
import uuid

from contracts.envelope import Envelope
from contracts.messages import RELAY_CONTEXT, DbQueried
from contracts.steps import RELAY_STEP

from services.common.bus import Bus
from services.common.db import Committed, Database
from services.common.retry import OUTAGE

log = logging.getLogger(__name__)
_BATCH = 200


class Handoff:
    """Committed events on their way from the database to the relay: the database is built with
    this as its `on_commit`, the relay with this as what it publishes (both in the service's wiring)."""

    def __init__(self) -> None:
        self.queued: list[Committed] = []  # committed, not yet published
        self.on_the_way: set[str] = set()  # event ids queued or published and not yet marked: the sweep leaves them
        self.arrived = asyncio.Event()

    def __call__(self, committed: list[Committed]) -> None:
        self.queued.extend(committed)
        self.on_the_way.update(c.event_id for c in committed)
        self.arrived.set()

    def take(self) -> list[Committed]:
        self.arrived.clear()
        batch, self.queued = self.queued, []
        return batch

    def put_back(self, batch: list[Committed]) -> None:
        """A batch that could not be published goes first again: the bus gets events in commit order."""
        self.queued = batch + self.queued
        self.arrived.set()


class OutboxRelay:
    def __init__(self, db: Database, bus: Bus, handoff: Handoff, *, sweep_seconds: float = 5.0,
                 settle_seconds: float = 2.0, mark_every_seconds: float = 0.05) -> None:
        self.db = db
        self.bus = bus
        self.handoff = handoff
        self.sweep_seconds = sweep_seconds
        self.settle_seconds = settle_seconds
        self.mark_every_seconds = mark_every_seconds
        self._published: list[Committed] = []  # published, not yet marked in the table
        self._wake_marker = asyncio.Event()
        self._wake_marker.set()  # the first sweep at once: what a crash left behind goes out first
        self.sweeps = 0  # how often the table was read for leftovers (idle, only every sweep_seconds)

    async def run(self) -> None:
        await asyncio.gather(self._publish_forever(), self._mark_forever())

    async def _publish_forever(self) -> None:
        failures = 0
        while True:
            await self.handoff.arrived.wait()
            batch = self.handoff.take()
            try:
                await self.bus.publish_in_order([(c.type, c.payload, c.event_id) for c in batch])
            except Exception as exc:  # NATS slow or away: the same batch again, ahead of later commits
                _stop_if_cancelled()
                failures += 1
                log.warning("outbox relay: %s; %d events published again (retry %d)", exc, len(batch), failures)
                self.handoff.put_back(batch)
                await asyncio.sleep(OUTAGE.delay(failures))
                continue
            failures = 0
            self._published.extend(batch)
            self._wake_marker.set()

    async def _mark_forever(self) -> None:
        failures = 0
        while True:
            try:
                await asyncio.wait_for(self._wake_marker.wait(), self.sweep_seconds)
            except asyncio.TimeoutError:
                pass
            self._wake_marker.clear()
            try:
                while await self.mark_and_sweep():
                    pass
                failures = 0
            except Exception as exc:  # Postgres or NATS away: keep everything, retry with backoff
                _stop_if_cancelled()
                failures += 1
                log.warning("outbox relay: %s (retry %d)", exc, failures)
                await asyncio.sleep(OUTAGE.delay(failures))
                continue
            await asyncio.sleep(self.mark_every_seconds)  # marks in batches: no event waits for it

    async def mark_and_sweep(self) -> int:
        """Marks what was published since the last call and publishes one batch of what the table
        still holds unmarked; returns how many the sweep published. The relay's statements go to
        the log of each job (or account) whose events it marked or swept, as `db.query` events with
        context "outbox relay"; events that are only such reports are not reported again, or the
        relay would report itself for ever."""
        published, self._published = self._published, []
        try:
            swept = await self._mark_and_sweep(published)
        except BaseException:
            self._published = published + self._published
            raise
        self.handoff.on_the_way.difference_update(c.event_id for c in published)
        return swept

    async def _mark_and_sweep(self, published: list[Committed]) -> int:
        schema = self.db.schema
        self.sweeps += 1
        async with self.db.transaction() as tx:
            if published:
                await tx.execute(f"UPDATE {schema}.outbox SET published_at = now() WHERE event_id = ANY($1::uuid[])",
                                 [c.event_id for c in published])
            rows = await tx.fetch(
                f"SELECT id, event_id, type, payload::text AS payload, payload->>'job_id' AS job_id,"
                f" payload->>'user_id' AS user_id, (type = 'db.query' AND payload->'data'->>'context' = "
                f"'{RELAY_CONTEXT}') AS relay_note FROM {schema}.outbox WHERE published_at IS NULL"
                f" AND created_at < now() - make_interval(secs => $1) AND NOT event_id = ANY($2::uuid[])"
                f" ORDER BY id LIMIT {_BATCH} FOR UPDATE SKIP LOCKED",
                self.settle_seconds, list(self.handoff.on_the_way),
            )
            if rows:
                await self.bus.publish_in_order([(r["type"], r["payload"].encode(), str(r["event_id"])) for r in rows])
                await tx.execute(f"UPDATE {schema}.outbox SET published_at = now() WHERE id = ANY($1::bigint[])",
                                 [r["id"] for r in rows])
            owners = list(dict.fromkeys(
                [(c.job_id, c.user_id) for c in published if not c.relay_note]
                + [(_uuid(r["job_id"]), _uuid(r["user_id"])) for r in rows if not r["relay_note"]]))
            statements = tx.sql_statements(outbox_rows=len(owners))
            for job_id, user_id in owners:
                tx.emit(Envelope.wrap(DbQueried(statements=statements, context=RELAY_CONTEXT), service=self.db.service,
                                      job_id=job_id, user_id=user_id, step=RELAY_STEP))
        return len(rows)


def _stop_if_cancelled() -> None:
    """nats-py turns a cancel while waiting to publish into its own error: stop anyway."""
    if asyncio.current_task().cancelling():
        raise asyncio.CancelledError


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None
