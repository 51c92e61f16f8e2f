"""The planner's handlers: plan a requested job, dispatch chunks as earlier ones finish, ask for
assembly when all are written, add extension sections when the document is short, complete the
plan with its document, cancel, fail, resume. The plan's status moves only as
contracts/jobstate.py's PLAN_MOVES allow (store.move)."""

from dataclasses import dataclass

from contracts.envelope import Envelope, derived_id
from contracts.messages import (
    AssembleDocument, CancelJob, ChunkProcessed, ChunkSummarized, CompleteJob, ExtendJob, JobCancelled, JobCompleted,
    JobExtended, JobFailed, JobPlanned, JobRequested, JobResumed, Message, PlanProposed, ResumeJob, WriteChunk,
)
from contracts.jobstate import ENDED, JobStatus, plan_sources
from services.common import jobqueue as queue
from services.common.consumers import consumer_name
from services.common.db import Database, Tx
from services.common.deletion import erase_job_rows
from services.common.llm import LlmProvider
from services.planner import store
from services.planner.config import PlannerSettings
from services.planner.dispatch import next_sections
from services.planner.plan import Section, chunks_of, with_handoffs
from services.planner.report import chunk_passages
from services.planner.planning import Planned, extension_sections, outline_for, store_outline, store_passages

SERVICE = "planner"


@dataclass(frozen=True)
class Ports:
    db: Database
    llm: LlmProvider
    settings: PlannerSettings


class Decision:
    """Emits the planner's messages with ids derived from the cause, so a redelivery repeats none."""

    def __init__(self, tx: Tx, cause: Envelope) -> None:
        self.tx = tx
        self.cause = cause

    def emit(self, message: Message, key: object = "") -> None:
        self.tx.emit(Envelope.wrap(
            message, service=SERVICE, job_id=self.cause.job_id, user_id=self.cause.user_id,
            event_id=derived_id(self.cause.event_id, message.TYPE, key),
        ))


async def plan_job(envelope: Envelope, ports: Ports) -> None:
    req, job_id, s = envelope.payload(JobRequested), envelope.job_id, ports.settings
    async with ports.db.transaction(job_id=job_id, user_id=envelope.user_id) as tx:
        if await store.plan_exists(tx, job_id):
            return  # planned before: never ask the LLM for the outline again
    planned = Planned(None, "source") if req.mode == "rewrite" else await outline_for(
        req, job_id, envelope.user_id, ports.db, ports.llm, s)
    outline = planned.outline
    async with ports.db.transaction(job_id=job_id, user_id=envelope.user_id) as tx:
        await store.one_at_a_time(tx, job_id)
        if not await tx.claim(envelope.event_id) or not await store.insert_plan(
                tx, job_id, envelope.user_id, req, width=s.section_width,
                style=outline.style if outline else "", outline_source=planned.source):
            return
        if outline:
            await store_outline(tx, job_id, outline, s.chunk_words)
        else:
            await store_passages(tx, job_id, req, s)
        sections, chunks, words = await store.count_planned(tx, job_id)
        decision = Decision(tx, envelope)
        if req.review_plan:  # first, so the job goes from requested to awaiting review, never writing
            decision.emit(PlanProposed(sections=sections, planned_words=words))
        decision.emit(JobPlanned(sections=sections, chunks_total=chunks, planned_words=words,
                                 outline_source=planned.source, fallback=planned.fallback))
        if await store.take_stop(tx, job_id):  # cancelled while the outline was being written
            await _cancel(decision)
            return
        if not req.review_plan:  # else writing starts when the owner approves (services/planner/review.py)
            await _dispatch(decision, await store.lock_plan(tx, job_id))


async def chunk_processed(envelope: Envelope, ports: Ports) -> None:
    outcome = envelope.payload(ChunkProcessed)
    async with ports.db.transaction(job_id=envelope.job_id, user_id=envelope.user_id) as tx:
        plan = await store.claimed_plan(tx, envelope)
        if plan is None:
            return
        status = "done" if outcome.output_words > 0 else "failed"
        await store.finish_chunk(tx, envelope.job_id, outcome.chunk_index, status, outcome.output_words)
        if plan["state"] != JobStatus.WRITING:
            return  # failed or cancelled meanwhile: the chunk is kept, nothing more is started
        decision = Decision(tx, envelope)
        if status == "failed":
            await _fail(decision, plan, outcome)
        else:
            await _dispatch(decision, plan)


async def chunk_summarized(envelope: Envelope, ports: Ports) -> None:
    """A chunk was folded into the memory. The assembly waits for the last of them, so that no step
    of the job comes after its completion (a completed job's log ends with `job.completed`)."""
    folded = envelope.payload(ChunkSummarized)
    async with ports.db.transaction(job_id=envelope.job_id, user_id=envelope.user_id) as tx:
        plan = await store.claimed_plan(tx, envelope)
        if plan is None:
            return
        await store.mark_summarized(tx, envelope.job_id, folded.chunk_index)
        if plan["state"] == JobStatus.WRITING and await store.all_written_and_folded(tx, envelope.job_id):
            await _assemble(Decision(tx, envelope), plan)


async def extend_job(envelope: Envelope, ports: Ports) -> None:
    request, s = envelope.payload(ExtendJob), ports.settings
    async with ports.db.transaction(job_id=envelope.job_id, user_id=envelope.user_id) as tx:
        if not await tx.claim(envelope.event_id):
            return
        plan = await store.lock_plan(tx, envelope.job_id)
        if plan is not None and plan["state"] == JobStatus.CANCELLING:  # cancelled while assembling
            await _cancel(Decision(tx, envelope))
        if plan is None or plan["state"] != JobStatus.ASSEMBLING:
            return
        last = await store.last_chunk(tx, envelope.job_id)
        titled = plan["outline_source"] in ("llm", "code")
        extension = extension_sections(request.missing_words, request.round, s, titled=titled)
        added = with_handoffs([_section_of(last)] + extension)[1:]
        await store.insert_sections(tx, envelope.job_id, added, first_index=last["section_index"] + 1)
        new_chunks = chunks_of(added, s.chunk_words, last["chunk_index"] + 1, last["section_index"] + 1)
        await store.insert_chunks(tx, envelope.job_id, new_chunks)
        await store.move(tx, envelope.job_id, JobStatus.WRITING, request.round)
        decision = Decision(tx, envelope)
        decision.emit(JobExtended(chunks_added=len(new_chunks), words_added=sum(c.budget_words for c in added),
                                  chunks_total=last["chunk_index"] + 1 + len(new_chunks), round=request.round))
        await _dispatch(decision, await store.lock_plan(tx, envelope.job_id))


async def resume_job(envelope: Envelope, ports: Ports) -> None:
    envelope.payload(ResumeJob)
    async with ports.db.transaction(job_id=envelope.job_id, user_id=envelope.user_id) as tx:
        if not await tx.claim(envelope.event_id):
            return
        plan = await store.lock_plan(tx, envelope.job_id)
        if plan is None or plan["state"] not in (JobStatus.FAILED, JobStatus.CANCELLED):
            return
        reset = await store.reset_failed(tx, envelope.job_id)
        await store.stop_waiting_for_memory(tx, envelope.job_id)
        await store.move(tx, envelope.job_id, JobStatus.WRITING, 0 if plan["state"] == JobStatus.FAILED else None)
        decision = Decision(tx, envelope)
        decision.emit(JobResumed(chunks_reset=reset, reason="user", consumer=consumer_name(SERVICE, ResumeJob.TYPE)))
        await _dispatch(decision, await store.lock_plan(tx, envelope.job_id))


async def job_failed(envelope: Envelope, ports: Ports) -> None:
    """Any service may fail a job (the assembler when it stays short, a handler that gave up):
    the plan stops dispatching, and a resume can pick it up."""
    envelope.payload(JobFailed)
    await _move_to(JobStatus.FAILED, envelope, ports)


async def complete_job(envelope: Envelope, ports: Ports) -> None:
    """The assembler found the document at its target: the plan is complete, and final, and the
    job's `job.completed` is said in the same transaction, as the last step of its log."""
    done = envelope.payload(CompleteJob)
    async with ports.db.transaction(job_id=envelope.job_id, user_id=envelope.user_id) as tx:
        plan = await store.claimed_plan(tx, envelope)
        if plan is None:
            return
        if plan["state"] in plan_sources(JobStatus.COMPLETED):
            await store.move(tx, envelope.job_id, JobStatus.COMPLETED)
        Decision(tx, envelope).emit(JobCompleted(words=done.words, target_words=done.target_words,
                                                 heading_words=done.heading_words))


async def _move_to(status: JobStatus, envelope: Envelope, ports: Ports) -> None:
    """The plan moves to `status` if it may from where it is; otherwise the event changes nothing."""
    async with ports.db.transaction(job_id=envelope.job_id, user_id=envelope.user_id) as tx:
        if not await tx.claim(envelope.event_id):
            return
        plan = await store.lock_plan(tx, envelope.job_id)
        if plan is not None and plan["state"] in plan_sources(status):
            await store.move(tx, envelope.job_id, status)
        if status in ENDED:  # a job may fail before it has a plan: its place in the queue is given on all the same
            await queue.job_ended(tx, envelope.job_id, SERVICE)


async def cancel_job(envelope: Envelope, ports: Ports) -> None:
    """Stops dispatching, and tells the generator to abandon the writes of this epoch. While the
    document is being assembled, the cancel waits for the assembler's verdict: a document at its
    target completes the job anyway (the cancel came too late); a short one is not extended."""
    envelope.payload(CancelJob)
    async with ports.db.transaction(job_id=envelope.job_id, user_id=envelope.user_id) as tx:
        await store.one_at_a_time(tx, envelope.job_id)
        if not await tx.claim(envelope.event_id):
            return
        plan = await store.lock_plan(tx, envelope.job_id)
        if plan is None and await queue.cancel_queued(tx, envelope.job_id):
            Decision(tx, envelope).emit(JobCancelled(epoch=0, chunks_done=0, words_written=0))  # it never started
        elif plan is None:
            await store.note_stop(tx, envelope.job_id)
        elif plan["state"] in (JobStatus.WRITING, JobStatus.NOTING, JobStatus.AWAITING_REVIEW):
            await _cancel(Decision(tx, envelope))
        elif plan["state"] == JobStatus.ASSEMBLING:
            await store.move(tx, envelope.job_id, JobStatus.CANCELLING)


async def cancel_now(decision: Decision) -> None:
    """The plan stops at once (a cancel that came before the plan was made)."""
    await _cancel(decision)


async def _cancel(decision: Decision) -> None:
    epoch, done, words = await store.cancel(decision.tx, decision.cause.job_id)
    decision.emit(JobCancelled(epoch=epoch, chunks_done=done, words_written=words))


async def delete_job(envelope: Envelope, ports: Ports) -> None:
    await erase_job_rows(ports.db, SERVICE, envelope)


async def dispatch(tx: Tx, cause: Envelope, plan) -> None:
    """What comes next for the plan, as if `cause` had just been handled (recovery on start)."""
    await _dispatch(Decision(tx, cause), plan)


def _section_of(row) -> Section:
    return Section(row["path"], row["brief"], 0)


async def _dispatch(decision: Decision, plan) -> None:
    tx, job_id = decision.tx, plan["job_id"]
    sections = await store.section_progress(tx, job_id)
    if all(s.finished for s in sections):
        if await store.all_written_and_folded(tx, job_id):
            await _assemble(decision, plan)
        return  # else the last summary asks for the assembly (chunk_summarized)
    chosen = next_sections(sections, plan["width"])
    if not chosen:
        return
    total = (await store.last_chunk(tx, job_id))["chunk_index"] + 1
    for row in await store.chunks_to_write(tx, job_id, chosen):
        decision.emit(_write_command(plan, row, total), key=row["chunk_index"])
    await store.mark_dispatched(tx, job_id, chosen)


async def _assemble(decision: Decision, plan) -> None:
    await store.move(decision.tx, plan["job_id"], JobStatus.ASSEMBLING)
    decision.emit(AssembleDocument(target_words=plan["target_words"], round=plan["extension_round"] + 1,
                                   headings=plan["headings"]))


def _write_command(plan, row, total: int) -> WriteChunk:
    previous = row["chunk_index"] - 1
    first, last = chunk_passages(row["passage_first"], row["passage_last"], row["position_in_section"],
                                 row["section_chunks"], plan["passages"])
    return WriteChunk(
        chunk_index=row["chunk_index"], section_index=row["section_index"], section_title=row["path"],
        brief=row["brief"], budget_words=row["budget_words"], title=plan["title"],
        instructions=plan["instructions"], previous_chunk_index=previous if row["previous_done"] else None,
        position=f"chunk {row['chunk_index'] + 1} of {total}", model=plan["model"], mode=plan["mode"],
        style=plan["style"], handoff_in=row["handoff_in"], handoff_out=row["handoff_out"],
        source_text=row["source_text"], epoch=plan["epoch"], last=row["chunk_index"] == total - 1,
        passage_first=first, passage_last=last, passages_total=plan["passages"] or None,
    )


async def _fail(decision: Decision, plan, outcome: ChunkProcessed) -> None:
    written, chunks = await store.written(decision.tx, plan["job_id"])
    section = await store.section_path(decision.tx, plan["job_id"], outcome.chunk_index)
    reason = (
        f"{outcome.reason} for “{section}” (chunk {outcome.chunk_index + 1} of {chunks}); "
        f"{written:,} of {plan['target_words']:,} words written; "
        f"resume with POST /v1/jobs/{plan['job_id']}/resume"
    )
    await store.move(decision.tx, plan["job_id"], JobStatus.FAILED)
    decision.emit(JobFailed(reason=reason, words=written))
