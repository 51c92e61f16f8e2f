"""The generator's tables: generator.attempts (every LLM call) and generator.chunks (accepted text)."""

import uuid

from contracts.envelope import Envelope
from contracts.messages import LlmCalled
from contracts.wordcount import count_words
from services.common.db import Database, Tx
from services.common.llm import Completion, Prompt

SERVICE = "generator"


def _summary(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class AttemptLog:
    """Stores each attempt of one chunk and emits its `llm.call` audit event in the same transaction."""

    def __init__(self, db: Database, job_id: uuid.UUID, user_id: uuid.UUID | None, chunk_index: int,
                 provider: str) -> None:
        self.db = db
        self.job_id = job_id
        self.user_id = user_id
        self.chunk_index = chunk_index
        self.provider = provider

    async def record(self, attempt: int, prompt: Prompt, completion: Completion | None, *, kept: bool,
                     error: str | None, latency_ms: int = 0, purpose: str = "initial") -> None:
        c = completion
        model = c.model if c else (prompt.model or "")
        async with self.db.transaction(job_id=self.job_id, user_id=self.user_id) as tx:
            attempt_id = await tx.fetchval(
                "INSERT INTO generator.attempts (job_id, chunk_index, attempt, purpose, provider, model, prompt,"
                " response, words, finish_reason, input_tokens, output_tokens, latency_ms, kept, error)"
                " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15) RETURNING id",
                self.job_id, self.chunk_index, attempt, purpose, self.provider, model, prompt.user,
                c.text if c else "", count_words(c.text) if c else 0, c.finish_reason if c else None,
                c.input_tokens if c else None, c.output_tokens if c else None,
                c.latency_ms if c else latency_ms, kept, error,
            )
            tx.emit(self._event(attempt_id, attempt, prompt, c, kept, error, latency_ms))

    def _event(self, attempt_id: int, attempt: int, prompt: Prompt, c: Completion | None, kept: bool,
               error: str | None, latency_ms: int) -> Envelope:
        attributes = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": self.provider,
            "gen_ai.request.model": prompt.model or (c.model if c else None),
            "gen_ai.request.max_tokens": prompt.max_tokens,
            "gen_ai.usage.input_tokens": c.input_tokens if c else None,
            "gen_ai.usage.output_tokens": c.output_tokens if c else None,
            "gen_ai.response.finish_reasons": c.finish_reason if c else None,
            "longform.latency_ms": c.latency_ms if c else latency_ms,
            "longform.time_to_first_token_ms": c.first_token_ms if c else None,
            "longform.attempt": attempt,
            "longform.chunk_index": self.chunk_index,
            "longform.kept": kept,
            "longform.output_words": count_words(c.text) if c else 0,
            "longform.prompt_summary": _summary(prompt.user),
            "longform.response_summary": _summary(c.text) if c else "",
            "longform.stored_as": f"generator.attempts/{attempt_id}",
            "error.type": error,
        }
        return Envelope.wrap(LlmCalled(attributes=attributes), service=SERVICE, job_id=self.job_id,
                             user_id=self.user_id)


async def accepted_chunk(tx: Tx, job_id: uuid.UUID, chunk_index: int):
    return await tx.fetchrow(
        "SELECT words, target_words FROM generator.chunks WHERE job_id = $1 AND chunk_index = $2",
        job_id, chunk_index,
    )


async def chunk_text(tx: Tx, job_id: uuid.UUID, chunk_index: int | None) -> str:
    if chunk_index is None:
        return ""
    text = await tx.fetchval(
        "SELECT right(text, 4000) FROM generator.chunks WHERE job_id = $1 AND chunk_index = $2",
        job_id, chunk_index,
    )
    return text or ""


async def attempts_made(tx: Tx, job_id: uuid.UUID, chunk_index: int) -> int:
    return await tx.fetchval(
        "SELECT coalesce(max(attempt), 0) FROM generator.attempts WHERE job_id = $1 AND chunk_index = $2",
        job_id, chunk_index,
    )


async def accept_chunk(tx: Tx, job_id: uuid.UUID, chunk_index: int, text: str, words: int, target: int) -> None:
    await tx.execute(
        "INSERT INTO generator.chunks (job_id, chunk_index, text, words, target_words) VALUES ($1,$2,$3,$4,$5)"
        " ON CONFLICT (job_id, chunk_index) DO NOTHING",
        job_id, chunk_index, text, words, target,
    )
