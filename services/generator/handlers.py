"""The generator's handler: WriteChunk in, ChunkProcessed out."""

from dataclasses import dataclass

from contracts.envelope import Envelope, derived_id
from contracts.messages import ChunkProcessed, WriteChunk
from services.common.db import Database
from services.common.llm import LlmProvider
from services.generator import store
from services.generator.config import GeneratorSettings
from services.generator.writer import ChunkDraft, ChunkWriter


@dataclass(frozen=True)
class Ports:
    db: Database
    llm: LlmProvider
    settings: GeneratorSettings


async def write_chunk(envelope: Envelope, ports: Ports) -> None:
    cmd = envelope.payload(WriteChunk)
    job_id, user_id = envelope.job_id, envelope.user_id
    async with ports.db.transaction(job_id=job_id, user_id=user_id) as tx:
        done = await store.accepted_chunk(tx, job_id, cmd.chunk_index)
        tail = await store.chunk_text(tx, job_id, cmd.previous_chunk_index)
        draft = ChunkDraft(attempts=await store.attempts_made(tx, job_id, cmd.chunk_index))
    if done is None:  # a chunk written before is never sent to the LLM again
        log = store.AttemptLog(ports.db, job_id, user_id, cmd.chunk_index, ports.llm.name)
        draft = await ChunkWriter(ports.llm, log, ports.settings).write(cmd, tail, draft)
    async with ports.db.transaction(job_id=job_id, user_id=user_id) as tx:
        if not await tx.claim(envelope.event_id):
            return
        if done is None and draft.text:
            await store.accept_chunk(tx, job_id, cmd.chunk_index, draft.text, draft.words, cmd.target_words)
        words = done["words"] if done else draft.words
        tx.emit(Envelope.wrap(
            _outcome(cmd, words, draft), service=store.SERVICE, job_id=job_id, user_id=user_id,
            event_id=derived_id(envelope.event_id, ChunkProcessed.TYPE),
        ))


def _outcome(cmd: WriteChunk, words: int, draft: ChunkDraft) -> ChunkProcessed:
    passed = words >= cmd.target_words
    if passed:
        reason = ""
    elif words:
        reason = f"short after {draft.rounds} rounds ({words} of {cmd.target_words} words): {draft.last_error}"
    else:
        reason = f"{draft.last_error} ({draft.failures} failed attempts)"
    return ChunkProcessed(
        chunk_index=cmd.chunk_index, target_words=cmd.target_words, output_words=words,
        input_words=len(cmd.brief.split()), passed=passed, attempts=draft.attempts, reason=reason.strip(": "),
    )
