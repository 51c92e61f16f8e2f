"""Builds the configured provider. Each SDK is imported only when its provider is chosen: they
define thousands of models at import (anthropic alone takes seconds of CPU)."""

from services.common.config import LlmSettings
from services.common.db import Database
from services.common.llm.base import LlmProvider
from services.common.llm.ratelimit import RateLimited


def provider_from_settings(settings: LlmSettings, db: Database) -> LlmProvider:
    """`db` holds the rate limit every process shares, when one is set."""
    provider = _provider(settings)
    if settings.llm_max_requests_per_minute > 0:
        return RateLimited(provider, settings.llm_max_requests_per_minute, db)
    return provider


def _provider(settings: LlmSettings) -> LlmProvider:
    if settings.llm_provider == "anthropic":
        from services.common.llm.anthropic_adapter import AnthropicProvider

        key = settings.anthropic_api_key.get_secret_value() if settings.anthropic_api_key else ""
        return AnthropicProvider(
            model=settings.llm_model, api_key=key or "unset", base_url=settings.llm_base_url,
            timeout=settings.llm_timeout_seconds,
        )
    from services.common.llm.openai_adapter import OpenAIProvider

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    if settings.llm_provider == "openai" and not key:
        raise SystemExit("LONGFORM_LLM_PROVIDER=openai needs OPENAI_API_KEY")
    return OpenAIProvider(
        name=settings.llm_provider, model=settings.llm_model, api_key=key or "unset",
        base_url=settings.llm_base_url, timeout=settings.llm_timeout_seconds,
    )
