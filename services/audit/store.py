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


def stream_id(job_id, user_id) -> str:
    """A job's events form its stream; account events without a job form the user's."""
    if job_id:
        return str(job_id)
    return f"user:{user_id}" if user_id else "system"


def stream_of(envelope: Envelope) -> str:
    return stream_id(envelope.job_id, envelope.user_id)


def stream_of_line(line: dict) -> str:
    return stream_id(line["job_id"], line["user_id"])


async def append_batch(tx: Tx, envelopes: list[Envelope]) -> list[dict]:
    """Append the events not stored before, each stream's in order, with gapless seqs; update the
    job projections; return the persisted lines. A few statements per batch, not per event."""
    known = {r["event_id"] for r in await tx.fetch(
        "SELECT event_id FROM audit.events WHERE event_id = ANY($1::uuid[])", [e.event_id for e in envelopes])}
    fresh = list({e.event_id: e for e in envelopes if e.event_id not in known}.values())
    if not fresh:
        return []
    streams: dict[str, list[Envelope]] = {}
    for envelope in fresh:
        streams.setdefault(stream_of(envelope), []).append(envelope)
    numbered = []
    for stream, group in streams.items():
        last = await tx.fetchval(
            "INSERT INTO audit.stream_heads (stream_id, last_seq) VALUES ($1, $2) ON CONFLICT (stream_id)"
            " DO UPDATE SET last_seq = audit.stream_heads.last_seq + $2 RETURNING last_seq",
            stream, len(group),
        )
        numbered += [(stream, last - len(group) + 1 + i, e) for i, e in enumerate(group)]
    rows = await tx.fetch(
        "INSERT INTO audit.events (stream_id, seq, event_id, job_id, user_id, type, service, occurred_at, data)"
        " SELECT * FROM unnest($1::text[], $2::bigint[], $3::uuid[], $4::uuid[], $5::uuid[], $6::text[], $7::text[],"
        " $8::timestamptz[], $9::jsonb[]) RETURNING *",
        *[list(column) for column in zip(*[
            (s, q, e.event_id, e.job_id, e.user_id, e.type, e.service, e.occurred_at, e.data) for s, q, e in numbered
        ])],
    )
    await project(tx, [(q, e) for _, q, e in numbered if e.job_id])
    return [event_line(r) for r in sorted(rows, key=lambda r: (r["stream_id"], r["seq"]))]


async def project(tx: Tx, events: list[tuple[int, Envelope]]) -> None:
    """Folds the events (seq, envelope) into each job's state: one read and one write per batch."""
    if not events:
        return
    rows = await tx.fetch("SELECT * FROM audit.job_state WHERE job_id = ANY($1::uuid[])",
                          list({e.job_id for _, e in events}))
    states = {r["job_id"]: state_of(r) for r in rows}
    for seq, envelope in sorted(events, key=lambda pair: pair[0]):
        states[envelope.job_id] = apply(states.get(envelope.job_id), envelope, seq)
    await save_states(tx, list(states.values()))


async def save_states(conn, states: list[JobState]) -> None:
    """Upsert job states (`conn`: the audit service's Tx, or the operator's connection)."""
    columns = ", ".join(_STATE_COLUMNS)
    params = ", ".join(f"${i}" for i in range(1, len(_STATE_COLUMNS) + 1))
    updates = ", ".join(f"{c} = excluded.{c}" for c in _STATE_COLUMNS if c != "job_id")
    await conn.executemany(
        f"INSERT INTO audit.job_state ({columns}) VALUES ({params}) ON CONFLICT (job_id) DO UPDATE SET "
        f"{updates}, updated_at = now()",
        [tuple(asdict(state)[c] for c in _STATE_COLUMNS) for state in states],
    )


def state_of(row) -> JobState:
    return JobState(**{k: row[k] for k in _STATE_COLUMNS})


async def rebuild_job_state(conn, job_id: uuid.UUID, page: int = 1000) -> JobState | None:
    """Job state recomputed from the event table alone, page by page (it must equal the live one)."""
    state, after = None, 0
    while rows := await conn.fetch(
        "SELECT seq, event_id, job_id, user_id, type, service, occurred_at, data FROM audit.events"
        " WHERE stream_id = $1 AND seq > $2 ORDER BY seq LIMIT $3", str(job_id), after, page,
    ):
        for r in rows:
            envelope = Envelope(event_id=r["event_id"], job_id=r["job_id"], user_id=r["user_id"], type=r["type"],
                                service=r["service"], occurred_at=r["occurred_at"], data=r["data"])
            state = apply(state, envelope, r["seq"])
        after = rows[-1]["seq"]
    return state
