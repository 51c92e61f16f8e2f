"""Every LLM call a service makes, kept or discarded: stored in `<service>.llm_calls` (the full
prompt and reply) and announced by an `llm.call` audit event in the same transaction, with the
OpenTelemetry GenAI attribute names and a link to the stored row."""

import uuid
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from contracts.envelope import Envelope, Message
from contracts.messages import ErrorRaised, LlmCalled
from contracts.wordcount import count_words
from services.common.db import Database, Tx
from services.common.llm.base import Completion, Prompt
from services.common.logs import bind_job
from services.common.ops import count_llm_call


CACHED_INPUT = "gen_ai.usage.cache_read.input_tokens"  # of the input tokens, read from the provider's prompt cache


def summary(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True)
class Call:
    attempt: int
    prompt: Prompt
    completion: Completion | None
    kept: bool
    error: str | None = None
    latency_ms: int = 0
    notes: dict = field(default_factory=dict)  # more attributes of the event: what was cut, a fallback


class LlmCallLog:
    def __init__(self, db: Database, *, provider: str, job_id: uuid.UUID, user_id: uuid.UUID | None,
                 purpose: str, chunk_index: int | None = None, passage: int | None = None,
                 stopped: Callable[[Tx], Awaitable[bool]] | None = None) -> None:
        self.db = db
        # Asked in each record's own transaction (no round trip of its own): whether the job was
        # cancelled or deleted meanwhile, so the caller makes no further call. Read as `self.stopped`.
        self._stop_check = stopped
        self.stopped = False
        self.provider = provider
        self.job_id = job_id
        self.user_id = user_id
        self.purpose = purpose
        self.chunk_index = chunk_index
        self.passage = passage  # analyze: the source passage a `note` call is about
        bind_job(job_id)  # this task's log lines carry the job id

    async def record(self, call: Call, *also: Message, with_it: Callable[[Tx], Awaitable[None]] | None = None) -> None:
        """Stores the call and emits its `llm.call` (and `error`) event, and the events in `also`,
        in one transaction; `with_it` writes what the call produced in that same transaction, so a
        kept call and its result are stored together or not at all."""
        c, p = call.completion, call.prompt
        words = count_words(c.text) if c else 0
        async with self.db.transaction(job_id=self.job_id, user_id=self.user_id) as tx:
            call_id = await tx.fetchval(
                f"INSERT INTO {self.db.schema}.llm_calls (job_id, purpose, chunk_index, attempt, provider, model,"
                " system_prompt, prompt, response, words, finish_reason, input_tokens, output_tokens, latency_ms,"
                " first_token_ms, kept, error) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)"
                " RETURNING id",
                self.job_id, self.purpose, self.chunk_index, call.attempt, self.provider,
                c.model if c else (p.model or ""), p.system, p.user, c.text if c else "",
                words, c.finish_reason if c else None, c.input_tokens if c else None,
                c.output_tokens if c else None, c.latency_ms if c else call.latency_ms,
                c.first_token_ms if c else None, call.kept, call.error,
            )
            tx.emit(self._envelope(LlmCalled(attributes=self._attributes(call, call_id, words))))
            if call.error and c is None:
                tx.emit(self._envelope(ErrorRaised(
                    message=call.error, context=f"{self.purpose} call {call.attempt} ({self.provider})",
                )))
            for message in also:
                tx.emit(self._envelope(message))
            if with_it is not None:
                await with_it(tx)
            if self._stop_check is not None:
                self.stopped = await self._stop_check(tx)
        count_llm_call(self.provider, self.purpose, _outcome(call), c.latency_ms if c else call.latency_ms,
                       c.input_tokens if c else None, c.output_tokens if c else None)

    def _envelope(self, message) -> Envelope:
        return Envelope.wrap(message, service=self.db.service, job_id=self.job_id, user_id=self.user_id)

    def _attributes(self, call: Call, call_id: int, words: int) -> dict:
        c = call.completion
        return {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": self.provider,
            "gen_ai.request.model": call.prompt.model or (c.model if c else None),
            "gen_ai.request.max_tokens": call.prompt.max_tokens,
            "gen_ai.response.model": c.model if c else None,
            "gen_ai.usage.input_tokens": c.input_tokens if c else None,
            "gen_ai.usage.output_tokens": c.output_tokens if c else None,
            CACHED_INPUT: c.cached_input_tokens if c else None,
            "gen_ai.response.finish_reasons": c.finish_reason if c else None,
            "longform.purpose": self.purpose,
            "longform.latency_ms": c.latency_ms if c else call.latency_ms,
            "longform.time_to_first_token_ms": c.first_token_ms if c else None,
            "longform.attempt": call.attempt,
            "longform.chunk_index": self.chunk_index,
            "longform.kept": call.kept,
            "longform.output_words": words,
            "longform.prompt_summary": summary(call.prompt.user),
            "longform.response_summary": summary(c.text) if c else "",
            "longform.stored_as": f"{self.db.schema}.llm_calls/{call_id}",
            "service.instance.id": self.db.instance,  # OpenTelemetry's name: which replica made the call
            "longform.output_format": c.output_format if c else _asked_format(call.prompt),
            "longform.usage_estimated": c.usage_estimated if c else None,
            "error.type": call.error,
            **({"longform.passage": self.passage} if self.passage is not None else {}),
            **call.notes,
        }


def _asked_format(prompt: Prompt) -> str:
    return "structured" if prompt.schema else "text"


def _outcome(call: Call) -> str:
    if call.completion is None:
        return "error"
    return "kept" if call.kept else "discarded"
