"""The one database access layer. Every statement a service runs goes through a `Tx`,
which records it (SQL, tables read and written, rows, duration, error) so the audit log
holds every statement by construction, and which writes emitted events to the service's
outbox in the same transaction as the state they describe."""

import asyncio
import json
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable

import asyncpg

from contracts.envelope import Envelope
from contracts.messages import DbQueried, SqlStatement
from services.common.sqltables import rows_from_status, tables_touched


@dataclass(frozen=True)
class Statement:
    sql: str
    tables: dict[str, str]
    rows: int | None
    duration_ms: float
    error: str | None


async def _init_connection(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


class Database:
    def __init__(self, pool: asyncpg.Pool, service: str) -> None:
        self.pool = pool
        self.service = service
        self.schema = service
        self.on_commit: Callable[[], None] = lambda: None

    @classmethod
    async def connect(cls, url: str, service: str, *, max_size: int = 5) -> "Database":
        # statement_cache_size=0: safe behind PgBouncer in transaction mode (Neon's pooled URL).
        pool = await asyncpg.create_pool(
            url, min_size=1, max_size=max_size, statement_cache_size=0,
            server_settings={"application_name": service}, init=_init_connection,
        )
        return cls(pool, service)

    async def close(self) -> None:
        await self.pool.close()

    @asynccontextmanager
    async def transaction(
        self, *, job_id: uuid.UUID | None = None, user_id: uuid.UUID | None = None
    ) -> AsyncIterator["Tx"]:
        async with self.pool.acquire() as conn:
            tx = Tx(conn, self, job_id, user_id)
            async with conn.transaction():
                yield tx
                await tx.flush_outbox()
        if tx.emitted:
            self.on_commit()

    async def read(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """A read that belongs to no job or account (so it is not audited), e.g. a health check."""
        async with self.pool.acquire() as conn:
            return await conn.fetch(sql, *args)

    async def read_value(self, sql: str, *args: Any) -> Any:
        async with self.pool.acquire() as conn:
            return await conn.fetchval(sql, *args)


class Tx:
    def __init__(self, conn: asyncpg.Connection, db: Database, job_id, user_id) -> None:
        self.conn = conn
        self.db = db
        self.job_id = job_id
        self.user_id = user_id
        self.statements: list[Statement] = []
        self.emitted: list[Envelope] = []

    async def _run(self, method: str, sql: str, *args: Any) -> Any:
        started = time.perf_counter()
        error = None
        result: Any = None
        try:
            result = await getattr(self.conn, method)(sql, *args)
            return result
        except Exception as exc:  # recorded, then re-raised
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self._record(sql, result, method, time.perf_counter() - started, error)

    def _record(self, sql: str, result: Any, method: str, seconds: float, error: str | None) -> None:
        if isinstance(result, str):
            rows = rows_from_status(result)
        elif isinstance(result, list):
            rows = len(result)
        else:
            rows = None if result is None or method == "executemany" else 1
        self.statements.append(
            Statement(" ".join(sql.split()), tables_touched(sql), rows, round(seconds * 1000, 3), error)
        )

    async def execute(self, sql: str, *args: Any) -> str:
        return await self._run("execute", sql, *args)

    async def executemany(self, sql: str, args: list[tuple]) -> None:
        await self._run("executemany", sql, args)

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await self._run("fetch", sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        return await self._run("fetchrow", sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self._run("fetchval", sql, *args)

    async def claim(self, event_id: uuid.UUID) -> bool:
        """Record that this event is being handled; False if it was handled before (redelivery)."""
        inserted = await self.fetchval(
            f"INSERT INTO {self.db.schema}.processed_events (event_id) VALUES ($1) "
            "ON CONFLICT DO NOTHING RETURNING true",
            event_id,
        )
        return bool(inserted)

    def emit(self, envelope: Envelope) -> None:
        self.emitted.append(envelope)

    def _statement_events(self) -> list[Envelope]:
        """One `db.query` event for the transaction, listing each statement (not for reads that
        belong to no job or account)."""
        if (self.job_id is None and self.user_id is None) or not self.statements:
            return []
        statements = [SqlStatement(sql=s.sql, tables=s.tables, rows=s.rows, duration_ms=s.duration_ms, error=s.error)
                      for s in self.statements]
        return [Envelope.wrap(DbQueried(statements=statements), service=self.db.service, job_id=self.job_id,
                              user_id=self.user_id)]

    async def flush_outbox(self) -> None:
        """Write the statements' audit events and the emitted events to the outbox, in this transaction."""
        envelopes = self._statement_events() + self.emitted
        if not envelopes:
            return
        await self.conn.executemany(
            f"INSERT INTO {self.db.schema}.outbox (event_id, type, payload) VALUES ($1, $2, $3) "
            "ON CONFLICT (event_id) DO NOTHING",
            [(e.event_id, e.type, e.model_dump(mode="json")) for e in envelopes],
        )
        self.emitted = envelopes


async def text_slices(fetchval: Callable[..., Awaitable[Any]], sql: str, key: Any, size: int) -> AsyncIterator[str]:
    """A long text column read `size` characters at a time, so it is never held whole. `sql`
    selects `substr(<column>, $2, $3)` from the row keyed by $1; its column is stored uncompressed
    (STORAGE EXTERNAL), so each slice reads only its own part."""
    start = 1
    while piece := await fetchval(sql, key, start, size):
        yield piece
        start += size


async def wait_for_database(url: str, attempts: int = 60) -> None:
    """Postgres may still be starting (local stack) or restarting: retry with backoff."""
    for attempt in range(attempts):
        try:
            conn = await asyncpg.connect(url, statement_cache_size=0)
            await conn.close()
            return
        except (OSError, asyncpg.PostgresError):
            await asyncio.sleep(min(0.2 * (attempt + 1), 2.0))
    raise RuntimeError(f"database at {url} did not answer")
