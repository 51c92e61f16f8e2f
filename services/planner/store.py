"""The planner's tables: planner.plans, planner.sections and planner.chunks."""

import uuid

from contracts.jobstate import ENDED, PLAN_FIRST, PLAN_FOR_REVIEW, IllegalMove, JobStatus, plan_sources
from contracts.messages import JobRequested
from services.common import jobqueue as queue
from services.common.db import Tx
from services.planner.dispatch import SectionProgress
from services.planner.plan import PlannedChunk, Section


async def plan_exists(tx: Tx, job_id: uuid.UUID) -> bool:
    return bool(await tx.fetchval("SELECT 1 FROM planner.plans WHERE job_id = $1", job_id))


async def insert_plan(tx: Tx, job_id: uuid.UUID, user_id: uuid.UUID, req: JobRequested, *, width: int,
                      style: str, outline_source: str, state: JobStatus | None = None) -> bool:
    """The plan, made in `state`: by default writing, or awaiting review when the job asked to review it."""
    created = await tx.fetchval(
        "INSERT INTO planner.plans (job_id, user_id, mode, title, instructions, target_words, planned_words,"
        " width, model, style, outline_source, state, headings) VALUES ($1,$2,$3,$4,$5,$6,0,$7,$8,$9,$10,$11,$12)"
        " ON CONFLICT (job_id) DO NOTHING RETURNING true",
        job_id, user_id, req.mode, req.title, req.instructions, req.target_words, width, req.model, style,
        outline_source, state or (PLAN_FOR_REVIEW if req.review_plan else PLAN_FIRST), req.headings,
    )
    return bool(created)


async def insert_sections(tx: Tx, job_id: uuid.UUID, sections: list[Section], first_index: int = 0) -> None:
    await tx.executemany(
        "INSERT INTO planner.sections (job_id, section_index, path, brief, budget_words, handoff_in, handoff_out,"
        " titles, title_source) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
        [(job_id, first_index + i, s.path, s.brief, s.budget_words, s.handoff_in, s.handoff_out, list(s.titles),
          s.title_source) for i, s in enumerate(sections)],
    )


async def insert_chunks(tx: Tx, job_id: uuid.UUID, chunks: list[PlannedChunk]) -> None:
    await tx.executemany(
        "INSERT INTO planner.chunks (job_id, chunk_index, section_index, budget_words, source_text)"
        " VALUES ($1,$2,$3,$4,$5)",
        [(job_id, c.chunk_index, c.section_index, c.budget_words, c.source_text) for c in chunks],
    )


async def count_planned(tx: Tx, job_id: uuid.UUID) -> tuple[int, int, int]:
    """Sections, chunks and planned words; records the planned words on the plan."""
    row = await tx.fetchrow(
        "UPDATE planner.plans p SET planned_words = c.words FROM"
        " (SELECT count(*) AS chunks, count(DISTINCT section_index) AS sections, sum(budget_words) AS words"
        "  FROM planner.chunks WHERE job_id = $1) c WHERE p.job_id = $1 RETURNING c.sections, c.chunks, c.words",
        job_id,
    )
    return row["sections"], row["chunks"], row["words"]


async def lock_plan(tx: Tx, job_id: uuid.UUID):
    """Serialises every decision about one job, across planner replicas."""
    return await tx.fetchrow("SELECT * FROM planner.plans WHERE job_id = $1 FOR UPDATE", job_id)


async def claimed_plan(tx: Tx, envelope):
    """The job's plan, locked, for a message not handled before; None for a redelivery (nothing
    to do again) or a job that has no plan."""
    if not await tx.claim(envelope.event_id):
        return None
    return await lock_plan(tx, envelope.job_id)


async def section_progress(tx: Tx, job_id: uuid.UUID) -> list[SectionProgress]:
    rows = await tx.fetch(
        "SELECT section_index, bool_or(status IN ('done', 'dispatched')) AS started,"
        " bool_and(status = 'done') AS finished,"
        " min(chunk_index) FILTER (WHERE status <> 'done') AS upcoming"
        " FROM planner.chunks WHERE job_id = $1 GROUP BY section_index ORDER BY section_index",
        job_id,
    )
    pending = {r["chunk_index"] for r in await tx.fetch(
        "SELECT chunk_index FROM planner.chunks WHERE job_id = $1 AND chunk_index = ANY($2::int[])"
        " AND status = 'pending'", job_id, [r["upcoming"] for r in rows if r["upcoming"] is not None],
    )}
    return [SectionProgress(r["section_index"], r["started"], r["finished"], r["upcoming"],
                            r["upcoming"] in pending) for r in rows]


async def chunks_to_write(tx: Tx, job_id: uuid.UUID, indexes: list[int]):
    """The chosen chunks with their sections, and whether the chunk before each is written."""
    return await tx.fetch(
        "SELECT c.chunk_index, c.section_index, c.budget_words, c.source_text, s.path, s.brief, s.handoff_in,"
        " s.handoff_out, s.passage_first, s.passage_last,"
        " (SELECT count(*) FROM planner.chunks x WHERE x.job_id = c.job_id AND x.section_index = c.section_index"
        "  AND x.chunk_index < c.chunk_index) AS position_in_section,"
        " (SELECT count(*) FROM planner.chunks x WHERE x.job_id = c.job_id AND x.section_index = c.section_index)"
        "  AS section_chunks, (SELECT p.status = 'done' FROM planner.chunks p WHERE p.job_id = c.job_id"
        "  AND p.chunk_index = c.chunk_index - 1) AS previous_done"
        " FROM planner.chunks c JOIN planner.sections s USING (job_id, section_index)"
        " WHERE c.job_id = $1 AND c.chunk_index = ANY($2::int[]) ORDER BY c.chunk_index",
        job_id, indexes,
    )


async def last_chunk(tx: Tx, job_id: uuid.UUID):
    return await tx.fetchrow(
        "SELECT c.chunk_index, c.section_index, s.path, s.brief FROM planner.chunks c"
        " JOIN planner.sections s USING (job_id, section_index)"
        " WHERE c.job_id = $1 ORDER BY c.chunk_index DESC LIMIT 1",
        job_id,
    )


async def written(tx: Tx, job_id: uuid.UUID) -> tuple[int, int]:
    """Words written so far and chunks planned."""
    row = await _progress(tx, job_id)
    return row["words"], row["chunks"]


async def _progress(tx: Tx, job_id: uuid.UUID):
    return await tx.fetchrow(
        "SELECT coalesce(sum(words) FILTER (WHERE status = 'done'), 0) AS words, count(*) AS chunks,"
        " count(*) FILTER (WHERE status = 'done') AS done FROM planner.chunks WHERE job_id = $1", job_id,
    )


async def cancel(tx: Tx, job_id: uuid.UUID) -> tuple[int, int, int]:
    """The plan stops in its epoch (returned) and the next one begins for a resume; with the
    chunks done and words written."""
    epoch = await tx.fetchval(
        "UPDATE planner.plans SET state = 'cancelled', epoch = epoch + 1 WHERE job_id = $1 AND state = ANY($2)"
        " RETURNING epoch - 1", job_id, plan_sources(JobStatus.CANCELLED))
    if epoch is None:
        raise IllegalMove(f"the plan of job {job_id} cannot be cancelled from its status")
    await queue.job_ended(tx, job_id, "planner")
    row = await _progress(tx, job_id)
    return epoch, row["done"], row["words"]


async def one_at_a_time(tx: Tx, job_id: uuid.UUID) -> None:
    """Making a job's plan and cancelling it wait for each other until commit. Otherwise a cancel
    running while the plan is inserted finds no plan (not committed yet) and notes a stop that the
    plan's transaction, which looked for one before the stop was committed, never sees."""
    await tx.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 2066))", str(job_id))


async def note_stop(tx: Tx, job_id: uuid.UUID) -> None:
    """A cancel that came before the plan: the plan, once made, starts cancelled."""
    await tx.execute("INSERT INTO planner.stops (job_id) VALUES ($1) ON CONFLICT DO NOTHING", job_id)


async def take_stop(tx: Tx, job_id: uuid.UUID) -> bool:
    return await tx.fetchval("DELETE FROM planner.stops WHERE job_id = $1 RETURNING true", job_id) or False


async def section_path(tx: Tx, job_id: uuid.UUID, chunk_index: int) -> str:
    return await tx.fetchval(
        "SELECT s.path FROM planner.chunks c JOIN planner.sections s USING (job_id, section_index)"
        " WHERE c.job_id = $1 AND c.chunk_index = $2", job_id, chunk_index,
    )


async def finish_chunk(tx: Tx, job_id: uuid.UUID, chunk_index: int, status: str, words: int) -> None:
    await tx.execute(
        "UPDATE planner.chunks SET status = $3, words = $4, done_at = now() WHERE job_id = $1 AND chunk_index = $2",
        job_id, chunk_index, status, words,
    )


async def mark_summarized(tx: Tx, job_id: uuid.UUID, chunk_index: int) -> None:
    await tx.execute("UPDATE planner.chunks SET summarized = true WHERE job_id = $1 AND chunk_index = $2",
                     job_id, chunk_index)


async def all_written_and_folded(tx: Tx, job_id: uuid.UUID) -> bool:
    """Every chunk written and folded into the memory: nothing of the job is left before the assembly."""
    return await tx.fetchval(
        "SELECT bool_and(status = 'done' AND summarized) FROM planner.chunks WHERE job_id = $1", job_id) or False


async def stop_waiting_for_memory(tx: Tx, job_id: uuid.UUID) -> None:
    """A resumed job does not wait for the summaries of chunks written before it stopped: a summary
    given up with its job (its message failed every delivery) would otherwise hold the assembly
    for ever. At worst a late one is logged after the job completes."""
    await tx.execute("UPDATE planner.chunks SET summarized = true WHERE job_id = $1 AND status = 'done'"
                     " AND NOT summarized", job_id)


async def mark_dispatched(tx: Tx, job_id: uuid.UUID, indexes: list[int]) -> None:
    await tx.execute(
        "UPDATE planner.chunks SET status = 'dispatched', dispatched_at = now()"
        " WHERE job_id = $1 AND chunk_index = ANY($2::int[])",
        job_id, indexes,
    )


async def reset_failed(tx: Tx, job_id: uuid.UUID) -> int:
    """Failed (and, after a cancel, in-flight) chunks become pending again; returns how many."""
    return _rows(await tx.execute(
        "UPDATE planner.chunks SET status = 'pending', dispatched_at = NULL"
        " WHERE job_id = $1 AND status IN ('failed', 'dispatched')", job_id))


async def writing_jobs(tx: Tx) -> list[tuple[uuid.UUID, uuid.UUID]]:
    rows = await tx.fetch("SELECT job_id, user_id FROM planner.plans WHERE state = 'writing' ORDER BY created_at")
    return [(r["job_id"], r["user_id"]) for r in rows]


async def catch_up_stored(tx: Tx, job_id: uuid.UUID) -> int:
    """Dispatched chunks the generator has stored are done, with their words; returns how many."""
    return _rows(await tx.execute(
        "UPDATE planner.chunks c SET status = 'done', words = g.words, done_at = now() FROM generator.chunks_v1 g"
        " WHERE c.job_id = $1 AND g.job_id = c.job_id AND g.chunk_index = c.chunk_index AND c.status = 'dispatched'",
        job_id))


async def catch_up_folded(tx: Tx, job_id: uuid.UUID) -> int:
    """Chunks the generator has folded into the memory are summarized; returns how many."""
    return _rows(await tx.execute(
        "UPDATE planner.chunks c SET summarized = true FROM generator.memory_v1 m"
        " WHERE c.job_id = $1 AND m.job_id = c.job_id AND m.chunk_index = c.chunk_index AND NOT c.summarized",
        job_id))


def _rows(status: str) -> int:
    """How many rows an UPDATE changed, from its status ("UPDATE 3")."""
    return int(status.split()[-1])


async def in_flight(tx: Tx, job_id: uuid.UUID) -> bool:
    return bool(await tx.fetchval(
        "SELECT 1 FROM planner.chunks WHERE job_id = $1 AND status = 'dispatched' LIMIT 1", job_id))


async def done_count(tx: Tx, job_id: uuid.UUID) -> int:
    return (await _progress(tx, job_id))["done"]


async def move(tx: Tx, job_id: uuid.UUID, to: JobStatus, extension_round: int | None = None) -> None:
    """The plan's next status, only along a move contracts/jobstate.py allows (migration 0022's
    trigger refuses any other too); a move it does not allow is a bug and raises."""
    done = await tx.execute(
        "UPDATE planner.plans SET state = $2, extension_round = coalesce($3, extension_round)"
        " WHERE job_id = $1 AND state = ANY($4)",
        job_id, to, extension_round, plan_sources(to),
    )
    if done != "UPDATE 1":
        raise IllegalMove(f"the plan of job {job_id} cannot move to {to} from its status")
    if to in ENDED:
        await queue.job_ended(tx, job_id, "planner")
