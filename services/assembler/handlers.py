"""AssembleDocument in; DocumentAssembled and then JobCompleted, ExtendJob or JobFailed out."""

from dataclasses import dataclass

from contracts.envelope import Envelope, derived_id
from contracts.messages import AssembleDocument, DocumentAssembled, ExtendJob, JobCompleted, JobFailed, Message
from contracts.wordcount import WordTally
from services.assembler import store
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

        def emit(message: Message) -> None:
            tx.emit(Envelope.wrap(message, service=SERVICE, job_id=job_id, user_id=envelope.user_id,
                                  event_id=derived_id(envelope.event_id, message.TYPE)))

        emit(DocumentAssembled(words=words, chunks=chunks, target_words=cmd.target_words, round=cmd.round))
        emit(_verdict(cmd, words, ports.settings.max_extension_rounds))


async def _count(tx: Tx, envelope: Envelope, slice_chars: int) -> int:
    tally = WordTally()
    async for piece in store.slices(tx, envelope.job_id, slice_chars):
        tally.feed(piece)
    return tally.total


def _verdict(cmd: AssembleDocument, words: int, max_rounds: int) -> Message:
    if words >= cmd.target_words:
        return JobCompleted(words=words, target_words=cmd.target_words)
    if cmd.round > max_rounds:
        return JobFailed(words=words, reason=(
            f"document still short after {max_rounds} extension rounds: "
            f"{words:,} of {cmd.target_words:,} words written"
        ))
    return ExtendJob(missing_words=cmd.target_words - words, words=words, round=cmd.round)
