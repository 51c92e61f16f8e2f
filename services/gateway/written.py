"""What the gateway reads of a document, as one stream of text pieces and headings
(services/gateway/documents.py renders it): the finished document (assembler.documents_v1: the
body in slices, the headings the assembler placed in it) or what is written so far
(generator.chunks_v1 in plan order, titled by planner.sections_v1 with the same rule,
contracts/headings.py). Neither is ever held whole."""

import json
import uuid
from dataclasses import dataclass
from typing import AsyncIterator

from contracts.headings import OPENING_CHARS, Heading, SectionShape, headings
from services.common.db import Reads
from services.gateway.documents import Piece

_CHUNKS_PER_READ = 16


@dataclass(frozen=True)
class Document:
    headings: list[Heading]
    at: list[int]  # where each heading stands: the 1-based character of the body
    words: int  # body words
    heading_words: int


async def finished(reads: Reads, job_id: uuid.UUID) -> Document | None:
    rows = await reads.fetch(
        "SELECT headings, heading_words, words FROM assembler.documents_v1 WHERE job_id = $1", job_id)
    if not rows:
        return None
    row = rows[0]
    placed = json.loads(row["headings"]) if isinstance(row["headings"], str) else row["headings"]
    return Document([Heading(h["level"], h["number"], h["title"], h["section_index"]) for h in placed],
                    [h["at"] for h in placed], row["words"], row["heading_words"])


async def finished_pieces(reads: Reads, job_id: uuid.UUID, document: Document, size: int) -> AsyncIterator[Piece]:
    """The body in slices of `size` characters, each heading put in where it stands."""
    start = 1
    for heading, at in zip(document.headings, document.at):
        async for piece in _body(reads, job_id, start, at, size):
            yield piece
        yield heading
        start = at
    async for piece in _body(reads, job_id, start, None, size):
        yield piece


async def _body(reads: Reads, job_id: uuid.UUID, start: int, end: int | None, size: int) -> AsyncIterator[str]:
    while end is None or start < end:
        length = size if end is None else min(size, end - start)
        piece = await reads.fetchval("SELECT substr(body, $2, $3) FROM assembler.documents_v1 WHERE job_id = $1",
                                     job_id, start, length)
        if not piece:
            return
        yield piece
        start += length


async def written_headings(reads: Reads, job_id: uuid.UUID, titled: bool) -> tuple[list[Heading], dict[int, int]]:
    """The headings of the whole plan (so numbers are the final document's), and each section's
    first chunk; a section not begun keeps its provisional title."""
    rows = await reads.fetch(
        "SELECT s.section_index, s.titles, s.title_source, s.first_chunk, left(c.text, $2) AS opening"
        " FROM planner.sections_v1 s LEFT JOIN generator.chunks_v1 c"
        "  ON c.job_id = s.job_id AND c.chunk_index = s.first_chunk"
        " WHERE s.job_id = $1 ORDER BY s.section_index", job_id, OPENING_CHARS)
    first_chunks = {r["first_chunk"]: r["section_index"] for r in rows if r["first_chunk"] is not None}
    if not titled:
        return [], first_chunks
    shapes = [SectionShape(r["section_index"], tuple(r["titles"]), r["title_source"], r["opening"] or "")
              for r in rows]
    return headings(shapes), first_chunks


async def written_pieces(reads: Reads, job_id: uuid.UUID, found: list[Heading],
                         first_chunks: dict[int, int]) -> AsyncIterator[Piece]:
    """The chunks written so far in plan order, a few at a time, each section's headings (of
    `written_headings`) before its first chunk."""
    by_section: dict[int, list[Heading]] = {}
    for heading in found:
        by_section.setdefault(heading.section_index, []).append(heading)
    after = -1
    while rows := await reads.fetch(
            "SELECT chunk_index, text FROM generator.chunks_v1 WHERE job_id = $1 AND chunk_index > $2"
            " ORDER BY chunk_index LIMIT $3", job_id, after, _CHUNKS_PER_READ):
        for row in rows:
            for heading in by_section.get(first_chunks.get(row["chunk_index"], -1), []):
                yield heading
            yield row["text"] + "\n\n"
        after = rows[-1]["chunk_index"]


async def plan_headings_wanted(reads: Reads, job_id: uuid.UUID) -> bool:
    return bool(await reads.fetchval("SELECT headings FROM planner.plans_v1 WHERE job_id = $1", job_id))
