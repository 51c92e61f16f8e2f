"""The provider adapters through the official SDKs against the fake server: usage from the
provider's own fields, truncation flags, errors classified for the one retry policy."""

import json
import uuid
from dataclasses import replace

import pytest

from services.common.llm.anthropic_adapter import AnthropicProvider
from services.common.llm.base import GAVE_UP, LlmError, Prompt
from services.common.llm.openai_adapter import OpenAIProvider


@pytest.fixture(params=["openai", "anthropic"])
def provider(request, fake_llm_server):
    if request.param == "openai":
        return OpenAIProvider(name="openai-compatible", model="fake-writer", api_key="k",
                              base_url=fake_llm_server.openai_base_url, timeout=10)
    return AnthropicProvider(model="fake-claude", api_key="k", base_url=fake_llm_server.anthropic_base_url,
                             timeout=10)


def _prompt(words: int = 300, max_tokens: int = 2000, model: str | None = None) -> Prompt:
    return Prompt(system="You write.", user=f"Write {words} words.", max_tokens=max_tokens, model=model)


async def test_a_reply_carries_its_text_usage_and_timings(provider) -> None:
    completion = await provider.complete(_prompt())
    assert len(completion.text.split()) == 300 and not completion.truncated
    assert completion.input_tokens > 0 and completion.output_tokens >= 300
    assert completion.latency_ms >= completion.first_token_ms > 0


async def test_a_reply_cut_by_max_tokens_is_flagged_truncated(provider) -> None:
    completion = await provider.complete(_prompt(max_tokens=100))
    assert completion.truncated and completion.finish_reason in ("length", "max_tokens")
    assert len(completion.text.split()) < 300


async def test_a_reply_given_up_while_it_streams_is_cut_there_and_the_stream_closed(provider, fake_llm_server) -> None:
    """The prompt's `give_up` sees the reply so far at growing lengths; once it says so, the
    adapter stops reading, the connection closes and the provider writes no more of it."""
    seen: list[int] = []

    def give_up(so_far: str) -> bool:
        seen.append(len(so_far))
        return len(so_far.split()) >= 100

    marker = uuid.uuid4().hex  # finds this request in the fake's log
    prompt = replace(_prompt(words=600, max_tokens=4000, model="fake/slow:delay=3"), give_up=give_up,
                     user=f"Write 600 words. {marker}")
    completion = await provider.complete(prompt)
    assert completion.finish_reason == GAVE_UP and completion.truncated
    assert 100 <= len(completion.text.split()) < 300, len(completion.text.split())
    assert seen[0] >= 400 and all(b >= 2 * a for a, b in zip(seen, seen[1:])), seen  # looked at, not per token
    assert completion.output_tokens > 0 and completion.input_tokens > 0  # counted, as the provider stopped early
    control = fake_llm_server.control()
    try:
        [request] = [r for r in control.requests() if marker in json.dumps(r["messages"])]
    finally:
        control.close()
    assert request["events_sent"] < request["events_total"] / 2, request


async def test_a_reply_nobody_gives_up_is_read_whole(provider) -> None:
    completion = await provider.complete(replace(_prompt(words=600, max_tokens=4000), give_up=lambda so_far: False))
    assert completion.finish_reason != GAVE_UP and not completion.truncated and len(completion.text.split()) == 600


async def test_a_rate_limit_is_retryable_after_the_providers_retry_after(provider) -> None:
    with pytest.raises(LlmError) as raised:
        await provider.complete(_prompt(model="fake/rate_limit:retry_after=3"))
    assert raised.value.kind == "rate_limited" and raised.value.retryable and raised.value.retry_after == 3


async def test_a_server_error_is_retryable(provider) -> None:
    with pytest.raises(LlmError) as raised:
        await provider.complete(_prompt(model="fake/server_error"))
    assert raised.value.kind == "server_error" and raised.value.retryable



def _job_prompt(system: str, head: str) -> Prompt:
    return Prompt(system=system, user=f"{head}\nBrief for this part: a bridge.\nWrite about 50 words.",
                  max_tokens=400, stable_prefix=head)


async def test_a_repeated_prefix_is_read_from_the_prompt_cache_and_counted_within_the_input(provider) -> None:
    """The first call writes the prefix to the provider's cache; the second, with the same system
    prompt and stable head, reads it: the cached tokens are reported apart, within all the input."""
    unique = uuid.uuid4().hex  # the fake's cache is shared by the module's tests
    system, head = f"You write, {unique}.", f"Document title: Rivers {unique}\nWhat the user asked for: a guide."
    first = await provider.complete(_job_prompt(system, head))
    second = await provider.complete(_job_prompt(system, head))
    assert not first.cached_input_tokens
    assert 0 < second.cached_input_tokens < second.input_tokens
    assert second.input_tokens == first.input_tokens  # Anthropic's cached tokens are added back to its input


async def test_the_anthropic_request_marks_the_system_prompt_and_the_stable_head_for_the_cache(
        fake_llm_server) -> None:
    provider = AnthropicProvider(model="fake-claude", api_key="k", base_url=fake_llm_server.anthropic_base_url,
                                 timeout=10)
    unique = uuid.uuid4().hex
    head = f"Document title: Rivers {unique}\nWhat the user asked for: a guide."
    await provider.complete(_job_prompt("You write.", head))
    control = fake_llm_server.control()
    [sent] = [r for r in control.requests() if unique in json.dumps(r["messages"])]
    control.close()
    [message] = sent["messages"]
    assert message["content"][0] == {"type": "text", "text": head, "cache_control": {"type": "ephemeral"}}
    assert "cache_control" not in message["content"][1] and message["content"][1]["text"].startswith("\nBrief")
    alone = Prompt(system=f"You write, {unique}.", user="Write about 20 words.", max_tokens=100)
    await provider.complete(alone)
    assert (await provider.complete(alone)).cached_input_tokens > 0  # the system prompt alone is marked too
