"""One LLM provider interface; one adapter per provider family."""

from services.common.llm.base import Completion, LlmError, LlmProvider, Prompt
from services.common.llm.factory import provider_from_settings

__all__ = ["Completion", "LlmError", "LlmProvider", "Prompt", "provider_from_settings"]
