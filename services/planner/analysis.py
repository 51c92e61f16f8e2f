"""An analysis (`mode: analyze`), the planner's part. Map first: the source is cut into passages
(planner.passages), and each is sent to the generator for notes (`passage.note`), at most
`note_width` at a time, the next ones as `passage.noted` come back (chained by events, no
polling). When every passage is noted, `report.plan` asks for the report's outline from a bounded
digest of the notes (services/planner/reporting.py); then writing goes on as for any plan."""

from contracts.envelope import Envelope, derived_id
from contracts.jobstate import JobStatus
from contracts.messages import (
    JobFailed, JobRequested, JobResumed, NotePassage, PassageNoted, PlanReport, ResumeJob, SourceDivided,
)
from services.common.consumers import consumer_name
from services.planner import handlers, passages, store
from services.planner.handlers import SERVICE, Decision, Ports


async def job_requested(envelope: Envelope, ports: Ports) -> None:
    """The planner's one handler of `job.requested`: an analysis starts by noting its source."""
    req = envelope.payload(JobRequested)
    if req.mode != "analyze":
        await handlers.plan_job(envelope, ports)
        return
    job_id, s = envelope.job_id, ports.settings
    async with ports.db.transaction(job_id=job_id, user_id=envelope.user_id) as tx:
        await store.one_at_a_time(tx, job_id)
        if not await tx.claim(envelope.event_id) or not await store.insert_plan(
                tx, job_id, envelope.user_id, req, width=s.section_width, style="", outline_source="notes",
                state=JobStatus.NOTING):
            return
        count, words = await passages.store_passages(tx, job_id, s.passage_words, s.source_slice_chars)
        decision = Decision(tx, envelope)
        decision.emit(SourceDivided(passages=count, source_words=words))
        if count == 0:  # the gateway refuses an empty source: a source gone missing is a failure, said so
            await store.move(tx, job_id, JobStatus.FAILED)
            decision.emit(JobFailed(reason="the source holds no text to analyse"))
            return
        if await store.take_stop(tx, job_id):  # cancelled before the plan was made
            await handlers.cancel_now(decision)
            return
        await dispatch_notes(decision, await store.lock_plan(tx, job_id), s.note_width)


async def passage_noted(envelope: Envelope, ports: Ports) -> None:
    noted = envelope.payload(PassageNoted)
    async with ports.db.transaction(job_id=envelope.job_id, user_id=envelope.user_id) as tx:
        plan = await store.claimed_plan(tx, envelope)
        if plan is None:
            return
        await passages.mark_noted(tx, envelope.job_id, noted.passage)
        if plan["state"] == JobStatus.NOTING:  # else stopped meanwhile: a resume sends the rest
            await dispatch_notes(Decision(tx, envelope), plan, ports.settings.note_width)


async def dispatch_notes(decision: Decision, plan, width: int) -> None:
    """The next passages to note, or, once every passage is noted, the report's planning (one
    command per epoch, whichever report comes last, so it is asked once)."""
    tx, job_id = decision.tx, plan["job_id"]
    for row in await passages.to_note(tx, job_id, width):
        decision.emit(NotePassage(passage=row["passage"], passages_total=plan["passages"], text=row["text"],
                                  title=plan["title"], instructions=plan["instructions"], model=plan["model"],
                                  epoch=plan["epoch"]), key=(row["passage"], plan["epoch"]))
    if await passages.unfinished(tx, job_id) == 0:
        tx.emit(Envelope.wrap(PlanReport(passages=plan["passages"]), service=SERVICE, job_id=job_id,
                              user_id=decision.cause.user_id,
                              event_id=derived_id(job_id, PlanReport.TYPE, plan["epoch"])))


async def resume(envelope: Envelope, ports: Ports) -> None:
    """The planner's one handler of `job.resume_requested`: an analysis stopped before its report
    was planned goes back to noting what is not noted yet (nothing noted is sent again)."""
    envelope.payload(ResumeJob)
    async with ports.db.transaction(job_id=envelope.job_id, user_id=envelope.user_id) as tx:
        plan = await store.lock_plan(tx, envelope.job_id)
        noting = plan is not None and plan["mode"] == "analyze" and not await passages.has_sections(tx, envelope.job_id)
        if noting and plan["state"] in (JobStatus.FAILED, JobStatus.CANCELLED) and await tx.claim(envelope.event_id):
            await _resume_noting(tx, envelope, plan, ports)
            return
    if not noting:
        await handlers.resume_job(envelope, ports)


async def _resume_noting(tx, envelope: Envelope, plan, ports: Ports) -> None:
    job_id = envelope.job_id
    reset = await passages.reset_unnoted(tx, job_id)
    await store.move(tx, job_id, JobStatus.NOTING)
    decision = Decision(tx, envelope)
    decision.emit(JobResumed(chunks_reset=reset, reason="user", consumer=consumer_name(SERVICE, ResumeJob.TYPE)))
    await dispatch_notes(decision, await store.lock_plan(tx, job_id), ports.settings.note_width)


async def recover(ports: Ports, job_id, user_id, found_by: list) -> bool:
    """On the planner's start (services/planner/recovery.py): a job still noting is moved on from
    the database alone, as a `passage.noted` would: passages whose notes are stored are noted, and
    when nothing is in flight the next passages (or the report's planning) are sent."""
    async with ports.db.transaction(job_id=job_id, user_id=user_id) as tx:
        tx.statements.extend(found_by)
        plan = await store.lock_plan(tx, job_id)
        if plan is None or plan["state"] != JobStatus.NOTING:
            return False
        caught_up = await passages.catch_up_noted(tx, job_id)
        if not caught_up and await passages.in_flight(tx, job_id):
            return False  # notes and reports are on their way: nothing is stuck
        left = await passages.unfinished(tx, job_id)
        resumed = Envelope.wrap(JobResumed(chunks_reset=0, reason="crash_recovery"), service=SERVICE, job_id=job_id,
                                user_id=user_id,
                                event_id=derived_id(job_id, JobResumed.TYPE, "on start, noting", plan["epoch"], left))
        tx.emit(resumed)
        await dispatch_notes(Decision(tx, resumed), plan, ports.settings.note_width)
        return True
