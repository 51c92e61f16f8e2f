"""The memory step (SPEC C2, C4): `chunk.summarize` folds one stored chunk into the memory and
answers `chunk.summarized`. It is started by events, never by a wait: the chunk's store starts
it when the chunk before it is folded in already, otherwise that chunk's summary does. Each
section's memory is therefore built in order, and nothing holds a worker while it waits."""

import logging
import uuid

from contracts.envelope import Envelope, derived_id
from contracts.messages import ChunkSummarized, SummarizeChunk, WriteChunk
from services.common.db import Tx
from services.common.logs import bind_job
from services.generator import store
from services.generator.echoes import LEAN_AFTER
from services.generator.memory import folded_in_code, folded_inline, stored_memory
from services.generator.memory_tail import TRUNCATIONS
from services.generator.summarizer import Remembered, remember

log = logging.getLogger(__name__)

_CANCELLED = "the job was cancelled: folded in code, without an LLM call"
_LAST = "the plan's last chunk: folded in code, without an LLM call (no chunk waits for its memory)"


def _why_no_call(stopped: bool, last: bool, unusable_model: str | None, echoing_model: str | None, row) -> str:
    """Why the chunk is folded in code without asking the LLM, or "" when it is asked."""
    if stopped:
        return _CANCELLED
    if last:
        return _LAST
    if unusable_model:
        return (f"{unusable_model} gave no usable summary for {LEAN_AFTER} chunks: folded in code, without an"
                " LLM call, from now on")
    if echoing_model:  # the summary prompt is all state and instructions: such a model echoes them back
        return (f"{echoing_model} echoed the full write prompt in {LEAN_AFTER} chunks and is written to with the"
                " lean prompt: folded in code, without an LLM call, from now on")
    if not row["inline_summary"] and row["tail_missing"] in TRUNCATIONS:
        return (f"the chunk's reply ran into its max_tokens ({row['tail_missing']}): folded in code, without an"
                " LLM call, which would cost more than the cap on an overshoot saves")
    return ""


def summarize_command(job_id: uuid.UUID, user_id: uuid.UUID | None, cmd: SummarizeChunk) -> Envelope:
    """One id per chunk, whichever event starts it, so the two paths cannot start it twice."""
    return Envelope.wrap(cmd, service=store.SERVICE, job_id=job_id, user_id=user_id,
                         event_id=derived_id(job_id, SummarizeChunk.TYPE, cmd.chunk_index))


async def summarize_when_ready(tx: Tx, envelope: Envelope, cmd: WriteChunk) -> None:
    """Called in the transaction that stores the chunk."""
    await store.lock_memory(tx, envelope.job_id)
    if await store.memory_includes(tx, envelope.job_id, cmd.previous_chunk_index):
        tx.emit(summarize_command(envelope.job_id, envelope.user_id, SummarizeChunk(
            chunk_index=cmd.chunk_index, previous_chunk_index=cmd.previous_chunk_index, model=cmd.model,
            style=cmd.style, epoch=cmd.epoch, last=cmd.last)))


async def summarize_chunk(envelope: Envelope, ports) -> None:
    cmd = envelope.payload(SummarizeChunk)
    job_id, user_id = envelope.job_id, envelope.user_id
    bind_job(job_id)
    async with ports.db.transaction(job_id=job_id, user_id=user_id) as tx:
        row = await store.summary_context(tx, job_id, cmd.chunk_index, cmd.epoch)
    stopped = row["stopped"]
    if row["mine"] or row["text"] is None:
        return  # folded in before (a redelivery), or the chunk is gone with its job
    memory = stored_memory(row, cmd.style)
    s, model = ports.settings, ports.settings.model_for("summary", cmd.model)
    in_code = _why_no_call(stopped, cmd.last, model if ports.summary_echoes.lean(model) else None,
                           model if ports.echoes.lean(model) else None, row)
    if in_code:
        made = Remembered(folded_in_code(memory, row["text"], max_summary_words=s.summary_words), "code", in_code)
    elif row["inline_summary"]:
        made = Remembered(folded_inline(memory, row["inline_summary"], row["inline_ledger"] or "",
                                        max_summary_words=s.summary_words, max_entries=s.ledger_entries), "inline")
        log.info("chunk %d folded in from the summary written with it, without a call", cmd.chunk_index)
    else:
        made = await _asked(ports, cmd, envelope, memory, row)
        if made.made_by == "code":
            ports.summary_echoes.echoed(model, str(job_id), cmd.chunk_index)
    async with ports.db.transaction(job_id=job_id, user_id=user_id) as tx:
        await _store(tx, envelope, cmd, made)


async def _asked(ports, cmd: SummarizeChunk, envelope: Envelope, memory, row) -> Remembered:
    """The summary call of old, for a chunk whose replies gave no usable memory tail; the event's
    fallback says why it was needed."""
    made = await remember(ports.llm, ports.db, ports.settings, memory, row["text"], job_id=envelope.job_id,
                          user_id=envelope.user_id, chunk_index=cmd.chunk_index, model=cmd.model)
    missing = row["tail_missing"]
    if not missing:
        return made
    log.info("chunk %d: no summary written with it (%s): summarised by a call of its own", cmd.chunk_index, missing)
    why = f"the chunk's replies gave no usable memory tail ({missing}): summarised by a call of its own"
    return Remembered(made.memory, made.made_by, f"{why}; {made.fallback}" if made.fallback else why)


async def _store(tx: Tx, envelope: Envelope, cmd: SummarizeChunk, made: Remembered) -> None:
    job_id, user_id, new = envelope.job_id, envelope.user_id, made.memory
    if not await tx.claim(envelope.event_id):
        return
    version = await store.add_coherence(tx, job_id, cmd.chunk_index, new.summary, new.ledger, new.style, made.made_by)
    if version is None:
        return
    tx.emit(Envelope.wrap(ChunkSummarized(
        chunk_index=cmd.chunk_index, version=version, summary_words=len(new.summary.split()),
        ledger_entries=len(new.ledger.splitlines()), made_by=made.made_by, fallback=made.fallback,
    ), service=store.SERVICE, job_id=job_id, user_id=user_id, event_id=derived_id(envelope.event_id, "summarized")))
    for waiting in await store.waiting_on(tx, job_id, cmd.chunk_index):
        tx.emit(summarize_command(job_id, user_id, SummarizeChunk(
            chunk_index=waiting["chunk_index"], previous_chunk_index=cmd.chunk_index, model=cmd.model,
            style=cmd.style, epoch=cmd.epoch, last=waiting["last_of_plan"])))
