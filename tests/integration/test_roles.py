"""Each service's database role reads and writes only what the service owns; the event table is
append-only for the audit role (and even for the owner, outside the erasure of a job)."""

import asyncio
import uuid

import asyncpg
import pytest

from longform_cli.stack import SERVICES, prepare_database
from services.common.roles import service_url

_EVENT = ("INSERT INTO audit.events (stream_id, seq, event_id, job_id, user_id, type, service, occurred_at, data)"
          " VALUES ($1, $2, $3, $4, $5, 'job.requested', 'test', now(), '{}')")


@pytest.fixture(scope="module")
def roles_database(database_server_url):
    from tests.conftest import fresh_database

    with fresh_database(database_server_url) as url:
        prepare_database(url)
        yield url


def _as(url: str, service: str | None, work):
    async def run():
        conn = await asyncpg.connect(service_url(url, service) if service else url)
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


def _add_event(url: str, job_id: uuid.UUID, seq: int) -> None:
    _as(url, "audit", lambda conn: conn.execute(_EVENT, str(job_id), seq, uuid.uuid4(), job_id, uuid.uuid4()))


@pytest.mark.parametrize("statement", [
    "UPDATE audit.events SET type = 'forged'",
    "DELETE FROM audit.events",
    "TRUNCATE audit.events",
])
def test_the_audit_role_cannot_change_or_delete_events(roles_database, statement) -> None:
    _add_event(roles_database, uuid.uuid4(), 1)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        _as(roles_database, "audit", lambda conn: conn.execute(statement))


@pytest.mark.parametrize("statement", [
    "UPDATE audit.events SET type = 'forged'",
    "DELETE FROM audit.events",
    "TRUNCATE audit.events",
])
def test_even_the_owner_cannot_change_or_delete_events(roles_database, statement) -> None:
    _add_event(roles_database, uuid.uuid4(), 1)
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        _as(roles_database, None, lambda conn: conn.execute(statement))


def test_erasing_a_job_removes_its_events_only_and_only_the_audit_role_may(roles_database) -> None:
    erased, kept = uuid.uuid4(), uuid.uuid4()
    for seq in (1, 2, 3):
        _add_event(roles_database, erased, seq)
    _add_event(roles_database, kept, 1)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        _as(roles_database, "gateway", lambda conn: conn.fetchval("SELECT audit.erase_job($1)", erased))
    assert _as(roles_database, "audit", lambda conn: conn.fetchval("SELECT audit.erase_job($1)", erased)) == 3
    count = "SELECT count(*) FROM audit.events WHERE job_id = $1"
    assert _as(roles_database, "audit", lambda conn: conn.fetchval(count, erased)) == 0
    assert _as(roles_database, "audit", lambda conn: conn.fetchval(count, kept)) == 1


@pytest.mark.parametrize("service, statement", [
    ("gateway", "INSERT INTO planner.plans (job_id) VALUES (gen_random_uuid())"),
    ("gateway", "SELECT * FROM generator.chunks"),
    ("gateway", "INSERT INTO audit.events (stream_id, seq, event_id, type, service, occurred_at, data)"
                " VALUES ('x', 1, gen_random_uuid(), 't', 's', now(), '{}')"),
    ("planner", "UPDATE gateway.sources SET text = ''"),
    ("planner", "SELECT * FROM audit.events"),
    ("generator", "SELECT * FROM gateway.jobs"),
    ("generator", "DELETE FROM assembler.documents"),
    ("assembler", "UPDATE generator.chunks SET text = ''"),
    ("audit", "SELECT * FROM gateway.users"),
])
def test_a_service_cannot_touch_what_another_owns(roles_database, service, statement) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        _as(roles_database, service, lambda conn: conn.execute(statement))


@pytest.mark.parametrize("service, statement", [
    ("gateway", "SELECT count(*) FROM audit.events"),
    ("gateway", "SELECT count(*) FROM assembler.documents"),
    ("planner", "SELECT count(*) FROM gateway.sources"),
    ("assembler", "SELECT count(*) FROM generator.chunks"),
] + [(s, f"SELECT count(*) FROM {s}.outbox") for s in SERVICES])
def test_a_service_reads_what_it_needs(roles_database, service, statement) -> None:
    assert isinstance(_as(roles_database, service, lambda conn: conn.fetchval(statement)), int)  # no privilege error
