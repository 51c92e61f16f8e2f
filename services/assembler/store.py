"""The assembler's table, assembler.documents. The body is built by Postgres from the generator's
accepted chunks (string_agg over generator.chunks_v1, the view the generator publishes), never
concatenated in this process."""

import uuid
from typing import AsyncIterator

from services.common.db import Tx, text_slices


async def assemble(tx: Tx, job_id: uuid.UUID, round_: int) -> int:
    """Builds (or rebuilds) the document; returns how many chunks it holds."""
    return await tx.fetchval(
        "INSERT INTO assembler.documents (job_id, body, words, chunks, round)"
        " SELECT $1, string_agg(text, E'\\n\\n' ORDER BY chunk_index), sum(words), count(*), $2"
        " FROM generator.chunks_v1 WHERE job_id = $1 HAVING count(*) > 0"
        " ON CONFLICT (job_id) DO UPDATE SET body = excluded.body, words = excluded.words,"
        " chunks = excluded.chunks, round = excluded.round, assembled_at = now()"
        " RETURNING chunks",
        job_id, round_,
    ) or 0


def slices(tx: Tx, job_id: uuid.UUID, size: int) -> AsyncIterator[str]:
    return text_slices(tx.fetchval, "SELECT substr(body, $2, $3) FROM assembler.documents WHERE job_id = $1",
                       job_id, size)


async def record_count(tx: Tx, job_id: uuid.UUID, words: int) -> None:
    await tx.execute("UPDATE assembler.documents SET words = $2 WHERE job_id = $1", job_id, words)
