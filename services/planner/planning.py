"""Making a job's plan: the LLM's outline for `generate` (in code for tiny targets or when the
LLM's outlines keep failing), the source's passages for `rewrite`."""

import math
import uuid
from dataclasses import dataclass, replace

from contracts.budgets import passage_words
from contracts.messages import JobRequested
from contracts.wordcount import count_words
from services.common.db import Database, Tx
from services.common.llm import LlmProvider, Prompt
from services.common.llm.ask import ask
from services.common.llm.calls import LlmCallLog
from services.planner import store
from services.planner.config import PlannerSettings
from services.planner.outline import Outline, OutlineError, parse_outline, prompt_fields, schema
from services.planner.plan import PlannedChunk, Section, chunks_of, fallback_sections, with_handoffs
from services.planner.prompts import template
from services.planner.source import SourceHeading, SourceSections, TargetShares, passages, source_slices


@dataclass(frozen=True)
class Planned:
    outline: Outline | None  # None for a rewrite: its plan is the source's passages
    source: str  # "single", "llm" or "code"
    fallback: str = ""  # what an outline made in code replaced


async def outline_for(req: JobRequested, job_id: uuid.UUID, user_id: uuid.UUID, db: Database,
                      llm: LlmProvider, s: PlannerSettings) -> Planned:
    """The LLM's outline, or one made in code: for tiny targets, or when no reply was usable."""
    section_words = s.chunk_words * s.chunks_per_section
    if req.target_words <= s.single_chunk_words:
        whole = Section(req.title, "The whole text.", req.target_words, titles=(req.title,), title_source="none")
        return Planned(Outline([whole], ""), "single")
    fields = prompt_fields(req.target_words, section_words, s.min_section_words)
    prompt = Prompt(
        system=template("outline_system").strip(), model=s.model_for("planner", req.model),
        user=template("outline").format(title=req.title, instructions=req.instructions,
                                        target_words=req.target_words, **fields),
        max_tokens=min(16_000, 400 + fields["sections"] * 120), headers={"x-longform-chunk": f"{job_id}:outline"},
        schema=schema(fields["depth"]), schema_name="outline",
    )
    log = LlmCallLog(db, provider=llm.name, job_id=job_id, user_id=user_id, purpose="outline")
    parsed: list[Outline] = []
    problems: list[str] = []

    def judge(completion) -> str | None:
        try:
            parsed.append(parse_outline(completion.text, req.target_words, s.min_section_words))
        except OutlineError as problem:
            problems.append(f"unusable outline: {problem}")
            return problems[-1]
        return None

    if await ask(llm, prompt, log, attempts=s.outline_attempts, judge=judge):
        return Planned(parsed[-1], "llm")
    return Planned(Outline(fallback_sections(req.target_words, section_words), ""), "code",
                   f"no usable outline in {s.outline_attempts} attempts ({problems[-1] if problems else 'provider errors'}):"
                   " the outline was made in code")


async def store_outline(tx: Tx, job_id: uuid.UUID, outline: Outline, chunk_words: int) -> None:
    sections = with_handoffs(outline.sections)
    await store.insert_sections(tx, job_id, sections)
    await store.insert_chunks(tx, job_id, chunks_of(sections, chunk_words))


async def store_passages(tx: Tx, job_id: uuid.UUID, req: JobRequested, s: PlannerSettings) -> None:
    """The source, streamed from the database, cut into passages with proportional targets, in
    sections that follow its headings; one passage is held back so the last can take whatever
    rounding left over."""
    size = passage_words(req.source_words or 1, req.target_words, s.chunk_words)
    shares = TargetShares(req.source_words or 1, req.target_words)
    sections = SourceSections(s.chunks_per_section)
    batch: list[PlannedChunk] = []
    held: PlannedChunk | None = None
    async for item in passages(source_slices(tx, job_id, s.source_slice_chars), size, headings=True):
        if isinstance(item, SourceHeading):
            sections.heading(item)
            continue
        if held:
            batch.append(held)
        index = held.chunk_index + 1 if held else 0
        held = PlannedChunk(index, sections.place(), shares.next(count_words(item)), item)
        if len(batch) >= 100:
            await _store_passage_batch(tx, job_id, batch, sections)
            batch = []
    if held is None:
        raise ValueError("the source holds no text")
    missing = max(req.target_words - shares.given, 0)
    batch.append(PlannedChunk(held.chunk_index, held.section_index, held.budget_words + missing, held.source_text))
    await _store_passage_batch(tx, job_id, batch, sections)
    await tx.execute(
        "UPDATE planner.sections s SET budget_words = c.words FROM (SELECT section_index, sum(budget_words) AS words"
        " FROM planner.chunks WHERE job_id = $1 GROUP BY section_index) c"
        " WHERE s.job_id = $1 AND s.section_index = c.section_index",
        job_id,
    )


async def _store_passage_batch(tx: Tx, job_id: uuid.UUID, batch: list[PlannedChunk], sections: SourceSections) -> None:
    """The sections these passages opened (the last may be opened by a passage still held back:
    it is stored now, before its chunks), then the passages."""
    opened = sections.take_opened()
    if opened:
        await store.insert_sections(tx, job_id, [
            Section(" › ".join(titles) or f"Passages of the source from section {index + 1}",
                    "Rework these passages of the source, in order.", 0, titles=titles, title_source=source)
            for index, titles, source in opened], first_index=opened[0][0])
    await store.insert_chunks(tx, job_id, batch)


def extension_sections(missing: int, round_: int, s: PlannerSettings, *, titled: bool) -> list[Section]:
    """Sections that continue a short document; titled by their text where the document has
    headings (an outline's), untitled where it has none (a rewrite, a tiny target)."""
    wanted = math.ceil(missing * (1 + s.extension_margin))
    sections = fallback_sections(wanted, s.chunk_words * s.chunks_per_section, label=f"extension {round_}")
    return sections if titled else [replace(section, title_source="none") for section in sections]
