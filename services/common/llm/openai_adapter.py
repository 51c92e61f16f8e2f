"""OpenAI and any OpenAI-compatible server (vLLM, llama.cpp, Ollama) through the official SDK.
Streams, so time to first token is measured; usage comes from the final usage chunk. The SDK
makes the request and raises its errors; the server-sent events are read as plain JSON, because
building the SDK's models for every token-sized event cost more CPU than everything else a
chunk needs (bench/e2e_job.py)."""

import time
from dataclasses import dataclass, field

import openai
import orjson

from services.common.llm.base import GAVE_UP, Completion, Prompt, Watch
from services.common.llm.structured import FormatMemory, completed
from services.common.llm.tokens import TokenCounter


@dataclass
class _Reply:
    parts: list[str] = field(default_factory=list)
    finish: str | None = None
    usage: dict | None = None
    first_token_ms: int | None = None

    def take(self, event: dict, started: float, watch: Watch) -> bool:
        """Whether to read on (False: `watch` gave the reply up)."""
        self.usage = event.get("usage") or self.usage
        for choice in event.get("choices") or ():
            content = (choice.get("delta") or {}).get("content")
            if content:
                self.first_token_ms = self.first_token_ms or _ms_since(started)
                self.parts.append(content)
                if watch.hopeless(self.parts, content):
                    self.finish = GAVE_UP
                    return False
            self.finish = choice.get("finish_reason") or self.finish
        return True


class OpenAIProvider:
    def __init__(self, *, name: str, model: str, api_key: str, base_url: str | None, timeout: float) -> None:
        self.name = name
        self.default_model = model
        # The SDK's own retries are off: one retry policy (ours) decides, and audits every attempt.
        client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)
        # Taken now: the SDK imports its resources on first use, which would stall the first job.
        self.completions = client.chat.completions
        # OpenAI's newer models take max_completion_tokens; compatible servers know max_tokens.
        self.limit_field = "max_completion_tokens" if name == "openai" else "max_tokens"
        self.formats = FormatMemory(name)
        self.tokens = TokenCounter(base_url if name != "openai" else None)

    async def complete(self, prompt: Prompt) -> Completion:
        return await completed(self, prompt, "response_format", openai.APIError)

    async def stream(self, prompt: Prompt, model: str, structured: bool, started: float) -> Completion:
        reply, watch = _Reply(), Watch(prompt)
        shape = {"response_format": {"type": "json_schema", "json_schema": {
            "name": prompt.schema_name, "schema": prompt.schema, "strict": False}}} if structured else {}
        async with self.completions.with_streaming_response.create(
            model=model, stream=True, stream_options={"include_usage": True},
            messages=[{"role": "system", "content": prompt.system}, {"role": "user", "content": prompt.user}],
            extra_headers=prompt.headers, **{self.limit_field: prompt.max_tokens}, **shape,
        ) as response:
            async for line in response.iter_lines():
                if line.startswith("data:") and line[5:].strip() != "[DONE]" and not reply.take(
                        orjson.loads(line[5:]), started, watch):
                    break  # leaving the block closes the connection: the server stops writing
        usage = reply.usage or {}
        return Completion(
            text="".join(reply.parts), truncated=reply.finish in ("length", GAVE_UP), finish_reason=reply.finish or "unknown",
            model=model, input_tokens=usage.get("prompt_tokens"), output_tokens=usage.get("completion_tokens"),
            cached_input_tokens=(usage.get("prompt_tokens_details") or {}).get("cached_tokens"),
            latency_ms=_ms_since(started), first_token_ms=reply.first_token_ms,
            output_format="json_schema" if structured else "text",
        )


def _ms_since(started: float) -> int:
    return max(1, int((time.perf_counter() - started) * 1000))
