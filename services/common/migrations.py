"""Versioned SQL migrations from `migrations/`, applied only when an operator (or the
local stack) asks. Services check the schema is current and refuse to start otherwise."""

import hashlib
from dataclasses import dataclass
from pathlib import Path

import asyncpg

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
_LOCK_KEY = 7_411_020_001  # serialises concurrent `migrate` runs
_LEDGER = """
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


def available() -> list[Migration]:
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        version, name = path.stem.split("_", 1)
        found.append(Migration(int(version), name, path.read_text()))
    return found


async def _applied(conn: asyncpg.Connection) -> set[int]:
    exists = await conn.fetchval("SELECT to_regclass('longform_meta.migrations') IS NOT NULL")
    if not exists:
        return set()
    return {r["version"] for r in await conn.fetch("SELECT version FROM longform_meta.migrations")}


async def pending(url: str) -> list[Migration]:
    conn = await asyncpg.connect(url, statement_cache_size=0)
    try:
        done = await _applied(conn)
    finally:
        await conn.close()
    return [m for m in available() if m.version not in done]


async def migrate(url: str) -> list[Migration]:
    """Apply pending migrations, each in its own transaction; safe to run twice or concurrently."""
    conn = await asyncpg.connect(url, statement_cache_size=0)
    applied = []
    try:
        for migration in available():
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
                await conn.execute(_LEDGER)
                if migration.version in await _applied(conn):
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
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in behind)
        raise SystemExit(f"database schema is behind ({names} not applied): run `longform db migrate`")
