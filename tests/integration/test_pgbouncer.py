"""Neon's pooled connection string is PgBouncer in transaction mode: a server connection belongs
to a client only for one transaction. These tests put Debian's pgbouncer, in that mode, in front
of the test Postgres and run the database layer through it (transactions, reads outside them,
the outbox write, claims, the audit store's batch insert), then a whole job through the stack."""

import asyncio
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Iterator
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg
import pytest

from contracts.envelope import Envelope
from contracts.messages import ErrorRaised
from contracts.wordcount import count_words
from longform_cli.embedded import free_port
from longform_cli.stack import SERVICES, prepare_database
from services.audit.chains import Chains
from services.audit.handlers import append
from services.common.db import Database
from services.common.migrations import available, migrate, pending
from services.common.roles import LOCAL_PASSWORD, role_of, service_url
from tests.conftest import fresh_database
from tests.handler.effects import off_the_bus
from tests.integration.conftest import start_stack

ONE_BACKEND = "one_backend"  # a pgbouncer database whose every client shares one server connection


def _pgbouncer_binary() -> str:
    found = shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.access(p, os.X_OK)), None)
    if found is None:
        pytest.skip("pgbouncer is not installed: `apt-get install pgbouncer` (Debian) to run these tests")
    return found


class PgBouncer:
    """pgbouncer in transaction mode on a free port, trusting the users it knows, in front of
    `server_url`'s Postgres; `ONE_BACKEND` is `database` squeezed into a single server connection."""

    def __init__(self, server_url: str, database: str) -> None:
        self.server = urlsplit(server_url)
        self.database = database
        self.port = free_port()
        # pgbouncer refuses to run as root: it switches to `nobody`, who must read this directory.
        self.dir = Path(tempfile.mkdtemp(prefix="lf-pgbouncer-"))
        self.dir.chmod(0o755)
        self.process: subprocess.Popen | None = None

    def url(self, user_url: str, database: str | None = None) -> str:
        """`user_url`'s user and password, through pgbouncer, to `database` (default: this one)."""
        parts = urlsplit(user_url)
        credentials = parts.netloc.rsplit("@", 1)[0] if "@" in parts.netloc else ""
        netloc = f"{credentials}@127.0.0.1:{self.port}" if credentials else f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc, path=f"/{database or self.database}"))

    def start(self) -> None:
        host, port = self.server.hostname, self.server.port or 5432
        users = {unquote(self.server.username or "postgres"): unquote(self.server.password or "")}
        users |= {role_of(name): LOCAL_PASSWORD for name in SERVICES}
        (self.dir / "userlist.txt").write_text("".join(f'"{u}" "{p}"\n' for u, p in users.items()))
        (self.dir / "pgbouncer.ini").write_text(f"""
[databases]
{ONE_BACKEND} = host={host} port={port} dbname={self.database} pool_size=1
* = host={host} port={port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
auth_file = {self.dir / "userlist.txt"}
pool_mode = transaction
default_pool_size = 20
max_client_conn = 500
ignore_startup_parameters = extra_float_digits
""")
        for name in ("userlist.txt", "pgbouncer.ini"):
            (self.dir / name).chmod(0o644)
        run_as = ["-u", "nobody"] if os.geteuid() == 0 else []
        with open(self.dir / "pgbouncer.log", "wb") as log:
            self.process = subprocess.Popen([_pgbouncer_binary(), *run_as, str(self.dir / "pgbouncer.ini")],
                                            stdout=log, stderr=subprocess.STDOUT)
        self._wait_until_listening()

    def _wait_until_listening(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            try:
                asyncio.run(_select_one(self.url(urlunsplit(self.server))))
                return
            except (OSError, asyncpg.PostgresError):
                time.sleep(0.1)
        raise RuntimeError(f"pgbouncer did not start: {(self.dir / 'pgbouncer.log').read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


async def _select_one(url: str) -> None:
    conn = await asyncpg.connect(url, statement_cache_size=0, timeout=2)
    await conn.fetchval("SELECT 1")
    await conn.close()


@pytest.fixture(scope="module")
def owner_url(database_server_url: str) -> Iterator[str]:
    with fresh_database(database_server_url) as url:
        prepare_database(url)  # migrated, and the services' roles may log in
        yield url


@pytest.fixture(scope="module")
def bouncer(database_server_url: str, owner_url: str) -> Iterator[PgBouncer]:
    bouncer = PgBouncer(database_server_url, urlsplit(owner_url).path.lstrip("/"))
    bouncer.start()
    yield bouncer
    bouncer.stop()


async def test_the_bouncer_shares_one_server_connection_between_clients(bouncer, owner_url) -> None:
    """Transaction mode, really: two clients open at once on a pool of one get the same backend."""
    url = bouncer.url(owner_url, ONE_BACKEND)
    first, second = [await asyncpg.connect(url, statement_cache_size=0) for _ in range(2)]
    try:
        assert await first.fetchval("SELECT pg_backend_pid()") == await second.fetchval("SELECT pg_backend_pid()")
    finally:
        await first.close()
        await second.close()


@pytest.mark.parametrize("cache_size", [100, 0])
async def test_only_uncached_statements_survive_a_shared_backend(bouncer, owner_url, cache_size) -> None:
    """Why `pooled` turns asyncpg's statement cache off: a named statement lives on a backend that
    other clients share (they see it, and may deallocate it); an unnamed one lives for one query."""
    url = bouncer.url(owner_url, ONE_BACKEND)
    ours = await asyncpg.connect(url, statement_cache_size=cache_size)
    other = await asyncpg.connect(url, statement_cache_size=0)
    try:
        assert await ours.fetchval("SELECT 1 + $1::int", 1) == 2
        await other.execute("DEALLOCATE ALL")  # what any other client of the backend may do
        if cache_size:
            with pytest.raises(asyncpg.InvalidSQLStatementNameError):
                await ours.fetchval("SELECT 1 + $1::int", 1)
        else:
            assert await ours.fetchval("SELECT 1 + $1::int", 1) == 2
    finally:
        await ours.close()
        await other.close()


def _error(job_id: uuid.UUID, n: int) -> Envelope:
    return Envelope.wrap(ErrorRaised(message=f"test error {n}", context="pgbouncer test"), service="generator",
                         job_id=job_id, user_id=None)


async def test_transactions_reads_outbox_and_claims_work_through_it(bouncer, owner_url) -> None:
    db = await Database.connect(bouncer.url(service_url(owner_url, "generator"), ONE_BACKEND), "generator",
                                max_size=8, pooled=True)
    job_id, events = uuid.uuid4(), [uuid.uuid4() for _ in range(40)]

    async def handle(n: int, event_id: uuid.UUID) -> bool:
        async with db.transaction(job_id=job_id) as tx:
            claimed = await tx.claim(event_id)
            await tx.fetch("SELECT chunk_index FROM generator.chunks WHERE job_id = $1", job_id)
            tx.emit(_error(job_id, n))
            return claimed

    try:
        assert [dict(r) for r in await db.read("SELECT 1 AS one")] == [{"one": 1}]
        # many clients, one server connection: every transaction shares it with the others
        assert all(await asyncio.gather(*(handle(n, e) for n, e in enumerate(events))))
        assert not any(await asyncio.gather(*(handle(n, e) for n, e in enumerate(events[:5]))))
        reads = db.reads(job_id=job_id)
        stored = await reads.fetchval(
            "SELECT count(*) FROM generator.outbox WHERE payload->>'job_id' = $1 AND type = 'error.raised'", str(job_id))
        assert stored == len(events) + 5
        assert await reads.fetchval("SELECT count(*) FROM generator.processed_events WHERE event_id = ANY($1)",
                                    events) == len(events)
        await reads.flush()  # the reads' own db.query event, written in a transaction of its own
    finally:
        await db.close()


async def test_the_audit_store_appends_batches_through_it(bouncer, owner_url) -> None:
    db = await Database.connect(bouncer.url(service_url(owner_url, "audit"), ONE_BACKEND), "audit",
                                max_size=4, pooled=True)
    job_id = uuid.uuid4()
    batches = [[_error(job_id, n) for n in range(b * 10, b * 10 + 10)] for b in range(4)]

    async def persist(batch: list[Envelope]) -> int:
        async with db.transaction() as tx:
            return len(await append(tx, off_the_bus(batch), Chains()))

    try:
        assert sum(await asyncio.gather(*(persist(b) for b in batches))) == 40 + 4  # each batch's own db.query
        assert await persist(batches[0]) == 0  # already stored: nothing twice
        rows = await db.read("SELECT seq FROM audit.events WHERE stream_id = $1 ORDER BY seq", str(job_id))
        assert [r["seq"] for r in rows] == list(range(1, 45))
    finally:
        await db.close()


async def test_migrations_apply_through_it(bouncer, database_server_url) -> None:
    with fresh_database(database_server_url) as url:
        through = bouncer.url(url, urlsplit(url).path.lstrip("/"))
        applied = await migrate(through)
        assert [m.version for m in applied] == [m.version for m in available()]
        assert await pending(through) == []


@pytest.fixture(scope="module")
def stack_through_bouncer(bouncer, owner_url, nats_url, fake_llm_server, tmp_path_factory):
    llm_env = {"LONGFORM_LLM_PROVIDER": "openai-compatible", "LONGFORM_LLM_BASE_URL": fake_llm_server.openai_base_url,
               "LONGFORM_LLM_MODEL": "fake-writer", "OPENAI_API_KEY": f"sk-test-{secrets.token_hex(8)}",
               "LONGFORM_DB_POOLED": "true"}
    yield from start_stack(tmp_path_factory.mktemp("bounced"), bouncer.url(owner_url), nats_url,
                           f"pgb{secrets.token_hex(4)}", llm_env)


def test_a_whole_job_runs_with_every_service_behind_the_bouncer(stack_through_bouncer) -> None:
    client = stack_through_bouncer.client()
    try:
        job_id = client.submit(1500, title="Pooled")
        final = client.wait(job_id, timeout=180)
        assert final["status"] == "completed", final
        assert count_words(client.document(job_id)) >= 1500
        types = {e["type"] for e in client.audit(job_id)}
        assert {"job.completed", "db.query", "llm.call", "chunk.processed"} <= types
    finally:
        client.close()
