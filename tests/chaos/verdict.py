"""What a crash may not do to a job, judged from the outside: from the database (read as its owner,
never changed) and from the fake LLM server's own request log. Used by tests/chaos and
bench/chaos.py alike.

Before each kill a `Snapshot` notes what was complete: the plan, the chunks stored in
generator.chunks, the chunks whose summary is stored, and where the LLM's request log stood. After
the job ends, `judge` checks that no completed work was sent to the LLM again, that the document
holds every planned chunk exactly once, and that the event table has every event every service
committed to its outbox, once."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field

import asyncpg
import httpx

from contracts.wordcount import count_words

TERMINAL = ("completed", "failed", "cancelled")
OUTBOXES = ("gateway", "planner", "generator", "assembler")


@dataclass(frozen=True)
class Snapshot:
    planned: bool
    chunks_done: frozenset[int]
    summarised: frozenset[int]
    llm_mark: int  # the fake LLM's request index when the snapshot was taken
    writing: frozenset[int]  # chunks with a write request in flight at the fake LLM


@dataclass
class Verdict:
    job_id: str
    status: str = ""
    target_words: int = 0
    words: int = 0
    chunks_planned: int = 0
    chunk_indexes: list[int] = field(default_factory=list)
    document_matches_chunks: bool = False
    chunk_reports: dict[int, int] = field(default_factory=dict)  # chunk index -> chunk.processed events
    completions: int = 0
    events: int = 0
    duplicate_event_ids: int = 0
    seq_gaps: int = 0
    lost_events: int = 0  # committed to an outbox, never in audit.events
    redelivered: int = 0  # job.redelivered: messages handled again after a crash or failure
    resumed: int = 0  # job.resumed for crash recovery: a planner picking the job up on start
    wasted_calls: list[str] = field(default_factory=list)  # LLM requests for work complete before a kill

    @property
    def words_short(self) -> int:
        return max(self.target_words - self.words, 0)

    @property
    def duplicate_chunks(self) -> int:
        in_document = len(self.chunk_indexes) - len(set(self.chunk_indexes))
        reported_twice = sum(n - 1 for n in self.chunk_reports.values() if n > 1)
        return in_document + reported_twice

    def problems(self) -> list[str]:
        found = []
        if self.status != "completed" or self.completions != 1:
            found.append(f"status {self.status!r} with {self.completions} job.completed events")
        if self.words_short:
            found.append(f"{self.words} of {self.target_words} words")
        if sorted(self.chunk_indexes) != list(range(self.chunks_planned)):
            found.append(f"chunks {sorted(self.chunk_indexes)} for {self.chunks_planned} planned")
        if not self.document_matches_chunks:
            found.append("the document is not the stored chunks, each once, in order")
        if self.duplicate_chunks or set(self.chunk_reports) != set(range(self.chunks_planned)):
            found.append(f"chunk.processed per chunk: {self.chunk_reports}")
        if self.duplicate_event_ids or self.seq_gaps:
            found.append(f"{self.duplicate_event_ids} duplicate event ids, {self.seq_gaps} seq gaps")
        if self.lost_events:
            found.append(f"{self.lost_events} committed events missing from audit.events")
        if self.wasted_calls:
            found.append(f"LLM called again for completed work: {self.wasted_calls}")
        return found


def read_db(database_url: str, work, patience: float = 60.0):
    """`await work(conn)` on a new connection; tried again while Postgres is restarting."""
    async def run():
        conn = await asyncpg.connect(database_url)
        try:
            return await work(conn)
        finally:
            await conn.close()

    deadline = time.monotonic() + patience
    while True:
        try:
            return asyncio.run(run())
        except (OSError, asyncpg.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def llm_mark(llm_root: str) -> int:
    return _request_log(llm_root, 2**62)["next"]


def llm_requests(llm_root: str, since: int) -> list[dict]:
    return _request_log(llm_root, since)["requests"]


def _request_log(llm_root: str, since: int, attempts: int = 20) -> dict:
    """The fake server's log; asked again when it answers 500 (its log changed while it was read)."""
    for _ in range(attempts - 1):
        response = httpx.get(f"{llm_root}/_control/requests", params={"since": since}, timeout=30)
        if response.status_code != 500:
            break
        time.sleep(0.05)
    return response.raise_for_status().json()


def snapshot(database_url: str, llm_root: str, job_id: str) -> Snapshot:
    """What was complete now; taken just before a kill (the database first, then the LLM's log, so a
    chunk noted complete had every one of its calls before the mark)."""
    job = uuid.UUID(job_id)

    async def read(conn):
        planned = await conn.fetchval("SELECT count(*) FROM planner.plans WHERE job_id = $1", job)
        done = await conn.fetch("SELECT chunk_index FROM generator.chunks WHERE job_id = $1", job)
        summarised = await conn.fetch("SELECT caused_by_chunk FROM generator.coherence WHERE job_id = $1", job)
        return bool(planned), frozenset(r[0] for r in done), frozenset(r[0] for r in summarised)

    planned, done, summarised = read_db(database_url, read)
    mark = llm_mark(llm_root)
    writing = frozenset(int(r["chunk"].split(":")[1]) for r in llm_requests(llm_root, max(mark - 50, 0))
                        if r["status"] is None and (r["chunk"] or "").startswith(f"{job_id}:")
                        and r["chunk"].count(":") == 1 and not r["chunk"].endswith(":outline"))
    return Snapshot(planned, done, summarised, mark, writing)


def status(database_url: str, job_id: str) -> str | None:
    return read_db(database_url, lambda conn: conn.fetchval(
        "SELECT status FROM audit.job_state WHERE job_id = $1", uuid.UUID(job_id)))


def chunks_stored(database_url: str, job_id: str) -> tuple[int, int]:
    """Chunks stored and chunks planned so far."""
    job = uuid.UUID(job_id)

    async def read(conn):
        done = await conn.fetchval("SELECT count(*) FROM generator.chunks WHERE job_id = $1", job)
        planned = await conn.fetchval("SELECT count(*) FROM planner.chunks WHERE job_id = $1", job)
        return done, planned

    return read_db(database_url, read)


def events_of(database_url: str, job_id: str, event_type: str) -> list[dict]:
    """The data of the job's events of one type, in order."""
    rows = read_db(database_url, lambda conn: conn.fetch(
        "SELECT data::text FROM audit.events WHERE job_id = $1 AND type = $2 ORDER BY seq", uuid.UUID(job_id),
        event_type))
    return [json.loads(r[0]) for r in rows]


def event_ids(database_url: str, job_id: str) -> dict[str, str]:
    """Every event id in the job's log, with its type."""
    rows = read_db(database_url, lambda conn: conn.fetch(
        "SELECT event_id::text, type FROM audit.events WHERE job_id = $1", uuid.UUID(job_id)))
    return {r[0]: r[1] for r in rows}


def wait_until_ended(database_url: str, job_id: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while (now := status(database_url, job_id)) not in TERMINAL:
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {now!r} after {timeout:.0f} s")
        time.sleep(0.2)
    return now


def judge(database_url: str, llm_root: str, job_id: str, snapshots: list[Snapshot],
          settle_seconds: float = 20.0) -> Verdict:
    """The job's outcome; waits up to `settle_seconds` for the last committed events (the relays'
    own reports) to reach the event table before counting any as lost."""
    verdict = Verdict(job_id)
    deadline = time.monotonic() + settle_seconds
    while True:
        read_db(database_url, lambda conn: _read_outcome(conn, verdict))
        if not verdict.lost_events or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    requests = llm_requests(llm_root, min((s.llm_mark for s in snapshots), default=0))
    verdict.wasted_calls = [f"{r['chunk']} (request {r['index']})" for r in requests
                            for s in snapshots if r["index"] >= s.llm_mark and _was_complete(r["chunk"], job_id, s)]
    return verdict


def _was_complete(header: str | None, job_id: str, snap: Snapshot) -> bool:
    """Whether the request (by its x-longform-chunk header) asked for work already stored."""
    parts = (header or "").split(":")
    if parts[0] != job_id or len(parts) < 2:
        return False
    if parts[1] == "outline":
        return snap.planned
    if len(parts) == 3 and parts[2] == "summary":
        return int(parts[1]) in snap.summarised
    return int(parts[1]) in snap.chunks_done


async def _read_outcome(conn: asyncpg.Connection, v: Verdict) -> None:
    job = uuid.UUID(v.job_id)
    state = await conn.fetchrow("SELECT status, target_words FROM audit.job_state WHERE job_id = $1", job)
    v.status, v.target_words = (state["status"], state["target_words"]) if state else ("", 0)
    v.chunks_planned = await conn.fetchval("SELECT count(*) FROM planner.chunks WHERE job_id = $1", job)
    chunks = await conn.fetch("SELECT chunk_index, text FROM generator.chunks WHERE job_id = $1 ORDER BY 1", job)
    v.chunk_indexes = [r["chunk_index"] for r in chunks]
    body = await conn.fetchval("SELECT body FROM assembler.documents WHERE job_id = $1", job) or ""
    v.words = count_words(body)
    v.document_matches_chunks = bool(chunks) and body == "\n\n".join(r["text"] for r in chunks) and all(
        body.count(r["text"]) == 1 for r in chunks)
    reports = await conn.fetch(
        "SELECT (data->>'chunk_index')::int AS chunk, count(*) AS n FROM audit.events"
        " WHERE job_id = $1 AND type = 'chunk.processed' GROUP BY 1", job)
    v.chunk_reports = {r["chunk"]: r["n"] for r in reports}
    v.completions = await conn.fetchval(
        "SELECT count(*) FROM audit.events WHERE job_id = $1 AND type = 'job.completed'", job)
    v.redelivered = await conn.fetchval(
        "SELECT count(*) FROM audit.events WHERE job_id = $1 AND type = 'job.redelivered'", job)
    v.resumed = await conn.fetchval(
        "SELECT count(*) FROM audit.events WHERE job_id = $1 AND type = 'job.resumed'"
        " AND data->>'reason' = 'crash_recovery'", job)
    events = await conn.fetchrow(
        "SELECT count(*) AS n, count(DISTINCT event_id) AS ids, coalesce(max(seq), 0) AS top"
        " FROM audit.events WHERE job_id = $1", job)
    v.events, v.duplicate_event_ids, v.seq_gaps = events["n"], events["n"] - events["ids"], events["top"] - events["n"]
    committed = " UNION ".join(f"SELECT event_id FROM {schema}.outbox WHERE payload->>'job_id' = $1::uuid::text"
                               for schema in OUTBOXES)
    v.lost_events = await conn.fetchval(
        f"SELECT count(*) FROM ({committed}) o WHERE NOT EXISTS"
        " (SELECT 1 FROM audit.events e WHERE e.event_id = o.event_id)", job)
