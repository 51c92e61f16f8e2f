"""Anthropic's Messages API through the official SDK, streamed for time to first token.
Structured output is a forced tool whose input schema is the asked schema; the reply's text is
then the tool input as JSON."""

import json
import time

import anthropic

from services.common.llm.base import GAVE_UP, Completion, Prompt, Watch
from services.common.llm.structured import FormatMemory, completed
from services.common.llm.tokens import TokenCounter

_DELTAS = ("text", "input_json")  # the stream's events that carry the reply


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, *, model: str, api_key: str, base_url: str | None, timeout: float) -> None:
        self.default_model = model
        client = anthropic.AsyncAnthropic(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)
        # Taken now: the SDK imports its resources on first use, which would stall the first job.
        self.messages = client.messages
        self.formats = FormatMemory(self.name)
        self.tokens = TokenCounter(None)  # a reply without usage: estimated

    async def complete(self, prompt: Prompt) -> Completion:
        return await completed(self, prompt, "tools", anthropic.APIError)

    async def stream(self, prompt: Prompt, model: str, structured: bool, started: float) -> Completion:
        first_token_ms, watch, parts = None, Watch(prompt), []
        tool = {"tools": [{"name": prompt.schema_name, "description": f"Give the {prompt.schema_name}.",
                           "input_schema": prompt.schema}],
                "tool_choice": {"type": "tool", "name": prompt.schema_name}} if structured else {}
        async with self.messages.stream(
            model=model, max_tokens=prompt.max_tokens, system=[_cached(prompt.system)],
            messages=[{"role": "user", "content": _content(prompt)}], extra_headers=prompt.headers, **tool,
        ) as stream:
            async for event in stream:
                if event.type in _DELTAS and first_token_ms is None:
                    first_token_ms = max(1, int((time.perf_counter() - started) * 1000))
                if event.type == "text":
                    parts.append(event.text)
                    if watch.hopeless(parts, event.text):
                        return _given_up(stream.current_message_snapshot, "".join(parts), model, started,
                                         first_token_ms)  # leaving the block closes the connection
            final = await stream.get_final_message()
        read, written = (final.usage.cache_read_input_tokens or 0), (final.usage.cache_creation_input_tokens or 0)
        return Completion(
            text=_text(final), truncated=final.stop_reason == "max_tokens",
            finish_reason=final.stop_reason or "unknown", model=model,
            # Anthropic's input_tokens leaves out what was read from or written to the cache: all
            # input is counted, the cached part of it apart (as OpenAI reports it).
            input_tokens=final.usage.input_tokens + read + written, output_tokens=final.usage.output_tokens,
            cached_input_tokens=read,
            latency_ms=max(1, int((time.perf_counter() - started) * 1000)), first_token_ms=first_token_ms,
            output_format="tool" if structured else "text",
        )


def _given_up(snapshot, text: str, model: str, started: float, first_token_ms: int | None) -> Completion:
    """A reply read only up to where the prompt's `give_up` said so. No output tokens are reported
    before the stream's end, so the caller (services/common/llm/tokens.py) counts both sides; the
    share of the input read from the cache is the stream start's."""
    return Completion(
        text=text, truncated=True, finish_reason=GAVE_UP, model=model, input_tokens=None, output_tokens=None,
        cached_input_tokens=snapshot.usage.cache_read_input_tokens or 0,
        latency_ms=max(1, int((time.perf_counter() - started) * 1000)), first_token_ms=first_token_ms,
    )


def _cached(text: str) -> dict:
    """A text block that ends a prefix the prompt cache may keep (Anthropic caches up to the last such mark)."""
    return {"type": "text", "text": text, "cache_control": {"type": "ephemeral"}}


def _content(prompt: Prompt) -> list[dict]:
    """The user message: its stable head (the same in every call of the job) marked for the cache."""
    head = prompt.stable_prefix
    if not head or not prompt.user.startswith(head) or head == prompt.user:
        return [{"type": "text", "text": prompt.user}]
    return [_cached(head), {"type": "text", "text": prompt.user[len(head):]}]


def _text(message) -> str:
    """The reply's text, or the forced tool's input as JSON."""
    for block in message.content:
        if block.type == "tool_use":
            return json.dumps(block.input)
    return "".join(block.text for block in message.content if block.type == "text")
