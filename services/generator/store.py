"""The generator's tables: generator.chunks (accepted text) and generator.coherence (the state
carried between chunks). Every LLM call is in generator.llm_calls (services/common/llm/calls.py)."""

import uuid

from services.common.db import Tx

SERVICE = "generator"


async def accepted_chunk(tx: Tx, job_id: uuid.UUID, chunk_index: int):
    return await tx.fetchrow(
        "SELECT words, target_words FROM generator.chunks WHERE job_id = $1 AND chunk_index = $2",
        job_id, chunk_index,
    )


async def chunk_text(tx: Tx, job_id: uuid.UUID, chunk_index: int | None) -> str:
    if chunk_index is None:
        return ""
    text = await tx.fetchval(
        "SELECT right(text, 4000) FROM generator.chunks WHERE job_id = $1 AND chunk_index = $2",
        job_id, chunk_index,
    )
    return text or ""


async def attempts_made(tx: Tx, job_id: uuid.UUID, chunk_index: int) -> int:
    return await tx.fetchval(
        "SELECT coalesce(max(attempt), 0) FROM generator.llm_calls WHERE job_id = $1 AND chunk_index = $2"
        " AND purpose = 'write'",
        job_id, chunk_index,
    )


async def accept_chunk(tx: Tx, job_id: uuid.UUID, chunk_index: int, text: str, words: int, target: int) -> None:
    await tx.execute(
        "INSERT INTO generator.chunks (job_id, chunk_index, text, words, target_words) VALUES ($1,$2,$3,$4,$5)"
        " ON CONFLICT (job_id, chunk_index) DO NOTHING",
        job_id, chunk_index, text, words, target,
    )


async def coherence(tx: Tx, job_id: uuid.UUID):
    """The latest version of the job's coherence state, or None before the first chunk."""
    return await tx.fetchrow(
        "SELECT version, summary, ledger, style FROM generator.coherence WHERE job_id = $1"
        " ORDER BY version DESC LIMIT 1",
        job_id,
    )


async def has_coherence_for(tx: Tx, job_id: uuid.UUID, chunk_index: int) -> bool:
    return bool(await tx.fetchval(
        "SELECT 1 FROM generator.coherence WHERE job_id = $1 AND caused_by_chunk = $2", job_id, chunk_index
    ))


async def add_coherence(tx: Tx, job_id: uuid.UUID, chunk_index: int, summary: str, ledger: str, style: str) -> None:
    """A new version; the advisory lock orders versions when sections finish at the same time."""
    await tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", str(job_id))
    await tx.execute(
        "INSERT INTO generator.coherence (job_id, version, caused_by_chunk, summary, ledger, style)"
        " SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5 FROM generator.coherence WHERE job_id = $1",
        job_id, chunk_index, summary, ledger, style,
    )


async def full_text(tx: Tx, job_id: uuid.UUID, chunk_index: int) -> str:
    return await tx.fetchval(
        "SELECT text FROM generator.chunks WHERE job_id = $1 AND chunk_index = $2", job_id, chunk_index
    ) or ""
