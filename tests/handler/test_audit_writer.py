"""One audit writer at a time (services/audit/writer.py), on a real database: a second replica
waits for the writer lock until the first lets go of it, by stopping or by losing the connection
that holds it; the lock's statement is in the audit log like every other; behind a
transaction-mode pooler no lock is asked for."""

import asyncio

import pytest

from services.audit.config import AuditSettings
from services.audit.handlers import Ports, record_events
from services.audit.writer import WRITER_LOCK, as_the_one_writer
from services.common.db import SESSION_LOCK, Database
from tests.handler.effects import Job
from tests.handler.test_audit_handlers import journey

WAIT = 30.0
# The writer lock's holders and waiters in this database (other tests' stacks have their own).
WRITER_LOCKS = ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND ((classid::bigint << 32) | objid::bigint) = $1")


class Replica:
    """An audit process's consuming loop, reduced to: it holds the lock, and it stops when told."""

    def __init__(self, settings: AuditSettings) -> None:
        self.settings = settings
        self.holding = asyncio.Event()
        self.stop = asyncio.Event()
        self.writer_pid: int | None = None
        self.task: asyncio.Task | None = None

    def start(self) -> "Replica":
        self.task = asyncio.create_task(as_the_one_writer(self.settings, None, self.consume))
        return self

    async def consume(self, writer: Database) -> None:
        async with writer.transaction() as tx:  # a batch's transaction, on the lock's connection
            self.writer_pid = await tx.fetchval("SELECT pg_backend_pid()")
        self.holding.set()
        await self.stop.wait()


async def waiting_for_the_lock(owner) -> int:
    """The sessions waiting for the writer lock, once there is one (the event that proves the
    second replica asked for it)."""
    async with asyncio.timeout(WAIT):
        while not (waiting := await owner.fetchval(WRITER_LOCKS + " AND NOT granted", WRITER_LOCK)):
            await asyncio.sleep(0.05)
    return waiting


@pytest.fixture
def settings(settings_env) -> AuditSettings:
    return AuditSettings(**settings_env)


async def test_a_second_replica_waits_for_the_lock_until_the_first_stops(settings, owner):
    first = Replica(settings).start()
    await asyncio.wait_for(first.holding.wait(), WAIT)
    second = Replica(settings).start()
    assert await waiting_for_the_lock(owner) == 1
    assert not second.holding.is_set()

    first.stop.set()
    await asyncio.wait_for(first.task, WAIT)
    await asyncio.wait_for(second.holding.wait(), WAIT)
    second.stop.set()
    await asyncio.wait_for(second.task, WAIT)


async def test_a_writer_that_loses_its_connection_loses_the_lock_to_the_standby(settings, owner):
    first = Replica(settings).start()
    await asyncio.wait_for(first.holding.wait(), WAIT)
    second = Replica(settings).start()
    await waiting_for_the_lock(owner)

    assert await owner.fetchval("SELECT pg_terminate_backend($1)", first.writer_pid)
    await asyncio.wait_for(second.holding.wait(), WAIT)
    assert second.writer_pid != first.writer_pid
    for replica in (first, second):
        replica.stop.set()
    await asyncio.wait_for(asyncio.gather(first.task, second.task), WAIT)


async def test_behind_a_transaction_pooler_no_lock_is_taken(settings_env, owner):
    """The shared pool is handed over as it is: two replicas then both consume (logged)."""
    pooled = AuditSettings(**settings_env, db_pooled=True)
    shared = object()
    handed = []

    async def consume(writer) -> None:
        handed.append(writer)

    await asyncio.wait_for(asyncio.gather(as_the_one_writer(pooled, shared, consume),
                                          as_the_one_writer(pooled, shared, consume)), WAIT)
    assert handed == [shared, shared]
    assert await owner.fetchval(WRITER_LOCKS, WRITER_LOCK) == 0


async def test_a_session_lock_is_refused_behind_a_pooler(settings):
    with pytest.raises(ValueError, match="direct connection"):
        await Database.connect(settings.database_url, "audit", pooled=True, session_lock=WRITER_LOCK)


class NotLive:
    def hand_over(self, lines) -> None:
        pass


async def test_the_lock_statement_is_in_the_log_of_the_first_batch_written_after_it(settings, owner):
    recorded = []

    async def consume(writer: Database) -> None:
        job = Job()
        await record_events(journey(job), Ports(writer, NotLive()))
        await record_events(journey(Job()), Ports(writer, NotLive()))  # a later batch: not again
        recorded.extend(await owner.fetch(
            "SELECT stream_id, data FROM audit.events WHERE service = 'audit' AND type = 'db.query'"
            " AND stream_id = ANY($1::text[])", [str(job.job_id)]))

    await asyncio.wait_for(as_the_one_writer(settings, None, consume), WAIT)
    assert len(recorded) == 1
    assert [s["sql"] for s in recorded[0]["data"]["statements"]].count(SESSION_LOCK) == 1


async def test_a_lock_statement_whose_transaction_failed_is_recorded_by_the_next(settings):
    writer = await Database.connect(settings.database_url, "audit", max_size=1, session_lock=WRITER_LOCK + 1)
    try:
        with pytest.raises(RuntimeError):
            async with writer.transaction():
                raise RuntimeError("the batch failed")
        async with writer.transaction() as tx:
            assert [s.sql for s in tx.statements] == [SESSION_LOCK]
        async with writer.transaction() as tx:
            assert tx.statements == []
    finally:
        await writer.close()
