"""The generator's handler: WriteChunk in; the chunk, a new coherence version and ChunkProcessed out."""

import logging
from dataclasses import dataclass, field

from contracts.envelope import Envelope, derived_id
from contracts.messages import ChunkProcessed, ChunkStarted, ChunkStopped, JobCancelled, WriteChunk
from contracts.wordcount import count_words
from services.common.db import Database
from services.common.deletion import erase_job_rows
from services.common.llm import LlmProvider
from services.common.llm.calls import LlmCallLog
from services.common.logs import bind_job
from services.common.ops import count_chunk
from services.generator import store
from services.generator.config import GeneratorSettings
from services.generator.echoes import EchoMemory
from services.generator.token_rates import TokenRates
from services.generator.memory import Memory, stored_memory
from services.generator.noting import with_notes
from services.generator.summarizing import summarize_when_ready
from services.generator.writer import ChunkDraft, ChunkWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ports:
    db: Database
    llm: LlmProvider
    settings: GeneratorSettings
    echoes: EchoMemory = field(default_factory=EchoMemory)  # models that echo the full prompt (per process)
    summary_echoes: EchoMemory = field(default_factory=EchoMemory)  # models whose summaries are never usable
    token_rates: TokenRates = field(default_factory=TokenRates)  # each model's tokens per word (per process)


async def write_chunk(envelope: Envelope, ports: Ports) -> None:
    """Writes the chunk and reports it at once. Its summary is a step of its own (chunk.summarize),
    started with the report when the chunk before it is folded in, else by that chunk's summary;
    the next chunk of the section starts meanwhile, from the latest memory and this chunk's tail."""
    cmd = envelope.payload(WriteChunk)
    job_id, user_id = envelope.job_id, envelope.user_id
    bind_job(job_id)
    async with ports.db.transaction(job_id=job_id, user_id=user_id) as tx:
        context = await store.chunk_context(tx, job_id, cmd.chunk_index, cmd.previous_chunk_index, cmd.epoch)
        cmd = await with_notes(tx, job_id, cmd, ports.settings.notes_block_words)
        done = context["done_words"] is not None
        stopped = not done and context["stopped"]
        if not done and not stopped:
            tx.emit(Envelope.wrap(ChunkStarted(chunk_index=cmd.chunk_index, budget_words=cmd.budget_words,
                                               attempts_before=context["attempts"]),
                                  service=store.SERVICE, job_id=job_id, user_id=user_id))
    draft = ChunkDraft(attempts=context["attempts"])
    if not done and not stopped:  # a chunk written before is never sent to the LLM again
        draft = await _write(cmd, envelope, ports, context["tail"], stored_memory(context, cmd.style), draft)
    text = await _stored_text(ports.db, envelope, cmd.chunk_index) if done else draft.text
    async with ports.db.transaction(job_id=job_id, user_id=user_id) as tx:
        if not done and await store.stopped(tx, job_id, cmd.epoch):  # cancelled or deleted meanwhile
            if await tx.claim(envelope.event_id):
                tx.emit(Envelope.wrap(
                    ChunkStopped(chunk_index=cmd.chunk_index, words_discarded=draft.words,
                                 reason="the job was cancelled or deleted"),
                    service=store.SERVICE, job_id=job_id, user_id=user_id,
                    event_id=derived_id(envelope.event_id, ChunkStopped.TYPE)))
            return
        if not done and draft.text:  # stored with its report, so a crash after this never pays for it again
            await store.accept_chunk(tx, job_id, cmd.chunk_index, draft.text, draft.words, cmd.budget_words,
                                     cmd.previous_chunk_index, cmd.last, draft.inline_memory(), draft.tail_missing)
            await summarize_when_ready(tx, envelope, cmd)
        if await tx.claim(envelope.event_id):
            words = count_words(text) if done else draft.words
            tx.emit(Envelope.wrap(
                _outcome(cmd, words, draft), service=store.SERVICE, job_id=job_id, user_id=user_id,
                event_id=derived_id(envelope.event_id, ChunkProcessed.TYPE),
            ))
    if not done and draft.text:
        count_chunk(draft.words, passed=draft.words >= cmd.budget_words)
        log.info("chunk %d stored: %d of %d words", cmd.chunk_index, draft.words, cmd.budget_words)


async def _write(cmd: WriteChunk, envelope: Envelope, ports: Ports, tail: str, memory: Memory,
                 draft: ChunkDraft) -> ChunkDraft:
    log = LlmCallLog(ports.db, provider=ports.llm.name, job_id=envelope.job_id, user_id=envelope.user_id,
                     purpose="write", chunk_index=cmd.chunk_index,
                     stopped=lambda tx: store.stopped(tx, envelope.job_id, cmd.epoch))

    async def stored(digests: list[bytes]) -> set[bytes]:
        async with ports.db.transaction(job_id=envelope.job_id, user_id=envelope.user_id) as tx:
            return await store.stored_paragraphs(tx, envelope.job_id, digests)

    writer = ChunkWriter(ports.llm, log, ports.settings, memory, ports.echoes, stored, ports.token_rates)
    return await writer.write(cmd, tail, draft)


async def job_cancelled(envelope: Envelope, ports: Ports) -> None:
    """Every write of the cancelled epoch stops before its next LLM call."""
    cancelled = envelope.payload(JobCancelled)
    async with ports.db.transaction(job_id=envelope.job_id, user_id=envelope.user_id) as tx:
        await store.stop(tx, envelope.job_id, cancelled.epoch)


async def delete_job(envelope: Envelope, ports: Ports) -> None:
    await erase_job_rows(ports.db, store.SERVICE, envelope)


async def _stored_text(db: Database, envelope: Envelope, chunk_index: int) -> str:
    async with db.transaction(job_id=envelope.job_id, user_id=envelope.user_id) as tx:
        return await store.full_text(tx, envelope.job_id, chunk_index)


def _outcome(cmd: WriteChunk, words: int, draft: ChunkDraft) -> ChunkProcessed:
    passed = words >= cmd.budget_words
    if passed:
        reason = ""
    elif words:
        reason = f"short after {draft.rounds} rounds ({words} of {cmd.budget_words} words): {draft.last_error}"
    else:
        reason = f"{draft.last_error} {draft.failures} times"
    return ChunkProcessed(
        chunk_index=cmd.chunk_index, budget_words=cmd.budget_words, output_words=words,
        input_words=count_words(cmd.source_text or cmd.brief), passed=passed, attempts=draft.attempts,
        reason=reason.strip(": "), trimmed_words=draft.trimmed_words, trimmed_tokens=draft.trimmed_tokens,
    )
