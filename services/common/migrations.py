"""Versioned SQL migrations from `migrations/`, applied only when an operator (or the
local stack) asks. Services check the schema is current and refuse to start otherwise."""

import hashlib
import secrets
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
_LOCK_KEY = 7_411_020_001  # serialises concurrent `migrate` runs
LEDGER = """
CREATE SCHEMA IF NOT EXISTS longform_meta;
CREATE TABLE IF NOT EXISTS longform_meta.migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"


def available(up_to: int | None = None) -> list[Migration]:
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        version, name = path.stem.split("_", 1)
        if up_to is None or int(version) <= up_to:
            found.append(Migration(int(version), name, path.read_text()))
    return found


async def ledger(conn: asyncpg.Connection) -> dict[int, str]:
    """Each applied migration's version and the checksum it had when it was applied."""
    exists = await conn.fetchval("SELECT to_regclass('longform_meta.migrations') IS NOT NULL")
    if not exists:
        return {}
    rows = await conn.fetch("SELECT version, checksum FROM longform_meta.migrations")
    return {r["version"]: r["checksum"] for r in rows}


async def applied(url: str) -> dict[int, str]:
    """The ledger of the database at `url`."""
    conn = await asyncpg.connect(url, statement_cache_size=0)
    try:
        return await ledger(conn)
    finally:
        await conn.close()


async def pending(url: str) -> list[Migration]:
    done = await applied(url)
    return [m for m in available() if m.version not in done]


async def migrate(url: str, *, up_to: int | None = None) -> list[Migration]:
    """Apply pending migrations, each in its own transaction; safe to run twice or concurrently."""
    conn = await asyncpg.connect(url, statement_cache_size=0)
    applied = []
    try:
        for migration in available(up_to):
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
                await conn.execute(LEDGER)
                if migration.version in await ledger(conn):
                    continue
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO longform_meta.migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version, migration.name, migration.checksum,
                )
                applied.append(migration)
    finally:
        await conn.close()
    return applied


async def require_current(url: str) -> None:
    behind = await pending(url)
    if behind:
        names = ", ".join(m.label for m in behind)
        raise SystemExit(f"database schema is behind ({names} not applied): run `longform db migrate`")


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@asynccontextmanager
async def scratch_database(server_url: str, *, up_to: int | None = None) -> AsyncIterator[str]:
    """A temporary database on `server_url`'s server, migrated to the latest version (or
    `up_to`), dropped afterwards: the schema as the migrations define it."""
    name = f"longform_scratch_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(server_url, statement_cache_size=0)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = with_database(server_url, name)
            await migrate(url, up_to=up_to)
            yield url
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
