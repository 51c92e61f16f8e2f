"""OpenAI and any OpenAI-compatible server (vLLM, llama.cpp, Ollama) through the official SDK.
Streams, so time to first token is measured; usage comes from the final usage chunk."""

import time

import openai

from services.common.llm.base import Completion, LlmError, Prompt
from services.common.llm.errors import classify


class OpenAIProvider:
    def __init__(self, *, name: str, model: str, api_key: str, base_url: str | None, timeout: float) -> None:
        self.name = name
        self.default_model = model
        # The SDK's own retries are off: one retry policy (ours) decides, and audits every attempt.
        self.client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)
        # OpenAI's newer models take max_completion_tokens; compatible servers know max_tokens.
        self.limit_field = "max_completion_tokens" if name == "openai" else "max_tokens"

    async def complete(self, prompt: Prompt) -> Completion:
        started = time.perf_counter()
        try:
            return await self._stream(prompt, started)
        except openai.APIError as exc:
            raise classify(exc, started) from exc

    async def _stream(self, prompt: Prompt, started: float) -> Completion:
        model = prompt.model or self.default_model
        stream = await self.client.chat.completions.create(
            model=model, stream=True, stream_options={"include_usage": True},
            messages=[{"role": "system", "content": prompt.system}, {"role": "user", "content": prompt.user}],
            extra_headers=prompt.headers, **{self.limit_field: prompt.max_tokens},
        )
        parts: list[str] = []
        first_token_ms = finish = usage = None
        async for chunk in stream:
            usage = chunk.usage or usage
            for choice in chunk.choices:
                if choice.delta and choice.delta.content:
                    first_token_ms = first_token_ms or _ms_since(started)
                    parts.append(choice.delta.content)
                finish = choice.finish_reason or finish
        return Completion(
            text="".join(parts), truncated=finish == "length", finish_reason=finish or "unknown",
            model=model, input_tokens=usage.prompt_tokens if usage else None,
            output_tokens=usage.completion_tokens if usage else None,
            latency_ms=_ms_since(started), first_token_ms=first_token_ms,
        )


def _ms_since(started: float) -> int:
    return max(1, int((time.perf_counter() - started) * 1000))


__all__ = ["OpenAIProvider", "LlmError"]
