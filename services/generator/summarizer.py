"""After each chunk: ask the summariser to fold the new text into the rolling summary and ledger."""

import math
import uuid

from services.common.db import Database
from services.common.llm import LlmProvider, Prompt
from services.common.llm.ask import ask
from services.common.llm.calls import LlmCallLog
from services.generator.config import GeneratorSettings
from services.generator.memory import Memory, updated
from services.generator.prompts import template


async def remember(llm: LlmProvider, db: Database, settings: GeneratorSettings, memory: Memory, text: str, *,
                   job_id: uuid.UUID, user_id: uuid.UUID | None, chunk_index: int) -> Memory | None:
    """The new memory, or None if the summariser gave nothing usable (the old memory stands)."""
    words = settings.summary_words
    prompt = Prompt(
        system=template("summarizer_system").strip(),
        user=template("summarize").format(summary=memory.summary or "(nothing yet)",
                                          ledger=memory.ledger or "(empty)", text=text, summary_words=words),
        max_tokens=math.ceil(words * 2 * settings.tokens_per_word) + 256, model=settings.model_for("summary"),
        headers={"x-longform-chunk": f"{job_id}:{chunk_index}:summary"},
    )
    log = LlmCallLog(db, provider=llm.name, job_id=job_id, user_id=user_id, purpose="summarize",
                     chunk_index=chunk_index)
    results: list[Memory] = []

    def judge(completion) -> str | None:
        new = updated(memory, completion.text, max_summary_words=math.ceil(words * 1.5),
                      max_entries=settings.ledger_entries)
        if new is None:
            return "reply has no SUMMARY section"
        results.append(new)
        return None

    completion = await ask(llm, prompt, log, attempts=settings.summary_attempts, judge=judge)
    return results[-1] if completion else None
