"""Folding a chunk into the memory: the summariser is asked (structured output where offered);
a reply in the asked form is used as it is, a reply of plain prose is used as the summary, and
when no reply is usable the next state is made in code. It never blocks: every chunk yields a
new version of the memory."""

import math
import uuid
from dataclasses import dataclass

from services.common.db import Database
from services.common.llm import LlmProvider, Prompt
from services.common.llm.ask import ask
from services.common.llm.calls import LlmCallLog
from services.generator.cleaning import cleaned, scaffolding
from services.generator.config import GeneratorSettings
from services.generator.memory import SCHEMA, SCHEMA_NAME, Memory, Reading, folded_in_code, read_reply, updated
from services.generator.prompts import template
from services.generator.quality import is_refusal


@dataclass(frozen=True)
class Remembered:
    memory: Memory
    made_by: str  # "llm", "prose" or "code" (contracts.messages.ChunkSummarized)
    fallback: str = ""


async def remember(llm: LlmProvider, db: Database, settings: GeneratorSettings, memory: Memory, text: str, *,
                   job_id: uuid.UUID, user_id: uuid.UUID | None, chunk_index: int,
                   model: str | None) -> Remembered:
    words = settings.summary_words
    prompt = Prompt(
        system=template("summarizer_system").strip(),
        user=template("summarize").format(summary=memory.summary or "(nothing yet)",
                                          ledger=memory.ledger or "(empty)", text=text, summary_words=words),
        max_tokens=math.ceil(words * settings.tokens_per_word) + 256, model=settings.model_for("summary", model),
        headers={"x-longform-chunk": f"{job_id}:{chunk_index}:summary"}, schema=SCHEMA, schema_name=SCHEMA_NAME,
    )
    log = LlmCallLog(db, provider=llm.name, job_id=job_id, user_id=user_id, purpose="summarize",
                     chunk_index=chunk_index)
    readings: list[Reading] = []
    problems: list[str] = []
    scaffold = scaffolding(f"{prompt.system}\n{prompt.user}", text, memory.summary, copies_allowed=True)

    def judge(completion) -> str | None:
        """Whatever the form, what a model echoed of the prompt is cut (a small model echoes the
        prompt's own SUMMARY: line); the chunk's sentences stay, an extractive summary."""
        reading = read_reply(completion.text)
        if reading is not None:
            reading = Reading(cleaned(reading.summary, scaffold).text, reading.ledger, reading.as_asked)
        if reading is None or not reading.summary.split():
            problems.append("empty reply" if reading is None else "reply is all chatter or echo of the prompt")
        elif is_refusal(reading.summary):
            problems.append("refusal")
        else:
            readings.append(reading)
            return None
        return problems[-1]

    bound = math.ceil(words * 1.5)
    if await ask(llm, prompt, log, attempts=settings.summary_attempts, judge=judge):
        new = updated(memory, readings[-1], max_summary_words=bound, max_entries=settings.ledger_entries)
        if readings[-1].as_asked:
            return Remembered(new, "llm")
        return Remembered(new, "prose", "the reply had neither the JSON nor the SUMMARY/LEDGER form: its prose"
                                        " was used as the summary, the ledger kept as it was")
    last = f" (last: {problems[-1]})" if problems else " (provider errors)"
    return Remembered(folded_in_code(memory, text, max_summary_words=bound), "code",
                      f"no usable summary in {settings.summary_attempts} attempts{last}: the previous summary"
                      " and the chunk's first and last sentences were used instead")
