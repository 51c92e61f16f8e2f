"""The planner's handlers: plan a requested job, dispatch chunks as earlier ones finish,
ask for assembly when all are written, and add extension sections when the document is short."""

import math
from dataclasses import dataclass

from contracts.envelope import Envelope, derived_id
from contracts.messages import (
    AssembleDocument, ChunkProcessed, ExtendJob, JobExtended, JobFailed, JobPlanned, JobRequested, Message,
    WriteChunk,
)
from services.common.db import Database, Tx
from services.planner import store
from services.planner.config import PlannerSettings
from services.planner.dispatch import all_done, next_chunks
from services.planner.plan import outline

SERVICE = "planner"


@dataclass(frozen=True)
class Ports:
    db: Database
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
    req = envelope.payload(JobRequested)
    s = ports.settings
    chunks = outline(req.target_words, s.chunk_words, s.chunks_per_section)
    planned = sum(c.target_words for c in chunks)
    async with ports.db.transaction(job_id=envelope.job_id, user_id=envelope.user_id) as tx:
        if not await tx.claim(envelope.event_id):
            return
        if not await store.insert_plan(tx, envelope.job_id, envelope.user_id, req, planned, s.section_width):
            return
        await store.insert_chunks(tx, envelope.job_id, chunks)
        decision = Decision(tx, envelope)
        sections = len({c.section_index for c in chunks})
        decision.emit(JobPlanned(sections=sections, chunks_total=len(chunks), planned_words=planned))
        await _dispatch(decision, await store.lock_plan(tx, envelope.job_id))


async def chunk_processed(envelope: Envelope, ports: Ports) -> None:
    outcome = envelope.payload(ChunkProcessed)
    async with ports.db.transaction(job_id=envelope.job_id, user_id=envelope.user_id) as tx:
        if not await tx.claim(envelope.event_id):
            return
        plan = await store.lock_plan(tx, envelope.job_id)
        if plan is None or plan["state"] != "writing":
            return
        status = "done" if outcome.output_words > 0 else "failed"
        await store.finish_chunk(tx, envelope.job_id, outcome.chunk_index, status, outcome.output_words)
        decision = Decision(tx, envelope)
        if status == "failed":
            await _fail(decision, plan, outcome)
        else:
            await _dispatch(decision, plan)


async def extend_job(envelope: Envelope, ports: Ports) -> None:
    request = envelope.payload(ExtendJob)
    s = ports.settings
    async with ports.db.transaction(job_id=envelope.job_id, user_id=envelope.user_id) as tx:
        if not await tx.claim(envelope.event_id):
            return
        plan = await store.lock_plan(tx, envelope.job_id)
        if plan is None or plan["state"] != "assembling":
            return
        rows = await store.chunks(tx, envelope.job_id)
        wanted = math.ceil(request.missing_words * (1 + s.extension_margin))
        added = outline(wanted, s.chunk_words, s.chunks_per_section, first_index=rows[-1]["chunk_index"] + 1,
                        first_section=rows[-1]["section_index"] + 1, label=f"extension {request.round}")
        await store.insert_chunks(tx, envelope.job_id, added)
        await store.set_state(tx, envelope.job_id, "writing", request.round)
        decision = Decision(tx, envelope)
        decision.emit(JobExtended(chunks_added=len(added), words_added=wanted,
                                  chunks_total=len(rows) + len(added), round=request.round))
        await _dispatch(decision, await store.lock_plan(tx, envelope.job_id))


async def _dispatch(decision: Decision, plan) -> None:
    tx, job_id = decision.tx, plan["job_id"]
    rows = await store.chunks(tx, job_id)
    if all_done(rows):
        await store.set_state(tx, job_id, "assembling")
        decision.emit(AssembleDocument(target_words=plan["target_words"], round=plan["extension_round"] + 1))
        return
    done = {r["chunk_index"] for r in rows if r["status"] == "done"}
    chosen = next_chunks(rows, plan["width"])
    for row in chosen:
        decision.emit(_write_command(plan, row, len(rows), done), key=row["chunk_index"])
    if chosen:
        await store.mark_dispatched(tx, job_id, [r["chunk_index"] for r in chosen])


def _write_command(plan, row, total: int, done: set[int]) -> WriteChunk:
    previous = row["chunk_index"] - 1
    return WriteChunk(
        chunk_index=row["chunk_index"], section_index=row["section_index"], section_title=row["section_title"],
        brief=row["brief"], target_words=row["target_words"], title=plan["title"],
        instructions=plan["instructions"], previous_chunk_index=previous if previous in done else None,
        position=f"chunk {row['chunk_index'] + 1} of {total}", model=plan["model"],
    )


async def _fail(decision: Decision, plan, outcome: ChunkProcessed) -> None:
    rows = await store.chunks(decision.tx, plan["job_id"])
    written = sum(r["words"] or 0 for r in rows if r["status"] == "done")
    reason = (
        f"chunk {outcome.chunk_index + 1} of {len(rows)} could not be written: {outcome.reason}; "
        f"{written:,} of {plan['target_words']:,} words written"
    )
    await store.set_state(decision.tx, plan["job_id"], "failed")
    decision.emit(JobFailed(reason=reason, words=written))
