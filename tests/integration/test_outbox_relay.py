"""The outbox relay on a real Postgres and NATS: a committed event is published at once and marked
published in the table; an event committed while no relay listened (a crash between commit and
publish) is published by the sweep; the relay's own statements are reported to the job's log."""

import asyncio
import json
import secrets
import uuid

import nats
import pytest

from contracts.envelope import Envelope
from contracts.messages import RELAY_CONTEXT, JobCancelled
from contracts.subjects import Subjects
from longform_cli.stack import prepare_database
from services.common.bus import Bus
from services.common.db import Database
from services.common.outbox import Handoff, OutboxRelay

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def relay_database(database_server_url):
    from tests.conftest import fresh_database

    with fresh_database(database_server_url) as url:  # no service runs here: no other relay sweeps it
        prepare_database(url)
        yield url


class Running:
    """A planner-schema database, a bus on a prefix of its own, a relay, and a plain subscriber
    that keeps every message the bus carried."""

    def __init__(self, database_url: str, nats_url: str) -> None:
        self.database_url, self.nats_url = database_url, nats_url
        self.subjects = Subjects(f"lfrelay{secrets.token_hex(3)}")
        self.seen: list[dict] = []

    async def __aenter__(self) -> "Running":
        self.handoff = Handoff()  # wired as a service wires it: the database hands its commits to the relay
        self.db = await Database.connect(self.database_url, "planner", on_commit=self.handoff)
        self.bus = Bus(self.nats_url, self.subjects, "planner")
        await self.bus.start()
        self.nc = await nats.connect(self.nats_url)
        await self.nc.subscribe(self.subjects.all, cb=self._seen)
        return self

    async def _seen(self, msg) -> None:
        self.seen.append(json.loads(msg.data))

    async def __aexit__(self, *exc) -> None:
        await self.nc.close()
        await self.bus.stop()
        await self.db.close()

    async def commit_event(self, job_id: uuid.UUID, db: Database | None = None) -> Envelope:
        event = Envelope.wrap(JobCancelled(epoch=1, chunks_done=0, words_written=0), service="planner", job_id=job_id, user_id=uuid.uuid4())
        async with (db or self.db).transaction(job_id=job_id, user_id=event.user_id) as tx:
            await tx.fetchval("SELECT 1")
            tx.emit(event)
        return event

    async def until(self, predicate, timeout: float = 10.0) -> None:
        for _ in range(int(timeout / 0.05)):
            if predicate():
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"not within {timeout} s; the bus carried {[e['type'] for e in self.seen]}")

    async def unpublished(self, event_id: uuid.UUID) -> bool:
        async with self.db.transaction() as tx:
            return await tx.fetchval("SELECT published_at IS NULL FROM planner.outbox WHERE event_id = $1", event_id)


def _ids(running: Running) -> list[str]:
    return [e["event_id"] for e in running.seen]


async def test_a_committed_event_is_published_at_once_and_marked(relay_database, nats_url) -> None:
    async with Running(relay_database, nats_url) as running:
        relay = asyncio.create_task(OutboxRelay(running.db, running.bus, running.handoff, settle_seconds=60).run())
        try:
            event = await running.commit_event(uuid.uuid4())
            await running.until(lambda: str(event.event_id) in _ids(running))  # the sweep waits 60 s: not it
            for _ in range(100):
                if not await running.unpublished(event.event_id):
                    break
                await asyncio.sleep(0.05)
            assert not await running.unpublished(event.event_id)
            # The relay's UPDATE is in the job's log, carried by the relay's own report.
            await running.until(lambda: any(e["type"] == "db.query" and e["data"]["context"] == RELAY_CONTEXT
                                            and e["job_id"] == str(event.job_id) for e in running.seen))
        finally:
            relay.cancel()
            await asyncio.gather(relay, return_exceptions=True)
    assert _ids(running).count(str(event.event_id)) == 1


async def test_an_idle_relay_reads_its_table_at_start_and_then_at_most_every_five_seconds(relay_database,
                                                                                          nats_url) -> None:
    """Idle time is measured by a second relay's own idle sweeps (every 0.25 s), not by a sleep:
    once it has swept 12 times while nothing was committed, the relay under test (every 5 s) must
    still have read its table only at start (the old relay read it every second)."""
    async with Running(relay_database, nats_url) as running:
        clock_handoff = Handoff()
        clock_db = await Database.connect(running.database_url, "planner", on_commit=clock_handoff)
        outbox = OutboxRelay(running.db, running.bus, running.handoff)
        clock = OutboxRelay(clock_db, running.bus, clock_handoff, sweep_seconds=0.25)
        relays = [asyncio.create_task(outbox.run()), asyncio.create_task(clock.run())]
        try:
            await running.until(lambda: outbox.sweeps >= 1)
            await running.until(lambda: clock.sweeps >= 13)
            assert outbox.sweeps == 1
        finally:
            for relay in relays:
                relay.cancel()
            await asyncio.gather(*relays, return_exceptions=True)
            await clock_db.close()


async def test_an_event_committed_with_no_relay_listening_is_swept(relay_database, nats_url) -> None:
    async with Running(relay_database, nats_url) as running:
        # Committed by a process whose commits reach no relay: as if it died after its commit.
        dead = await Database.connect(running.database_url, "planner")
        try:
            event = await running.commit_event(uuid.uuid4(), dead)
        finally:
            await dead.close()
        assert str(event.event_id) not in _ids(running) and await running.unpublished(event.event_id)
        relay = asyncio.create_task(OutboxRelay(running.db, running.bus, running.handoff, settle_seconds=0.5).run())
        try:
            await running.until(lambda: str(event.event_id) in _ids(running))
            relay_notes = lambda: [e for e in running.seen if e["data"].get("context") == RELAY_CONTEXT
                                   and e["job_id"] == str(event.job_id)]
            await running.until(lambda: relay_notes())
            sql = [s["sql"] for s in relay_notes()[0]["data"]["statements"]]
            assert any(s.startswith("SELECT id, event_id, type") for s in sql)
            assert any(s.startswith("UPDATE planner.outbox SET published_at = now() WHERE id") for s in sql)
        finally:
            relay.cancel()
            await asyncio.gather(relay, return_exceptions=True)
        assert not await running.unpublished(event.event_id)
    assert _ids(running).count(str(event.event_id)) == 1
