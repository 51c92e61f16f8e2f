"""The one database access layer. Every statement a service runs goes through a `Tx`,
which records it (SQL, tables read and written, rows, duration, error) so the audit log
holds every statement by construction, and which writes emitted events to the service's
outbox in the same transaction as the state they describe."""

import asyncio
import functools
import json
import time
import uuid
from datetime import datetime, timezone
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, AsyncIterator, Awaitable, Callable
from urllib.parse import urlsplit

import asyncpg
import orjson
from pydantic import TypeAdapter

from contracts.envelope import Envelope
from contracts.steps import current_step
from contracts.messages import RELAY_CONTEXT, VIEWER_CONTEXT, DbQueried, RowInserted, RowUpdated, SqlStatement
from contracts.redact import Redactor
from services.common.retry import OUTAGE
from services.common.sqltables import rows_from_status, tables_touched


@dataclass(frozen=True)
class Committed:
    """An event as its transaction wrote it to the outbox, handed to the relay after the commit."""
    event_id: str
    type: str
    payload: bytes
    job_id: uuid.UUID | None
    user_id: uuid.UUID | None
    relay_note: bool  # the relay's report of its own statements


@dataclass(frozen=True)
class Statement:
    sql: str
    tables: dict[str, str]
    rows: int | None
    duration_ms: float
    error: str | None
    executions: int = 1  # executemany runs the statement once per argument tuple


SESSION_LOCK = "SELECT pg_advisory_lock($1)"


async def _init_connection(conn: asyncpg.Connection, session_lock: int | None = None,
                           opened: list["Statement"] | None = None) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=orjson.loads, schema="pg_catalog")
    if session_lock is not None:  # held for the connection's life: waits while another session has it
        await _recorded(conn, "execute", SESSION_LOCK, (session_lock,), opened)


_TIME = TypeAdapter(datetime)


@lru_cache(maxsize=2048)
def _shape(sql: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A statement's text on one line and the tables it touches: the same few hundred statements
    run over and over, so each is parsed once per process."""
    return " ".join(sql.split()), tuple(tables_touched(sql).items())


async def _nothing_to_reset(conn: asyncpg.Connection) -> None:
    """A connection goes back to the pool as it came: the services take only transaction-scoped
    locks, set only transaction-local settings and never LISTEN, and the pool rolls back a
    transaction left open before calling this. So asyncpg's reset query (RESET ALL, UNLISTEN *,
    ...), one more round trip after every use of a connection, has nothing to do."""


# The payload goes as text, so the JSON written is the very JSON published after the commit.
_OUTBOX_INSERT = ("INSERT INTO {schema}.outbox (event_id, type, payload) VALUES ($1, $2, $3::text::jsonb) "
                  "ON CONFLICT (event_id) DO NOTHING")
_ROW_CHANGES = ("WITH noted AS (DELETE FROM {schema}.row_changes WHERE xid = pg_current_xact_id() "
                "RETURNING id, table_name, op, row_id, fields) SELECT * FROM noted ORDER BY id")


OnCommit = Callable[[list["Committed"]], None]


def _nowhere(committed: list[Committed]) -> None:
    """A database whose commits no relay publishes (a command-line tool, a test of the table)."""


class Database:
    """`on_commit` receives each transaction's outbox events right after its commit: the outbox
    relay's hand-off (services/common/outbox.py), given here when the service is wired."""

    def __init__(self, pool: asyncpg.Pool, service: str, instance: str = "", on_commit: OnCommit = _nowhere,
                 opened: list[Statement] | None = None) -> None:
        self.pool = pool
        # Statements that opened a connection (a session lock), recorded by the next transaction.
        self.opened = opened if opened is not None else []
        self.service = service
        self.instance = instance or service  # which of the service's processes: its llm.call events say so
        self.schema = service
        # Every schema but audit's has row triggers (migrations/0008_row_changes.sql).
        self.notes_rows = service != "audit"
        self.redactor = Redactor.from_environment()  # the secrets this service was configured with
        self.outbox_insert = _OUTBOX_INSERT.format(schema=self.schema)
        self.on_commit = on_commit

    @classmethod
    async def connect(cls, url: str, service: str, *, max_size: int = 5, pooled: bool | None = None,
                      instance: str = "", on_commit: OnCommit = _nowhere,
                      session_lock: int | None = None) -> "Database":
        """`session_lock`: an advisory lock every connection takes before its first use and holds
        while it lives (services/audit/writer.py); the statement is recorded by the transaction
        that first uses the connection (the next one, if that one fails). Such a pool opens its
        connections when asked and keeps them however long they idle. Not behind a
        transaction-mode pooler, where a session is not ours."""
        opened: list[Statement] = []
        if session_lock is not None and is_pooled(url, pooled):
            raise ValueError("a session lock needs a direct connection, not a transaction-mode pooler")
        # Prepared statements are cached per connection (one round trip per statement instead of
        # two), except behind PgBouncer in transaction mode, where a connection is not ours.
        pool = await asyncpg.create_pool(
            url, min_size=1 if session_lock is None else 0, max_size=max_size,
            max_inactive_connection_lifetime=300.0 if session_lock is None else 0,
            statement_cache_size=0 if is_pooled(url, pooled) else 100,
            server_settings={"application_name": instance or service},
            init=functools.partial(_init_connection, session_lock=session_lock, opened=opened),
            reset=_nothing_to_reset,
        )
        return cls(pool, service, instance, on_commit, opened)

    async def close(self, timeout: float = 10.0) -> None:
        """Waits for connections in use to come back, then closes; past `timeout`, cuts them."""
        try:
            await asyncio.wait_for(self.pool.close(), timeout)
        except asyncio.TimeoutError:
            self.pool.terminate()

    @asynccontextmanager
    async def transaction(
        self, *, job_id: uuid.UUID | None = None, user_id: uuid.UUID | None = None, system: bool = False,
        viewed_job: uuid.UUID | None = None,
    ) -> AsyncIterator["Tx"]:
        """`system`: work that belongs to no job or account (a recovery scan, a retention pass),
        audited into the operators' system stream; otherwise a transaction for neither is the
        outbox relay's or the audit service's own, which report themselves. `viewed_job`: the
        account's reads that showed it this job (Reads)."""
        async with self.pool.acquire() as conn:
            tx = Tx(conn, self, job_id, user_id, system, viewed_job)
            opening, self.opened[:] = self.opened[:], []
            tx.statements.extend(opening)
            try:
                async with conn.transaction():
                    yield tx
                    await tx.flush_outbox()
            except BaseException:
                self.opened[:0] = opening  # not committed: the next transaction records them
                raise
        if tx.committed:
            self.on_commit(tx.committed)

    def reads(self, *, job_id: uuid.UUID | None = None, user_id: uuid.UUID | None = None,
              system: bool = False) -> "Reads":
        return Reads(self, job_id, user_id, system)

    async def read(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """A read that belongs to no job or account (so it is not audited): a health check."""
        async with self.pool.acquire() as conn:
            return await conn.fetch(sql, *args)


async def _recorded(conn: asyncpg.Connection, method: str, sql: str, args: tuple, into: list[Statement]) -> Any:
    """Runs one statement and appends what it did (or the error it raised) to `into`."""
    started = time.perf_counter()
    error = None
    result: Any = None
    try:
        result = await getattr(conn, method)(sql, *args)
        return result
    except Exception as exc:  # recorded, then re-raised
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        if isinstance(result, str):
            rows = rows_from_status(result)
        elif isinstance(result, list):
            rows = len(result)
        else:
            rows = None if result is None or method == "executemany" else 1
        text, tables = _shape(sql)
        into.append(Statement(text, dict(tables), rows,
                              round((time.perf_counter() - started) * 1000, 3), error,
                              len(args[0]) if method == "executemany" else 1))


def as_sql_statements(statements: list[Statement]) -> list[SqlStatement]:
    return [SqlStatement(sql=s.sql, tables=s.tables, rows=s.rows, duration_ms=s.duration_ms, error=s.error,
                         executions=s.executions) for s in statements]


def _statements_data(statements: list[Statement], outbox_sql: str, outbox_rows: int) -> list[dict]:
    """`DbQueried.statements` as its JSON (the fields of SqlStatement, in its order), built without
    a model per statement: a transaction's db.query is written on every commit."""
    text, tables = _shape(outbox_sql)
    return [{"sql": s.sql, "tables": s.tables, "rows": s.rows, "duration_ms": s.duration_ms, "error": s.error,
             "executions": s.executions} for s in statements] + [
        {"sql": text, "tables": dict(tables), "rows": outbox_rows, "duration_ms": None, "error": None,
         "executions": outbox_rows}]


class Tx:
    def __init__(self, conn: asyncpg.Connection, db: Database, job_id, user_id, system: bool = False,
                 viewed_job: uuid.UUID | None = None) -> None:
        self.conn = conn
        self.db = db
        self.job_id = job_id
        self.user_id = user_id
        self.system = system
        self.viewed_job = viewed_job
        self.statements: list[Statement] = []
        self.emitted: list[Envelope] = []
        self.committed: list[Committed] = []

    async def execute(self, sql: str, *args: Any) -> str:
        return await _recorded(self.conn, "execute", sql, args, self.statements)

    async def executemany(self, sql: str, args: list[tuple]) -> None:
        await _recorded(self.conn, "executemany", sql, (args,), self.statements)

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await _recorded(self.conn, "fetch", sql, args, self.statements)

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        return await _recorded(self.conn, "fetchrow", sql, args, self.statements)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await _recorded(self.conn, "fetchval", sql, args, self.statements)

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

    @property
    def audited(self) -> bool:
        """A transaction for a job, an account or the system stream is audited; the audit service
        audits its own, the outbox relay reports its own."""
        return self.job_id is not None or self.user_id is not None or self.system

    def _wrote_watched_table(self) -> bool:
        outbox = f"{self.db.schema}.outbox"
        return any(mode == "write" and table != outbox for s in self.statements for table, mode in s.tables.items())

    async def _row_events(self, query_event_id: uuid.UUID) -> list[Envelope]:
        """The rows this transaction inserted or updated, as the triggers noted them (the notes
        are deleted here, so none outlives its transaction)."""
        if not (self.db.notes_rows and self._wrote_watched_table()):
            return []
        notes = await self.fetch(_ROW_CHANGES.format(schema=self.db.schema))
        if not self.audited:
            return []
        return [self._wrap(_row_message(note, query_event_id)) for note in notes]

    def _wrap(self, message, event_id: uuid.UUID | None = None) -> Envelope:
        return Envelope.wrap(message, service=self.db.service, job_id=self.job_id, user_id=self.user_id,
                             event_id=event_id)

    def sql_statements(self, *, outbox_rows: int) -> list[SqlStatement]:
        """The statements so far, then the outbox write that will carry them (`outbox_rows` rows;
        its duration cannot be inside the event it writes)."""
        sql = self.db.outbox_insert
        return as_sql_statements(self.statements) + [
            SqlStatement(sql=sql, tables=tables_touched(sql), rows=outbox_rows, duration_ms=None,
                         executions=outbox_rows)]

    async def flush_outbox(self) -> None:
        """Write the transaction's audit events (one `db.query` listing every statement, one
        `db.row_*` per row changed) and the emitted events to the outbox, in this transaction."""
        query_event_id = uuid.uuid4()
        envelopes = await self._row_events(query_event_id) + self.emitted
        if self.audited and (self.statements or envelopes):  # the outbox write alone is a statement too
            # What DbQueried(...).model_dump(mode="json") gives, built directly (tests/unit/test_db_outbox_json.py).
            query = {"statements": _statements_data(self.statements, self.db.outbox_insert, len(envelopes) + 1),
                     "context": VIEWER_CONTEXT if self.viewed_job else "",
                     "viewed_job": str(self.viewed_job) if self.viewed_job else None}
            envelopes.insert(0, Envelope.model_construct(
                event_id=query_event_id, job_id=self.job_id, user_id=self.user_id, type=DbQueried.TYPE,
                service=self.db.service, data=query, step=current_step()))
        if not envelopes:
            return
        # One time for the whole transaction, its commit's: the log's seq order and its times agree
        # (the db.query that lists the statements was made last but is stored first).
        stamp = _TIME.dump_python(datetime.now(timezone.utc), mode="json")
        payloads = [self._stored(e, stamp) for e in envelopes]
        await self.conn.executemany(
            self.db.outbox_insert, [(e.event_id, e.type, text.decode()) for e, text in zip(envelopes, payloads)],
        )
        self.committed = [
            Committed(str(e.event_id), e.type, text, e.job_id, e.user_id,
                      relay_note=e.data.get("context") == RELAY_CONTEXT)
            for e, text in zip(envelopes, payloads)
        ]

    def _stored(self, envelope: Envelope, occurred_at: str) -> bytes:
        """The event as the outbox keeps it, with every secret redacted (SPEC A4), as JSON: the
        envelope's fields as `model_dump(mode="json")` names them, encoded once (orjson)."""
        return orjson.dumps({
            "event_id": str(envelope.event_id), "job_id": _text(envelope.job_id), "user_id": _text(envelope.user_id),
            "type": envelope.type, "occurred_at": occurred_at, "service": envelope.service,
            "schema_version": envelope.schema_version, "data": self.db.redactor.data(envelope.data),
            "step": envelope.step,
        }, default=_json_default)


def _text(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def _json_default(value: Any) -> Any:
    """A value orjson does not encode itself, as pydantic's JSON mode would give it."""
    return TypeAdapter(Any).dump_python(value, mode="json")


def _row_message(note, query_event_id: uuid.UUID) -> RowInserted | RowUpdated:
    if note["op"] == "insert":
        return RowInserted(table=note["table_name"], row_id=note["row_id"], fields=note["fields"],
                           query_event_id=query_event_id)
    return RowUpdated(table=note["table_name"], row_id=note["row_id"], changes=note["fields"],
                      query_event_id=query_event_id)


class Reads:
    """Reads outside a transaction (the gateway's pages, downloads and websocket replays),
    recorded like a transaction's statements and written as one `db.query` event by `flush()`.
    `job_id` and `user_id` may be learnt on the way (who asks; which job turned out theirs);
    `viewed_job`, a job these reads showed its owner: they stay in the owner's account log,
    naming it, so watching a job never makes its own log longer."""

    def __init__(self, db: Database, job_id: uuid.UUID | None, user_id: uuid.UUID | None,
                 system: bool = False) -> None:
        self.db = db
        self.job_id = job_id
        self.user_id = user_id
        self.system = system
        self.viewed_job: uuid.UUID | None = None
        self.statements: list[Statement] = []

    async def _run(self, method: str, sql: str, args: tuple) -> Any:
        async with self.db.pool.acquire() as conn:
            return await _recorded(conn, method, sql, args, self.statements)

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await self._run("fetch", sql, args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self._run("fetchval", sql, args)

    async def flush(self) -> None:
        """One `db.query` event for the reads so far, in the job's log (else the account's, else
        the system stream's when these reads were made for no one)."""
        statements, self.statements = self.statements, []
        if not statements or (self.job_id is None and self.user_id is None and not self.system):
            return
        async with self.db.transaction(job_id=self.job_id, user_id=self.user_id, system=self.system,
                                       viewed_job=None if self.job_id else self.viewed_job) as tx:
            tx.statements = statements


async def text_slices(fetchval: Callable[..., Awaitable[Any]], sql: str, key: Any, size: int) -> AsyncIterator[str]:
    """A long text column read `size` characters at a time, so it is never held whole. `sql`
    selects `substr(<column>, $2, $3)` from the row keyed by $1; its column is stored uncompressed
    (STORAGE EXTERNAL), so each slice reads only its own part."""
    start = 1
    while piece := await fetchval(sql, key, start, size):
        yield piece
        start += size


def is_pooled(url: str, pooled: bool | None) -> bool:
    """Whether `url` reaches Postgres through PgBouncer in transaction mode: as configured, else
    Neon's pooled connection string (its host name carries "-pooler")."""
    return pooled if pooled is not None else "-pooler" in (urlsplit(url).hostname or "")


# What a statement raises when Postgres is away (down, restarting, unreachable), not at fault.
_AWAY = (OSError, asyncio.TimeoutError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
         asyncpg.exceptions.OperatorInterventionError, asyncpg.exceptions.TooManyConnectionsError)


async def answers(db: Database, timeout: float = 2.0) -> bool:
    try:
        await asyncio.wait_for(db.read("SELECT 1"), timeout)
        return True
    except (*_AWAY, asyncpg.PostgresError):
        return False


async def waited_out_outage(db: Database, failure: BaseException) -> bool:
    """If `failure` came from Postgres being away and it still does not answer: waits, with
    backoff, until it answers again, and returns True (the work may be done again at once).
    False for any other failure, which counts against the message's deliveries."""
    if not isinstance(failure, _AWAY) or await answers(db):
        return False
    attempt = 0
    while not await answers(db):
        attempt += 1
        await asyncio.sleep(OUTAGE.delay(attempt))
    return True


async def wait_for_database(url: str, attempts: int = 60) -> None:
    """Postgres may still be starting (local stack) or restarting: retry with backoff."""
    for attempt in range(1, attempts + 1):
        try:
            conn = await asyncpg.connect(url, statement_cache_size=0)
            await conn.close()
            return
        except (OSError, asyncpg.PostgresError):
            await asyncio.sleep(OUTAGE.delay(attempt))
    raise RuntimeError(f"database at {url} did not answer")
