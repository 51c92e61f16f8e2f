"""The provider adapters through the official SDKs against the fake server: usage from the
provider's own fields, truncation flags, errors classified for the one retry policy."""

import pytest

from services.common.llm.anthropic_adapter import AnthropicProvider
from services.common.llm.base import LlmError, Prompt
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


async def test_a_rate_limit_is_retryable_after_the_providers_retry_after(provider) -> None:
    with pytest.raises(LlmError) as raised:
        await provider.complete(_prompt(model="fake/rate_limit:retry_after=3"))
    assert raised.value.kind == "rate_limited" and raised.value.retryable and raised.value.retry_after == 3


async def test_a_server_error_is_retryable(provider) -> None:
    with pytest.raises(LlmError) as raised:
        await provider.complete(_prompt(model="fake/server_error"))
    assert raised.value.kind == "server_error" and raised.value.retryable

