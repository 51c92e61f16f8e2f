"""The planner's tables for an analysis: planner.passages (the source cut into numbered passages,
each sent for noting and marked noted) and the report's sections with the passages they cover.
The notes themselves are the generator's, read through generator.passage_notes_v1."""

import uuid

from contracts.wordcount import count_words
from services.common.db import Tx
from services.planner.report import Digest, ReportSection
from services.planner.source import passages, source_slices

_BATCH = 100  # passages inserted per statement while the source streams in


async def store_passages(tx: Tx, job_id: uuid.UUID, passage_words: int, slice_chars: int) -> tuple[int, int]:
    """The source, streamed from gateway.sources_v1 slice by slice, cut at paragraph (then
    sentence) ends into passages of at most `passage_words`; returns (passages, words)."""
    batch: list[tuple] = []
    number = words = 0
    async for text in passages(source_slices(tx, job_id, slice_chars), passage_words):
        number += 1
        size = count_words(text)
        words += size
        batch.append((job_id, number, text, size))
        if len(batch) >= _BATCH:
            await _insert(tx, batch)
            batch = []
    if batch:
        await _insert(tx, batch)
    await tx.execute("UPDATE planner.plans SET passages = $2 WHERE job_id = $1", job_id, number)
    return number, words


async def _insert(tx: Tx, batch: list[tuple]) -> None:
    await tx.executemany("INSERT INTO planner.passages (job_id, passage, text, words) VALUES ($1,$2,$3,$4)", batch)


async def to_note(tx: Tx, job_id: uuid.UUID, width: int):
    """The next pending passages, so that at most `width` are being noted at once; marked dispatched."""
    return await tx.fetch(
        "UPDATE planner.passages p SET status = 'dispatched', dispatched_at = now() FROM ("
        " SELECT passage FROM planner.passages WHERE job_id = $1 AND status = 'pending' ORDER BY passage"
        " LIMIT greatest(0, $2 - (SELECT count(*) FROM planner.passages WHERE job_id = $1 AND status = 'dispatched'))"
        ") chosen WHERE p.job_id = $1 AND p.passage = chosen.passage RETURNING p.passage, p.text",
        job_id, width,
    )


async def unfinished(tx: Tx, job_id: uuid.UUID) -> int:
    """Passages not noted yet (pending or being noted)."""
    return await tx.fetchval(
        "SELECT count(*) FROM planner.passages WHERE job_id = $1 AND status <> 'noted'", job_id)


async def mark_noted(tx: Tx, job_id: uuid.UUID, passage: int) -> None:
    await tx.execute(
        "UPDATE planner.passages SET status = 'noted', noted_at = now()"
        " WHERE job_id = $1 AND passage = $2 AND status <> 'noted'", job_id, passage)


async def reset_unnoted(tx: Tx, job_id: uuid.UUID) -> int:
    """After a stop: passages sent for noting and never noted are pending again; returns how many."""
    status = await tx.execute(
        "UPDATE planner.passages SET status = 'pending', dispatched_at = NULL WHERE job_id = $1 AND status = 'dispatched'",
        job_id)
    return int(status.split()[-1])


async def catch_up_noted(tx: Tx, job_id: uuid.UUID) -> int:
    """Passages sent for noting whose notes the generator has stored are noted (their reports
    may still be on the way); returns how many."""
    status = await tx.execute(
        "UPDATE planner.passages p SET status = 'noted', noted_at = now() FROM generator.passage_notes_v1 n"
        " WHERE p.job_id = $1 AND n.job_id = p.job_id AND n.passage = p.passage AND p.status = 'dispatched'", job_id)
    return int(status.split()[-1])


async def in_flight(tx: Tx, job_id: uuid.UUID) -> bool:
    return bool(await tx.fetchval(
        "SELECT 1 FROM planner.passages WHERE job_id = $1 AND status = 'dispatched' LIMIT 1", job_id))


async def noting_jobs(tx: Tx) -> list[tuple[uuid.UUID, uuid.UUID]]:
    rows = await tx.fetch("SELECT job_id, user_id FROM planner.plans WHERE state = 'noting' ORDER BY created_at")
    return [(r["job_id"], r["user_id"]) for r in rows]


async def has_sections(tx: Tx, job_id: uuid.UUID) -> bool:
    return bool(await tx.fetchval("SELECT 1 FROM planner.sections WHERE job_id = $1 LIMIT 1", job_id))


async def digest(tx: Tx, job_id: uuid.UUID, shape: Digest) -> list[tuple[int, str]]:
    """The notes of every `step`-th passage, each cut to a bound in the database (8 characters a
    word is ample), so the digest is bounded however long the source."""
    rows = await tx.fetch(
        "SELECT passage, left(notes, $3) AS notes FROM generator.passage_notes_v1"
        " WHERE job_id = $1 AND (passage - 1) % $2 = 0 ORDER BY passage",
        job_id, shape.step, shape.line_words * 8)
    return [(r["passage"], r["notes"]) for r in rows]


async def insert_report_sections(tx: Tx, job_id: uuid.UUID, sections: list[ReportSection]) -> None:
    await tx.executemany(
        "INSERT INTO planner.sections (job_id, section_index, path, brief, budget_words, handoff_in, handoff_out,"
        " titles, title_source, passage_first, passage_last) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
        [(job_id, i, r.section.path, r.section.brief, r.section.budget_words, r.section.handoff_in,
          r.section.handoff_out, r.section.path.split(" › "), "plan" if r.titled_by_plan else "text", r.first, r.last)
         for i, r in enumerate(sections)],
    )


async def planned(tx: Tx, job_id: uuid.UUID, outline_source: str, style: str) -> None:
    await tx.execute("UPDATE planner.plans SET outline_source = $2, style = $3 WHERE job_id = $1",
                     job_id, outline_source, style)
