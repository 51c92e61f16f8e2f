"""audit.events (append-only), audit.stream_heads (gapless per-stream seq) and audit.job_state.

The audit service's statements here are recorded by its Tx like every service's, but summed up
into one event per stream per batch and appended directly: sending them through the bus would
recurse without end."""

import uuid
from dataclasses import fields

from contracts.envelope import Envelope
from services.audit.arrivals import Arrived
from services.audit.chains import Linked
from services.audit.projection import JobState, apply, applied
from services.common.db import Tx

_STATE_COLUMNS = [f.name for f in fields(JobState)]
APPEND = "SELECT audit.append_lines($1::bytea, $2::bytea)"
SAVE_STATES = (f"INSERT INTO audit.job_state ({', '.join(_STATE_COLUMNS)}) VALUES"
               f" ({', '.join(f'${i}' for i in range(1, len(_STATE_COLUMNS) + 1))}) ON CONFLICT (job_id) DO UPDATE SET "
               f"{', '.join(f'{c} = excluded.{c}' for c in _STATE_COLUMNS if c != 'job_id')}, updated_at = now()")

# Which of these (stream, event id) pairs are stored: one index probe per event, in its stream's
# partition only (0040). The lateral join is a nested loop pruned to one partition a row;
# `event_id = ANY(...)` alone would read every partition's (stream_id, event_id) index whole
# (Postgres CPU 5.6 s -> 21.6 s for bench/audit_throughput's 100,000 events).
SEEN = ("SELECT g.event_id FROM unnest($1::text[], $2::uuid[]) AS g (stream_id, event_id)"
        " CROSS JOIN LATERAL (SELECT 1 FROM audit.events e WHERE e.stream_id = g.stream_id"
        " AND e.event_id = g.event_id LIMIT 1) AS stored")


def by_stream(events: list[Arrived]) -> dict[str, list[Arrived]]:
    streams: dict[str, list[Arrived]] = {}
    for event in events:
        streams.setdefault(event.stream, []).append(event)
    return streams


async def unseen(tx: Tx, events: list[Arrived]) -> list[Arrived]:
    """The events not stored before, each once, in the order given (a redelivery is skipped)."""
    known = {str(r["event_id"]) for r in await tx.fetch(SEEN, [e.stream for e in events], [e.event_id for e in events])}
    return once([e for e in events if e.event_id not in known])


def once(events: list[Arrived]) -> list[Arrived]:
    """Each event once, in the order given."""
    return list({e.event_id: e for e in events}.values())


async def reserve(tx: Tx, counts: dict[str, int]) -> tuple[dict[str, int], dict[str, bytes]]:
    """Takes `counts[stream]` seqs off each stream's head, under its row lock until commit, so seq
    has no gap with several replicas and one transaction at a time extends a chain; returns each
    stream's first seq and the hash its first new event links to. One statement for every
    stream, locking them in one order, so two replicas cannot deadlock."""
    streams = sorted(counts)
    rows = await tx.fetch("SELECT * FROM audit.reserve_seqs($1::text[], $2::bigint[])",
                          streams, [counts[s] for s in streams])
    return {r["stream_id"]: r["first_seq"] for r in rows}, {r["stream_id"]: bytes(r["head"]) for r in rows}


async def insert(tx: Tx, chains: list[Linked]) -> None:
    """Appends each stream's linked lines through audit.append_lines, in one statement: the lines
    as one bytea, a line a row, and their hashes as another, 32 bytes each (migration 0041). A
    line is encoded once: the table takes its columns from it, the fan-out sends it with its hash."""
    await tx.execute(APPEND, b"\n".join(text for chain in chains for text in chain.texts),
                     b"".join(digest for chain in chains for digest in chain.hashes))


async def load_states(tx: Tx, events: list[Arrived]) -> dict[uuid.UUID, JobState]:
    """The current state of every job these events belong to: one read per batch."""
    jobs = list({e.job_id for e in events if e.job_id})
    if not jobs:
        return {}
    rows = await tx.fetch("SELECT * FROM audit.job_state WHERE job_id = ANY($1::uuid[])", jobs)
    return {r["job_id"]: state_of(r) for r in rows}


def fold(states: dict[uuid.UUID, JobState], numbered: list[tuple[str, int, Arrived]]) -> dict[uuid.UUID, JobState]:
    """The job states after these events (each stream's in seq order; account events have no
    job state)."""
    states, jobs = dict(states), {}
    for _, seq, event in numbered:
        if event.job_id:
            jobs.setdefault(event.job_id, []).append((seq, event))
    for job_id, events in jobs.items():
        states[job_id] = applied(states.get(job_id), events)
    return states


async def save_states(conn, states: list[JobState]) -> None:
    """Upsert job states (`conn`: the audit service's Tx, or the operator's connection)."""
    if not states:
        return
    await conn.executemany(SAVE_STATES, [tuple(getattr(state, c) for c in _STATE_COLUMNS) for state in states])


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
