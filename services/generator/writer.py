"""Writes one chunk to its budget: measures every reply with the one word counter, continues
short or truncated replies from their last sentence, rejects unusable ones, and stores every
attempt (kept or discarded) as it happens."""

import asyncio
import math
from dataclasses import dataclass

from contracts.messages import WriteChunk
from contracts.wordcount import count_words
from services.common.llm import Completion, LlmError, LlmProvider, Prompt
from services.common.retry import retry_delay
from services.generator.config import GeneratorSettings
from services.generator.prompts import chunk_prompt, template
from services.generator.quality import joined, rejection_reason, trim_to_last_sentence
from services.generator.store import AttemptLog


@dataclass
class ChunkDraft:
    text: str = ""
    attempts: int = 0
    failures: int = 0
    rounds: int = 0
    last_error: str = ""

    @property
    def words(self) -> int:
        return count_words(self.text)


class ChunkWriter:
    def __init__(self, llm: LlmProvider, attempts: AttemptLog, settings: GeneratorSettings) -> None:
        self.llm = llm
        self.log = attempts
        self.settings = settings

    async def write(self, cmd: WriteChunk, tail: str, draft: ChunkDraft) -> ChunkDraft:
        s = self.settings
        while (draft.words < cmd.target_words and draft.failures < s.max_failures_per_chunk
               and draft.rounds < s.max_rounds_per_chunk):
            draft.attempts += 1
            prompt = self._prompt(cmd, tail, draft)
            try:
                completion = await self.llm.complete(prompt)
            except LlmError as err:
                await self._failed(draft, prompt, err)
                if not err.retryable:
                    break
                await asyncio.sleep(retry_delay(draft.failures, err.retry_after))
                continue
            await self._judge(draft, prompt, completion, tail)
        return draft

    def _prompt(self, cmd: WriteChunk, tail: str, draft: ChunkDraft) -> Prompt:
        remaining = max(cmd.target_words - draft.words, min(self.settings.min_request_words, cmd.target_words))
        user = chunk_prompt(cmd, tail=tail, written=draft.text, remaining=remaining, tail_words=self.settings.tail_words)
        return Prompt(
            system=template("system").strip(), user=user, model=cmd.model,
            max_tokens=math.ceil(remaining * self.settings.tokens_per_word) + 64,
            headers={"x-longform-chunk": f"{self.log.job_id}:{cmd.chunk_index}"},
        )

    async def _failed(self, draft: ChunkDraft, prompt: Prompt, err: LlmError) -> None:
        draft.failures += 1
        draft.last_error = f"provider error {err}"
        await self.log.record(draft.attempts, prompt, None, kept=False, error=str(err), latency_ms=err.latency_ms)

    async def _judge(self, draft: ChunkDraft, prompt: Prompt, completion: Completion, tail: str) -> None:
        reason = rejection_reason(completion.text, prompt.user, f"{tail}\n\n{draft.text}")
        if reason:
            draft.failures += 1
            draft.last_error = f"provider returned an unusable reply ({reason})"
            await self.log.record(draft.attempts, prompt, completion, kept=False, error=reason)
            return
        piece = trim_to_last_sentence(completion.text) if completion.truncated else completion.text
        draft.text = joined(draft.text, piece)
        draft.rounds += 1
        purpose = "continuation" if draft.rounds > 1 else "initial"
        await self.log.record(draft.attempts, prompt, completion, kept=True, error=None, purpose=purpose)
