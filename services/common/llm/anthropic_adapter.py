"""Anthropic's Messages API through the official SDK, streamed for time to first token."""

import time

import anthropic

from services.common.llm.base import Completion, Prompt
from services.common.llm.errors import classified


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, *, model: str, api_key: str, base_url: str | None, timeout: float) -> None:
        self.default_model = model
        client = anthropic.AsyncAnthropic(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)
        # Taken now: the SDK imports its resources on first use, which would stall the first job.
        self.messages = client.messages

    async def complete(self, prompt: Prompt) -> Completion:
        return await classified(lambda started: self._stream(prompt, started), anthropic.APIError)

    async def _stream(self, prompt: Prompt, started: float) -> Completion:
        model = prompt.model or self.default_model
        parts: list[str] = []
        first_token_ms = None
        async with self.messages.stream(
            model=model, max_tokens=prompt.max_tokens, system=prompt.system,
            messages=[{"role": "user", "content": prompt.user}], extra_headers=prompt.headers,
        ) as stream:
            async for text in stream.text_stream:
                first_token_ms = first_token_ms or max(1, int((time.perf_counter() - started) * 1000))
                parts.append(text)
            final = await stream.get_final_message()
        return Completion(
            text="".join(parts), truncated=final.stop_reason == "max_tokens",
            finish_reason=final.stop_reason or "unknown", model=model,
            input_tokens=final.usage.input_tokens, output_tokens=final.usage.output_tokens,
            latency_ms=max(1, int((time.perf_counter() - started) * 1000)), first_token_ms=first_token_ms,
        )
