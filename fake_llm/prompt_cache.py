"""A provider's prompt cache, as each API reports it: a prefix sent before is read from the
cache (its tokens reported as cached), a new one is written to it. Anthropic caches the prefix
up to the last block marked `cache_control` (and reports `cache_read_input_tokens` and
`cache_creation_input_tokens` apart from `input_tokens`); OpenAI caches a repeated prefix by
itself (here: the system message) and reports `prompt_tokens_details.cached_tokens` within
`prompt_tokens`. Unlike the real APIs, no minimum length (1,024 tokens) is asked of a prefix,
so short test prompts exercise the path."""

from typing import Any

from fake_llm.prose import approx_tokens
from fake_llm.replies import content_text

_SYSTEM_ROLES = ("system", "developer")


def anthropic_prefix(body: dict[str, Any]) -> str | None:
    """The system blocks and message blocks up to the last one marked for the cache."""
    blocks: list[Any] = _blocks(body.get("system"))
    for message in body.get("messages") or ():
        blocks += _blocks(message.get("content")) if isinstance(message, dict) else []
    marked = [i for i, block in enumerate(blocks) if isinstance(block, dict) and block.get("cache_control")]
    if not marked:
        return None
    return "\n".join(content_text([b]) if isinstance(b, dict) else str(b) for b in blocks[: marked[-1] + 1])


def openai_prefix(body: dict[str, Any]) -> str | None:
    messages = body.get("messages") or []
    first = messages[0] if messages and isinstance(messages[0], dict) else {}
    return content_text(first.get("content")) or None if first.get("role") in _SYSTEM_ROLES else None


def _blocks(content: Any) -> list[Any]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return list(content) if isinstance(content, list) else []


class PromptCache:
    def __init__(self) -> None:
        self._seen: set[str] = set()

    def lookup(self, prefix: str | None) -> tuple[int, int]:
        """(tokens read from the cache, tokens written to it) for a request with this prefix."""
        if not prefix:
            return 0, 0
        tokens = approx_tokens(prefix)
        if prefix in self._seen:
            return tokens, 0
        self._seen.add(prefix)
        return 0, tokens

    def clear(self) -> None:
        self._seen.clear()
