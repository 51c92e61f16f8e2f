"""The generator's tables: generator.chunks (accepted text) and generator.coherence (the state
carried between chunks). Every LLM call is in generator.llm_calls (services/common/llm/calls.py)."""

import uuid

from services.common.db import Tx
from services.generator.quality import paragraph_digests

SERVICE = "generator"
# Joined into a one-row query: the job's latest coherence state, or NULLs before the first version.
_LATEST_STATE = (" FROM (SELECT 1) one LEFT JOIN LATERAL (SELECT version, summary, ledger, style"
                 " FROM generator.coherence WHERE job_id = $1 ORDER BY version DESC LIMIT 1) c ON true")


_STOPPED = ("(EXISTS (SELECT 1 FROM generator.stops WHERE job_id = $1 AND epoch >= {epoch})"
            " OR EXISTS (SELECT 1 FROM generator.deleted_jobs WHERE job_id = $1)) AS stopped,")


async def chunk_context(tx: Tx, job_id: uuid.UUID, chunk_index: int, previous: int | None, epoch: int):
    """In one statement: the chunk's words if it was written before, how many write attempts it
    has had, whether the write must stop (as `stopped`), the previous chunk's tail, and the latest
    coherence state (summary, ledger, style)."""
    return await tx.fetchrow(
        "SELECT (SELECT words FROM generator.chunks WHERE job_id = $1 AND chunk_index = $2) AS done_words,"
        + _STOPPED.format(epoch="$4") +
        " (SELECT coalesce(max(attempt), 0) FROM generator.llm_calls WHERE job_id = $1 AND chunk_index = $2"
        "  AND purpose = 'write') AS attempts,"
        " coalesce((SELECT right(text, 4000) FROM generator.chunks WHERE job_id = $1 AND chunk_index = $3), '')"
        "  AS tail, c.version, c.summary, c.ledger, c.style"
        + _LATEST_STATE,
        job_id, chunk_index, previous, epoch,
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


async def accept_chunk(tx: Tx, job_id: uuid.UUID, chunk_index: int, text: str, words: int, budget: int,
                       previous: int | None, last: bool, inline: tuple[str, str] | None = None,
                       tail_missing: str = "") -> None:
    """`inline`: the summary and ledger lines written with the chunk (services/generator/memory_tail.py)."""
    summary, ledger = inline or (None, None)
    await tx.execute(
        "INSERT INTO generator.chunks (job_id, chunk_index, text, words, budget_words, previous_chunk_index,"
        " last_of_plan, paragraph_digests, inline_summary, inline_ledger, tail_missing)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT (job_id, chunk_index) DO NOTHING",
        job_id, chunk_index, text, words, budget, previous, last, paragraph_digests(text), summary, ledger,
        tail_missing or None,
    )


async def stored_paragraphs(tx: Tx, job_id: uuid.UUID, digests: list[bytes]) -> set[bytes]:
    """Which of these paragraphs another chunk of the job already holds."""
    rows = await tx.fetch(
        "SELECT DISTINCT d FROM generator.chunks c, unnest(c.paragraph_digests) d"
        " WHERE c.job_id = $1 AND c.paragraph_digests && $2::bytea[] AND d = ANY($2::bytea[])", job_id, digests)
    return {bytes(r["d"]) for r in rows}


async def lock_memory(tx: Tx, job_id: uuid.UUID) -> None:
    """Orders memory versions, and the "is the chunk before folded in?" checks against them,
    when sections finish at the same time: whichever of a chunk's store and its predecessor's
    summary commits second sees the other and starts the chunk's summary."""
    await tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", str(job_id))


async def memory_includes(tx: Tx, job_id: uuid.UUID, chunk_index: int | None) -> bool:
    """Whether the chunk has been folded into the memory (true when there is no chunk)."""
    return await tx.fetchval(
        "SELECT $2::int IS NULL OR EXISTS (SELECT 1 FROM generator.coherence WHERE job_id = $1"
        " AND caused_by_chunk = $2)", job_id, chunk_index)


async def summary_context(tx: Tx, job_id: uuid.UUID, chunk_index: int, epoch: int):
    """In one statement: whether the chunk is folded in already, whether its job was stopped, its
    text and memory tail, and the latest state."""
    return await tx.fetchrow(
        "SELECT EXISTS (SELECT 1 FROM generator.coherence WHERE job_id = $1 AND caused_by_chunk = $2) AS mine,"
        + _STOPPED.format(epoch="$3") +
        " n.text, n.inline_summary, n.inline_ledger, n.tail_missing, c.version, c.summary, c.ledger, c.style"
        + _LATEST_STATE + " LEFT JOIN generator.chunks n ON n.job_id = $1 AND n.chunk_index = $2",
        job_id, chunk_index, epoch,
    )


async def add_coherence(tx: Tx, job_id: uuid.UUID, chunk_index: int, summary: str, ledger: str, style: str,
                        made_by: str) -> int | None:
    """A new version (its number), or None when the chunk was folded in before."""
    await lock_memory(tx, job_id)
    return await tx.fetchval(
        "INSERT INTO generator.coherence (job_id, version, caused_by_chunk, summary, ledger, style, made_by)"
        " SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5, $6 FROM generator.coherence WHERE job_id = $1"
        " AND NOT EXISTS (SELECT 1 FROM generator.coherence WHERE job_id = $1 AND caused_by_chunk = $2)"
        " RETURNING version",
        job_id, chunk_index, summary, ledger, style, made_by,
    )


async def waiting_on(tx: Tx, job_id: uuid.UUID, chunk_index: int):
    """Stored chunks whose summary waited for this chunk's, and not folded in yet."""
    return await tx.fetch(
        "SELECT n.chunk_index, n.last_of_plan FROM generator.chunks n WHERE n.job_id = $1"
        " AND n.previous_chunk_index = $2 AND NOT EXISTS (SELECT 1 FROM generator.coherence c WHERE c.job_id = $1"
        " AND c.caused_by_chunk = n.chunk_index) ORDER BY 1", job_id, chunk_index)


async def full_text(tx: Tx, job_id: uuid.UUID, chunk_index: int) -> str:
    return await tx.fetchval(
        "SELECT text FROM generator.chunks WHERE job_id = $1 AND chunk_index = $2", job_id, chunk_index
    ) or ""
