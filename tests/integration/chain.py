"""Appending events the only way the database allows (audit.reserve_seqs, then
audit.append_lines with each event's hash linked into its stream's chain), for tests that need
events in a log without running the audit service."""

import uuid
from datetime import datetime, timezone

import asyncpg

from contracts.auditlog import chained, linked
from tests.integration.dbread import connected


async def append(conn: asyncpg.Connection, job_id: uuid.UUID, user_id: uuid.UUID, types: list[str],
                 event_ids: list[uuid.UUID] | None = None, data: list | None = None) -> list[dict]:
    """Appends one event of each type to the job's stream, in one transaction, each linked as the
    audit service links it (`chained`); returns their lines."""
    stream = str(job_id)
    async with conn.transaction():
        (row,) = await conn.fetch("SELECT * FROM audit.reserve_seqs($1::text[], $2::bigint[])", [stream], [len(types)])
        head, lines = bytes(row["head"]), []
        for offset, (event_type, event_id) in enumerate(zip(types, event_ids or [uuid.uuid4() for _ in types])):
            line = {"seq": row["first_seq"] + offset, "event_id": str(event_id), "type": event_type,
                    "ts": datetime.now(timezone.utc).isoformat(timespec="microseconds"), "service": "test",
                    "job_id": stream, "user_id": str(user_id), "data": data[offset] if data else {"n": offset}}
            text = chained(line)
            head = linked(head, text)
            lines.append(line | {"hash": head.hex(), "text": text})
        await conn.execute("SELECT audit.append_lines($1::bytea, $2::bytea)", b"\n".join(l.pop("text") for l in lines),
                           b"".join(bytes.fromhex(l["hash"]) for l in lines))
    return lines


def tampered(database_url: str, sql: str, *args) -> int | None:
    """Runs `sql` as the superuser with triggers off (what someone with the database's keys could
    do); it ends RETURNING seq, and the seq it changed is returned."""
    changed = []

    async def work(conn):
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            changed.extend(await conn.fetch(sql, *args))
    connected(database_url, work)
    return changed[0]["seq"] if changed else None
