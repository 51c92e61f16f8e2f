"""audit.events (append-only), audit.stream_heads (gapless per-stream seq) and audit.job_state.

The audit service's statements here are recorded by its Tx like every service's, but summed up
into one event per stream per batch and appended directly: sending them through the bus would
recurse without end."""

import uuid
from dataclasses import asdict, fields

from contracts.auditlog import event_line
from contracts.envelope import Envelope
from services.audit.projection import JobState, apply
from services.common.db import Tx

_STATE_COLUMNS = [f.name for f in fields(JobState)]


def stream_of_line(line: dict) -> str:
    return line["job_id"] or (f"user:{line['user_id']}" if line["user_id"] else "system")


def stream_of(envelope: Envelope) -> str:
    if envelope.job_id:
        return str(envelope.job_id)
    return f"user:{envelope.user_id}" if envelope.user_id else "system"


async def append(conn: Tx, envelope: Envelope) -> dict | None:
    """Append one event; returns its persisted line, or None if it was stored before."""
    if await conn.fetchval("SELECT 1 FROM audit.events WHERE event_id = $1", envelope.event_id):
        return None
    stream = stream_of(envelope)
    seq = await conn.fetchval(
        "INSERT INTO audit.stream_heads (stream_id, last_seq) VALUES ($1, 1) ON CONFLICT (stream_id)"
        " DO UPDATE SET last_seq = audit.stream_heads.last_seq + 1 RETURNING last_seq",
        stream,
    )
    row = await conn.fetchrow(
        "INSERT INTO audit.events (stream_id, seq, event_id, job_id, user_id, type, service, occurred_at, data)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING *",
        stream, seq, envelope.event_id, envelope.job_id, envelope.user_id, envelope.type, envelope.service,
        envelope.occurred_at, envelope.data,
    )
    if envelope.job_id:
        await project(conn, envelope, seq)
    return event_line(row)


async def project(conn: Tx, envelope: Envelope, seq: int) -> None:
    row = await conn.fetchrow("SELECT * FROM audit.job_state WHERE job_id = $1", envelope.job_id)
    state = apply(JobState(**{k: row[k] for k in _STATE_COLUMNS}) if row else None, envelope, seq)
    values = asdict(state)
    columns = ", ".join(_STATE_COLUMNS)
    params = ", ".join(f"${i}" for i in range(1, len(_STATE_COLUMNS) + 1))
    updates = ", ".join(f"{c} = excluded.{c}" for c in _STATE_COLUMNS if c != "job_id")
    await conn.execute(
        f"INSERT INTO audit.job_state ({columns}) VALUES ({params}) ON CONFLICT (job_id) DO UPDATE SET "
        f"{updates}, updated_at = now()",
        *[values[c] for c in _STATE_COLUMNS],
    )


async def rebuild_job_state(conn, job_id: uuid.UUID) -> JobState | None:
    """Job state recomputed from the event table alone (it must equal the live projection)."""
    state = None
    rows = await conn.fetch(
        "SELECT seq, event_id, job_id, user_id, type, service, occurred_at, data FROM audit.events"
        " WHERE stream_id = $1 ORDER BY seq", str(job_id),
    )
    for r in rows:
        envelope = Envelope(event_id=r["event_id"], job_id=r["job_id"], user_id=r["user_id"], type=r["type"],
                            service=r["service"], occurred_at=r["occurred_at"], data=r["data"])
        state = apply(state, envelope, r["seq"])
    return state
