"""AssembleDocument in; DocumentAssembled and then CompleteJob (the planner completes the job), ExtendJob or
JobFailed out."""

from dataclasses import dataclass

from contracts.envelope import Envelope, derived_id
from contracts.messages import AssembleDocument, CompleteJob, DocumentAssembled, ExtendJob, JobFailed, Message
from contracts.wordcount import WordTally, count_words
from services.assembler import shape, store
from services.assembler.config import AssemblerSettings
from services.common.db import Database, Tx

SERVICE = "assembler"


@dataclass(frozen=True)
class Ports:
    db: Database
    settings: AssemblerSettings


async def assemble_document(envelope: Envelope, ports: Ports) -> None:
    cmd = envelope.payload(AssembleDocument)
    job_id = envelope.job_id
    async with ports.db.transaction(job_id=job_id, user_id=envelope.user_id) as tx:
        if not await tx.claim(envelope.event_id):
            return
        chunks = await store.assemble(tx, job_id, cmd.round)
        words = await _count(tx, envelope, ports.settings.count_slice_chars)
        await store.record_count(tx, job_id, words)
        placed = await shape.place_headings(tx, job_id) if cmd.headings else []
        heading_words = sum(count_words(h["title"]) for h in placed)
        await shape.record_headings(tx, job_id, placed, heading_words)

        def emit(message: Message) -> None:
            tx.emit(Envelope.wrap(message, service=SERVICE, job_id=job_id, user_id=envelope.user_id,
                                  event_id=derived_id(envelope.event_id, message.TYPE)))

        emit(DocumentAssembled(words=words, chunks=chunks, target_words=cmd.target_words, round=cmd.round,
                               heading_count=len(placed), heading_words=heading_words))
        emit(_verdict(cmd, words, heading_words, ports.settings.max_extension_rounds))


async def _count(tx: Tx, envelope: Envelope, slice_chars: int) -> int:
    tally = WordTally()
    async for piece in store.slices(tx, envelope.job_id, slice_chars):
        tally.feed(piece)
    return tally.total


def _verdict(cmd: AssembleDocument, words: int, heading_words: int, max_rounds: int) -> Message:
    """The target counts body words only: headings come on top of it."""
    if words >= cmd.target_words:
        return CompleteJob(words=words, target_words=cmd.target_words, heading_words=heading_words)
    if cmd.round > max_rounds:
        return JobFailed(words=words, reason=(
            f"document still short after {max_rounds} extension rounds: "
            f"{words:,} of {cmd.target_words:,} words written"
        ))
    return ExtendJob(missing_words=cmd.target_words - words, words=words, round=cmd.round)
