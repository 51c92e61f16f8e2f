"""`longform db ...`: the operator applies and inspects the schema; services never do."""

import json
import os
import sys

import asyncpg

from services.audit.store import rebuild_job_state, save_states, state_of
from services.common.migrations import available, migrate, pending

_SCHEMAS = ("gateway", "planner", "generator", "assembler", "audit")
_COLUMNS = """
SELECT c.table_schema, c.table_name, c.column_name, c.data_type, c.column_default, c.is_nullable
FROM information_schema.columns c
WHERE c.table_schema = ANY($1::text[])
ORDER BY c.table_schema, c.table_name, c.ordinal_position
"""


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("set DATABASE_URL to the database to work on")
    return url


async def migrate_command() -> None:
    url = _database_url()
    applied = await migrate(url)
    for m in applied:
        print(f"applied {m.version:04d}_{m.name}")
    print("schema is current" if not await pending(url) else "migrations still pending")


async def schema_command(*, sql: bool) -> None:
    if sql:
        for m in available():
            print(f"-- {m.version:04d}_{m.name}\n{m.sql}")
        return
    conn = await asyncpg.connect(_database_url(), statement_cache_size=0)
    try:
        rows = await conn.fetch(_COLUMNS, list(_SCHEMAS))
    finally:
        await conn.close()
    table = None
    for r in rows:
        name = f"{r['table_schema']}.{r['table_name']}"
        if name != table:
            table = name
            print(f"\n{name}  (owner: {r['table_schema']})")
        default = f" default {r['column_default']}" if r["column_default"] else ""
        null = "" if r["is_nullable"] == "YES" else " not null"
        print(f"  {r['column_name']:<18} {r['data_type']}{null}{default}")


async def rebuild_command(*, check: bool) -> int:
    """Recomputes every job's state from audit.events; with --check only reports differences.
    Returns how many jobs differed from the live projection. One snapshot (repeatable read)
    throughout, so events the running audit service appends meanwhile cannot make a difference
    appear; a rewrite that races the audit service fails on its conflict rather than lose it."""
    conn = await asyncpg.connect(_database_url(), statement_cache_size=0)
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    differing = []
    try:
        snapshot = conn.transaction(isolation="repeatable_read")
        await snapshot.start()
        for row in await conn.fetch("SELECT * FROM audit.job_state ORDER BY job_id"):
            rebuilt = await rebuild_job_state(conn, row["job_id"])
            if rebuilt != state_of(row):
                differing.append(rebuilt)
                print(f"{row['job_id']}: live {state_of(row)} != rebuilt {rebuilt}")
        if differing and not check:
            await save_states(conn, differing)
        await snapshot.commit()
    finally:
        await conn.close()
    print(f"{len(differing)} job(s) differed" + ("" if check or not differing else "; rewritten from the events"))
    return len(differing)
