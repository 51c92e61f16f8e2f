"""`passage.note`: one passage of an analysis's source gets notes (claims, names, quotes worth
keeping). Asked of the LLM with the one retry policy, every attempt stored in generator.llm_calls
and announced by `llm.call` (purpose `note`); the reply is cleaned (services/generator/cleaning.py)
and bounded (services/generator/notes.py). A passage with no usable reply is noted in code, and
the `passage.noted` event says what that replaced: noting never blocks the job. The notes and
`passage.noted` commit together, and a passage with notes is never sent to the LLM again."""

import math
import uuid

from contracts.envelope import Envelope, derived_id
from contracts.messages import NotePassage, PassageNoted, WriteChunk
from contracts.wordcount import count_words
from services.common.db import Tx
from services.common.llm import Prompt
from services.common.llm.ask import ask
from services.common.llm.calls import LlmCallLog
from services.common.logs import bind_job
from services.generator import store
from services.generator.cleaning import cleaned, scaffolding
from services.generator.notes import notes_block, notes_in_code, read_notes
from services.generator.prompts import template


async def note_passage(envelope: Envelope, ports) -> None:
    cmd = envelope.payload(NotePassage)
    job_id, user_id = envelope.job_id, envelope.user_id
    bind_job(job_id)
    async with ports.db.transaction(job_id=job_id, user_id=user_id) as tx:
        done = await _noted(tx, job_id, cmd.passage)
        stopped = done is None and await store.stopped(tx, job_id, cmd.epoch)
    if stopped:
        return  # cancelled or deleted: a resume sends the passage again
    made = (done["notes"], done["made_by"], "") if done else await _notes(cmd, envelope, ports)
    async with ports.db.transaction(job_id=job_id, user_id=user_id) as tx:
        if done is None:
            await _store(tx, job_id, cmd.passage, *made)
        if await tx.claim(envelope.event_id):
            tx.emit(Envelope.wrap(
                PassageNoted(passage=cmd.passage, notes_words=count_words(made[0]), made_by=made[1], fallback=made[2]),
                service=store.SERVICE, job_id=job_id, user_id=user_id,
                event_id=derived_id(envelope.event_id, PassageNoted.TYPE)))


async def _notes(cmd: NotePassage, envelope: Envelope, ports) -> tuple[str, str, str]:
    """(notes, made_by, fallback)."""
    s = ports.settings
    prompt = Prompt(
        system=template("note_system").strip(), model=s.model_for("summary", cmd.model),
        user=template("note").format(title=cmd.title, instructions=cmd.instructions, passage=cmd.passage,
                                     total=cmd.passages_total, text=cmd.text, words=s.note_words),
        max_tokens=math.ceil(s.note_words * s.tokens_per_word) + 64,
        headers={"x-longform-chunk": f"{envelope.job_id}:passage:{cmd.passage}"},
    )
    log = LlmCallLog(ports.db, provider=ports.llm.name, job_id=envelope.job_id, user_id=envelope.user_id,
                     purpose="note", passage=cmd.passage)
    scaffold = scaffolding(f"{prompt.system}\n{prompt.user}", cmd.text, cmd.title, cmd.instructions,
                           copies_allowed=True)
    kept: list[str] = []
    problems: list[str] = []

    def judge(completion) -> str | None:
        notes = read_notes(cleaned(completion.text, scaffold).text, s.note_words, s.note_lines)
        if notes is None:
            problems.append("no usable notes (empty, a refusal, or only chatter and echo of the prompt)")
            return problems[-1]
        kept.append(notes)
        return None

    async def keep(tx: Tx) -> None:  # the kept call and its notes commit together: a crash between
        await _store(tx, envelope.job_id, cmd.passage, kept[-1], "llm", "")  # them asks no passage twice

    if await ask(ports.llm, prompt, log, attempts=s.note_attempts, judge=judge, keep=keep):
        return kept[-1], "llm", ""
    last = problems[-1] if problems else "provider errors"
    return (notes_in_code(cmd.text, s.note_words), "code",
            f"no usable notes in {s.note_attempts} attempts ({last}): the passage's first and last sentences and"
            " its names were used instead")


async def _noted(tx: Tx, job_id: uuid.UUID, passage: int):
    return await tx.fetchrow(
        "SELECT notes, made_by FROM generator.passage_notes WHERE job_id = $1 AND passage = $2", job_id, passage)


async def _store(tx: Tx, job_id: uuid.UUID, passage: int, notes: str, made_by: str, fallback: str) -> None:
    await tx.execute(
        "INSERT INTO generator.passage_notes (job_id, passage, notes, words, made_by, fallback)"
        " VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (job_id, passage) DO NOTHING",
        job_id, passage, notes, count_words(notes), made_by, fallback)


async def with_notes(tx: Tx, job_id: uuid.UUID, cmd: WriteChunk, budget_words: int) -> WriteChunk:
    """An analysis's chunk is written from the notes of the passages it covers, bounded
    (services/generator/notes.py), in the place a rewrite's passage has in the prompt."""
    if cmd.mode != "analyze" or cmd.passage_first is None:
        return cmd
    first, last = cmd.passage_first, cmd.passage_last or cmd.passage_first
    chars = max(120, budget_words * 8 // (last - first + 1))  # each passage's share, cut in the database
    rows = await tx.fetch(
        "SELECT passage, left(notes, $4) AS notes FROM generator.passage_notes"
        " WHERE job_id = $1 AND passage BETWEEN $2 AND $3 ORDER BY passage", job_id, first, last, chars)
    block = notes_block([(r["passage"], r["notes"]) for r in rows], budget_words)
    return cmd.model_copy(update={"source_text": block or None})
