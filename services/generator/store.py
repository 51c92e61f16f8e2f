"""The generator's tables: generator.chunks (accepted text) and generator.coherence (the state
carried between chunks). Every LLM call is in generator.llm_calls (services/common/llm/calls.py)."""

import uuid

from services.common.db import Tx

SERVICE = "generator"
# Joined into a one-row query: the job's latest coherence state, or NULLs before the first version.
_LATEST_STATE = (" FROM (SELECT 1) one LEFT JOIN LATERAL (SELECT version, summary, ledger, style"
                 " FROM generator.coherence WHERE job_id = $1 ORDER BY version DESC LIMIT 1) c ON true")


async def chunk_context(tx: Tx, job_id: uuid.UUID, chunk_index: int, previous: int | None):
    """In one statement: the chunk's words if it was written before, how many write attempts it
    has had, the previous chunk's tail, and the latest coherence state (summary, ledger, style)."""
    return await tx.fetchrow(
        "SELECT (SELECT words FROM generator.chunks WHERE job_id = $1 AND chunk_index = $2) AS done_words,"
        " (SELECT coalesce(max(attempt), 0) FROM generator.llm_calls WHERE job_id = $1 AND chunk_index = $2"
        "  AND purpose = 'write') AS attempts,"
        " coalesce((SELECT right(text, 4000) FROM generator.chunks WHERE job_id = $1 AND chunk_index = $3), '')"
        "  AS tail, c.version, c.summary, c.ledger, c.style"
        + _LATEST_STATE,
        job_id, chunk_index, previous,
    )


async def stopped(tx: Tx, job_id: uuid.UUID, epoch: int) -> bool:
    """Whether a write dispatched in `epoch` must stop: its job was cancelled since, or deleted."""
    return await tx.fetchval(
        "SELECT EXISTS (SELECT 1 FROM generator.stops WHERE job_id = $1 AND epoch >= $2)"
        " OR EXISTS (SELECT 1 FROM generator.deleted_jobs WHERE job_id = $1)", job_id, epoch)


async def stop(tx: Tx, job_id: uuid.UUID, epoch: int) -> None:
    await tx.execute(
        "INSERT INTO generator.stops (job_id, epoch) VALUES ($1, $2)"
        " ON CONFLICT (job_id) DO UPDATE SET epoch = greatest(generator.stops.epoch, excluded.epoch)", job_id, epoch)


async def accept_chunk(tx: Tx, job_id: uuid.UUID, chunk_index: int, text: str, words: int, target: int) -> None:
    await tx.execute(
        "INSERT INTO generator.chunks (job_id, chunk_index, text, words, target_words) VALUES ($1,$2,$3,$4,$5)"
        " ON CONFLICT (job_id, chunk_index) DO NOTHING",
        job_id, chunk_index, text, words, target,
    )


async def coherence_after(tx: Tx, job_id: uuid.UUID, chunk_index: int, previous: int | None):
    """In one statement: whether this chunk already has its version, whether `previous` has one
    (true when there is no previous), and the latest state."""
    return await tx.fetchrow(
        "SELECT EXISTS (SELECT 1 FROM generator.coherence WHERE job_id = $1 AND caused_by_chunk = $2) AS mine,"
        " ($3::int IS NULL OR EXISTS (SELECT 1 FROM generator.coherence WHERE job_id = $1 AND caused_by_chunk = $3))"
        "  AS ready, c.version, c.summary, c.ledger, c.style"
        + _LATEST_STATE,
        job_id, chunk_index, previous,
    )


async def add_coherence(tx: Tx, job_id: uuid.UUID, chunk_index: int, summary: str, ledger: str, style: str) -> None:
    """A new version; the advisory lock orders versions when sections finish at the same time."""
    await tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", str(job_id))
    await tx.execute(
        "INSERT INTO generator.coherence (job_id, version, caused_by_chunk, summary, ledger, style)"
        " SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5 FROM generator.coherence WHERE job_id = $1"
        " AND NOT EXISTS (SELECT 1 FROM generator.coherence WHERE job_id = $1 AND caused_by_chunk = $2)",
        job_id, chunk_index, summary, ledger, style,
    )


async def full_text(tx: Tx, job_id: uuid.UUID, chunk_index: int) -> str:
    return await tx.fetchval(
        "SELECT text FROM generator.chunks WHERE job_id = $1 AND chunk_index = $2", job_id, chunk_index
    ) or ""
