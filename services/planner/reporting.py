"""`report.plan`: every passage of an analysis is noted; the report's outline is asked of the LLM
from a bounded digest of the notes (services/planner/outline.py parses and repairs it, as for a
generated document), each section saying which passages it covers; when no reply is usable the
outline is made in code from the notes. Then the plan moves to writing and the first chunks go."""

import uuid

from contracts.envelope import Envelope
from contracts.jobstate import JobStatus
from contracts.messages import JobPlanned, PlanReport
from services.common.llm import Prompt
from services.common.llm.ask import ask
from services.common.llm.calls import LlmCallLog
from services.planner import handlers, passages, store
from services.planner.handlers import Decision, Ports
from services.planner.outline import Outline, OutlineError, parse_outline, prompt_fields, schema
from services.planner.plan import Section, chunks_of, with_handoffs
from services.planner.prompts import template
from services.planner.report import ReportSection, code_sections, digest_line, digest_shape, ranges_from


async def plan_report(envelope: Envelope, ports: Ports) -> None:
    envelope.payload(PlanReport)
    job_id, user_id, s = envelope.job_id, envelope.user_id, ports.settings
    async with ports.db.transaction(job_id=job_id, user_id=user_id) as tx:
        plan = await store.lock_plan(tx, job_id)
        if plan is None or plan["state"] != JobStatus.NOTING or await passages.has_sections(tx, job_id):
            return  # planned before (a redelivery), or stopped meanwhile
        shape = digest_shape(plan["passages"], s.digest_words, s.digest_line_words, s.digest_min_line_words)
        notes = await passages.digest(tx, job_id, shape)
    lines = [digest_line(n, text, shape.line_words) for n, text in notes]
    sections, source, fallback, style = await _outline(plan, lines, shape.step, job_id, user_id, ports)
    async with ports.db.transaction(job_id=job_id, user_id=user_id) as tx:
        plan = await store.lock_plan(tx, job_id)
        if (not await tx.claim(envelope.event_id) or plan is None or plan["state"] != JobStatus.NOTING
                or await passages.has_sections(tx, job_id)):
            return
        await _store(tx, job_id, sections, s.chunk_words)
        await passages.planned(tx, job_id, source, style)
        await store.move(tx, job_id, JobStatus.WRITING)
        count, chunks, words = await store.count_planned(tx, job_id)
        decision = Decision(tx, envelope)
        decision.emit(JobPlanned(sections=count, chunks_total=chunks, planned_words=words, outline_source=source,
                                 fallback=fallback))
        await handlers.dispatch(tx, envelope, await store.lock_plan(tx, job_id))


async def _store(tx, job_id: uuid.UUID, sections: list[ReportSection], chunk_words: int) -> None:
    linked = with_handoffs([r.section for r in sections])
    sections = [ReportSection(section, r.first, r.last, r.titled_by_plan) for section, r in zip(linked, sections)]
    await passages.insert_report_sections(tx, job_id, sections)
    await store.insert_chunks(tx, job_id, chunks_of(linked, chunk_words))


async def _outline(plan, digest: list[str], step: int, job_id: uuid.UUID, user_id: uuid.UUID,
                   ports: Ports) -> tuple[list[ReportSection], str, str, str]:
    """The sections, where the outline came from, what a code outline replaced, the style sheet."""
    s, total, target = ports.settings, plan["passages"], plan["target_words"]
    section_words = s.chunk_words * s.chunks_per_section
    fields = prompt_fields(target, section_words, s.min_section_words)
    prompt = Prompt(
        system=template("outline_system").strip(), model=s.model_for("planner", plan["model"]),
        user=template("report_outline").format(
            title=plan["title"], instructions=plan["instructions"], target_words=target, passages=total,
            digest="\n".join(digest), sampled="" if step == 1 else f"; every {step}th passage", **fields),
        max_tokens=min(16_000, 400 + fields["sections"] * 140), headers={"x-longform-chunk": f"{job_id}:outline"},
        schema=schema(fields["depth"], passages=True), schema_name="outline",
    )
    log = LlmCallLog(ports.db, provider=ports.llm.name, job_id=job_id, user_id=user_id, purpose="outline")
    parsed: list[Outline] = []
    problems: list[str] = []

    def judge(completion) -> str | None:
        try:
            parsed.append(parse_outline(completion.text, target, s.min_section_words))
        except OutlineError as problem:
            problems.append(f"unusable outline: {problem}")
            return problems[-1]
        return None

    if await ask(ports.llm, prompt, log, attempts=s.outline_attempts, judge=judge):
        outline = parsed[-1]
        ranges = ranges_from(outline.covers or [None] * len(outline.sections), total)
        made = [ReportSection(section, first, last) for section, (first, last) in zip(outline.sections, ranges)]
        return _titled(made), "llm", "", outline.style
    return (code_sections(target, section_words, total, dict(_first_notes(digest))), "code",
            f"no usable outline in {s.outline_attempts} attempts ({problems[-1] if problems else 'provider errors'}):"
            " the outline was made in code from the notes", "")


def _first_notes(digest: list[str]):
    """passage -> its digest line's notes (what a section made in code is titled from)."""
    for line in digest:
        number, _, notes = line.partition(": ")
        yield int(number.lstrip("§")), notes


def _titled(sections: list[ReportSection]) -> list[ReportSection]:
    """No two sections share a title (a reader navigates by them): a repeated one says its passages."""
    seen: set[str] = set()
    unique = []
    for r in sections:
        path = r.section.path
        if path in seen:
            where = f"§{r.first}" if r.first == r.last else f"§{r.first}–§{r.last}"
            path = f"{path} ({where})"
        seen.add(path)
        unique.append(ReportSection(Section(path, r.section.brief, r.section.budget_words), r.first, r.last))
    return unique
