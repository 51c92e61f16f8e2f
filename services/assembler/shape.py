"""The document's headings (contracts/headings.py), placed in its body: each stands before its
section's first chunk, at the character where that chunk starts in the body string_agg built."""

import json
import uuid

from contracts.headings import OPENING_CHARS, Heading, SectionShape, headings
from services.common.db import Tx


async def place_headings(tx: Tx, job_id: uuid.UUID) -> list[dict]:
    """The headings with `at`, the 1-based character of the body each stands before."""
    rows = await tx.fetch(
        "WITH placed AS (SELECT chunk_index, 1 + coalesce(sum(length(text) + 2) OVER (ORDER BY chunk_index"
        "   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS at, left(text, $2) AS opening"
        "  FROM generator.chunks_v1 WHERE job_id = $1)"
        " SELECT s.section_index, s.titles, s.title_source, p.at, p.opening FROM planner.sections_v1 s"
        " JOIN placed p ON p.chunk_index = s.first_chunk WHERE s.job_id = $1 ORDER BY s.section_index",
        job_id, OPENING_CHARS,
    )
    at = {r["section_index"]: r["at"] for r in rows}
    shapes = [SectionShape(r["section_index"], tuple(r["titles"]), r["title_source"], r["opening"]) for r in rows]
    return [_placed(h, at[h.section_index]) for h in headings(shapes)]


def _placed(heading: Heading, at: int) -> dict:
    return {"at": at, **heading.as_dict()}


async def record_headings(tx: Tx, job_id: uuid.UUID, placed: list[dict], words: int) -> None:
    await tx.execute("UPDATE assembler.documents SET headings = $2::jsonb, heading_words = $3 WHERE job_id = $1",
                     job_id, json.dumps(placed), words)
