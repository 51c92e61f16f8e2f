"""The planner's tables: planner.plans and planner.chunks."""

import uuid

from contracts.messages import JobRequested
from services.common.db import Tx
from services.planner.plan import PlannedChunk


async def insert_plan(tx: Tx, job_id: uuid.UUID, user_id: uuid.UUID, req: JobRequested, planned: int,
                      width: int) -> bool:
    created = await tx.fetchval(
        "INSERT INTO planner.plans (job_id, user_id, mode, title, instructions, target_words, planned_words,"
        " width, model) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (job_id) DO NOTHING RETURNING true",
        job_id, user_id, req.mode, req.title, req.instructions, req.target_words, planned, width, req.model,
    )
    return bool(created)


async def insert_chunks(tx: Tx, job_id: uuid.UUID, chunks: list[PlannedChunk]) -> None:
    await tx.executemany(
        "INSERT INTO planner.chunks (job_id, chunk_index, section_index, section_title, brief, target_words)"
        " VALUES ($1,$2,$3,$4,$5,$6)",
        [(job_id, c.chunk_index, c.section_index, c.section_title, c.brief, c.target_words) for c in chunks],
    )


async def lock_plan(tx: Tx, job_id: uuid.UUID):
    """Serialises every decision about one job, across planner replicas."""
    return await tx.fetchrow("SELECT * FROM planner.plans WHERE job_id = $1 FOR UPDATE", job_id)


async def chunks(tx: Tx, job_id: uuid.UUID):
    return await tx.fetch("SELECT * FROM planner.chunks WHERE job_id = $1 ORDER BY chunk_index", job_id)


async def finish_chunk(tx: Tx, job_id: uuid.UUID, chunk_index: int, status: str, words: int) -> None:
    await tx.execute(
        "UPDATE planner.chunks SET status = $3, words = $4, done_at = now()"
        " WHERE job_id = $1 AND chunk_index = $2",
        job_id, chunk_index, status, words,
    )


async def mark_dispatched(tx: Tx, job_id: uuid.UUID, indexes: list[int]) -> None:
    await tx.execute(
        "UPDATE planner.chunks SET status = 'dispatched', dispatched_at = now()"
        " WHERE job_id = $1 AND chunk_index = ANY($2::int[])",
        job_id, indexes,
    )


async def set_state(tx: Tx, job_id: uuid.UUID, state: str, extension_round: int | None = None) -> None:
    await tx.execute(
        "UPDATE planner.plans SET state = $2, extension_round = coalesce($3, extension_round) WHERE job_id = $1",
        job_id, state, extension_round,
    )
