"""Each service's database role reads and writes only what the service owns, and reads another's
data only through the views and functions that service publishes (0023); the event table is
append-only for the audit role (and even for the owner, outside the erasure of a job)."""

import asyncio
import uuid

import asyncpg
import pytest

from longform_cli.stack import SERVICES, prepare_database
from services.common.roles import service_url
from tests.integration.chain import append

_EVENT = ("INSERT INTO audit.events (stream_id, seq, event_id, job_id, user_id, type, service, occurred_at, data)"
          " VALUES ('forged', 100000, gen_random_uuid(), NULL, NULL, 'job.requested', 'test', now(), '{}')")


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


def _add_events(url: str, job_id: uuid.UUID, *types: str, event_ids: list[uuid.UUID] | None = None) -> None:
    _as(url, "audit", lambda conn: append(conn, job_id, uuid.uuid4(), list(types), event_ids))


@pytest.mark.parametrize("statement", [
    _EVENT,
    "UPDATE audit.events SET type = 'forged'",
    "DELETE FROM audit.events",
    "TRUNCATE audit.events",
])
def test_the_audit_role_cannot_insert_change_or_delete_events_directly(roles_database, statement) -> None:
    _add_events(roles_database, uuid.uuid4(), "job.requested")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        _as(roles_database, "audit", lambda conn: conn.execute(statement))


@pytest.mark.parametrize("statement", [
    "UPDATE audit.events SET type = 'forged'",
    "DELETE FROM audit.events",
    "TRUNCATE audit.events",
])
def test_even_the_owner_cannot_change_or_delete_events(roles_database, statement) -> None:
    _add_events(roles_database, uuid.uuid4(), "job.requested")
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        _as(roles_database, None, lambda conn: conn.execute(statement))


def test_the_old_bypass_setting_no_longer_lets_anyone_delete(roles_database) -> None:
    job = uuid.uuid4()
    _add_events(roles_database, job, "job.requested")

    async def delete(conn):
        async with conn.transaction():
            await conn.execute("SELECT set_config('longform.erasing_stream', $1, true)", str(job))
            await conn.execute("DELETE FROM audit.events WHERE stream_id = $1", str(job))

    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        _as(roles_database, None, delete)


def test_erasing_a_job_needs_its_owners_delete_request_in_its_log(roles_database) -> None:
    erased, kept, other, request = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    _add_events(roles_database, erased, "job.requested", "job.completed", "job.delete_requested",
                event_ids=[uuid.uuid4(), uuid.uuid4(), request])
    _add_events(roles_database, kept, "job.requested")
    _add_events(roles_database, other, "job.delete_requested")
    erase = "SELECT * FROM audit.erase_job($1, $2)"
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        _as(roles_database, "gateway", lambda conn: conn.fetchrow(erase, erased, request))
    for wrong in (uuid.uuid4(), _first_event(roles_database, erased), _first_event(roles_database, other)):
        with pytest.raises(asyncpg.RaiseError, match="is not a delete request in the log"):
            _as(roles_database, "audit", lambda conn: conn.fetchrow(erase, erased, wrong))
    head = _as(roles_database, None, lambda conn: conn.fetchrow(
        "SELECT head, chained_seq FROM audit.stream_heads WHERE stream_id = $1", str(erased)))
    done = _as(roles_database, "audit", lambda conn: conn.fetchrow(erase, erased, request))
    assert (done["events"], done["final_seq"], done["final_hash"]) == (3, 3, head["head"])
    count = "SELECT count(*) FROM audit.events WHERE job_id = $1"
    assert _as(roles_database, "audit", lambda conn: conn.fetchval(count, erased)) == 0
    assert _as(roles_database, "audit", lambda conn: conn.fetchval(count, kept)) == 1
    tombstone = _as(roles_database, None, lambda conn: conn.fetchrow(
        "SELECT request_event_id, final_seq FROM audit.erased_jobs WHERE job_id = $1", erased))
    assert (tombstone["request_event_id"], tombstone["final_seq"]) == (request, 3)


def _first_event(url: str, job: uuid.UUID) -> uuid.UUID:
    return _as(url, None, lambda conn: conn.fetchval(
        "SELECT event_id FROM audit.events WHERE stream_id = $1 AND seq = 1", str(job)))


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
    # what a service reads of another's goes through the published views (0023), never the tables
    ("gateway", "SELECT count(*) FROM audit.events"),
    ("gateway", "SELECT count(*) FROM audit.job_state"),
    ("gateway", "SELECT count(*) FROM audit.stream_heads"),
    ("gateway", "SELECT count(*) FROM assembler.documents"),
    ("planner", "SELECT count(*) FROM gateway.sources"),
    ("planner", "SELECT count(*) FROM generator.chunks"),
    ("assembler", "SELECT count(*) FROM generator.chunks"),
    ("generator", "SELECT count(*) FROM audit.job_state"),
    ("generator", "SELECT count(*) FROM audit.events_v1"),
    ("planner", "SELECT count(*) FROM audit.job_state_v1"),
])
def test_a_service_cannot_touch_what_another_owns(roles_database, service, statement) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        _as(roles_database, service, lambda conn: conn.execute(statement))


@pytest.mark.parametrize("service, statement", [
    ("gateway", "SELECT count(*) FROM audit.events_v1"),
    ("gateway", "SELECT count(*) FROM audit.job_state_v1"),
    ("gateway", "SELECT count(*) FROM audit.stream_heads_v1"),
    ("gateway", "SELECT count(*) FROM assembler.documents_v1"),
    ("planner", "SELECT count(*) FROM gateway.sources_v1"),
    ("planner", "SELECT count(*) FROM generator.chunks_v1"),
    ("assembler", "SELECT count(*) FROM generator.chunks_v1"),
    ("generator", "SELECT count(*) FROM audit.jobs_due_for_retention_v1('1 day', '1 day')"),
    ("audit", "SELECT count(*) FROM audit.job_state_v1"),
] + [(s, f"SELECT count(*) FROM {s}.outbox") for s in SERVICES])
def test_a_service_reads_what_it_needs(roles_database, service, statement) -> None:
    assert isinstance(_as(roles_database, service, lambda conn: conn.fetchval(statement)), int)  # no privilege error


@pytest.mark.parametrize("service, statement", [
    ("planner", "SELECT sha256 FROM gateway.sources_v1"),
    ("gateway", "SELECT recorded_at FROM audit.events_v1"),
    ("gateway", "SELECT user_id FROM audit.job_state_v1"),
    ("assembler", "SELECT budget_words FROM generator.chunks_v1"),
])
def test_a_published_view_shows_only_the_columns_its_readers_use(roles_database, service, statement) -> None:
    with pytest.raises(asyncpg.UndefinedColumnError):
        _as(roles_database, service, lambda conn: conn.execute(statement))
