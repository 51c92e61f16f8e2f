"""The provider port: what every adapter takes and returns, and how its failures look."""

from dataclasses import dataclass, field
from typing import Callable, Protocol

GAVE_UP = "given_up"  # a Completion's finish_reason: the reply was read only up to where `give_up` said so
_FIRST_LOOK_CHARS = 400  # about 65 words: a streamed reply is first shown to `give_up` at this length ...


@dataclass(frozen=True)
class Prompt:
    system: str
    user: str
    max_tokens: int
    model: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Structured output, where the provider offers it: a JSON schema the reply must follow
    # (OpenAI response_format json_schema; Anthropic a forced tool). Asked in plain text where
    # the provider or model refuses it; the prompt always says the form in words too.
    schema: dict | None = None
    schema_name: str = ""
    # The head of `user` that every call of the job repeats (title, instructions, style sheet):
    # after the system prompt, the prefix a provider's prompt cache can reuse (Anthropic is told
    # so with cache_control; OpenAI caches repeated prefixes by itself).
    stable_prefix: str = ""
    # Asked of the reply so far while it streams (at 400 characters, then each time it has
    # doubled): True stops reading it there, and the connection is closed, so a provider stops
    # writing (and charging for) a reply already known to be unusable, such as a small model's
    # loop. The completion is then what came, truncated, its finish_reason GAVE_UP.
    give_up: Callable[[str], bool] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Completion:
    text: str
    truncated: bool  # finish_reason=length / stop_reason=max_tokens
    finish_reason: str
    model: str
    input_tokens: int | None
    output_tokens: int | None
    latency_ms: int
    first_token_ms: int | None
    output_format: str = "text"  # "json_schema", "tool" or "text": how the reply was asked for
    usage_estimated: bool = False  # the provider reported no usage: the token counts are ours ...
    usage_tokenized: bool = False  # ... counted by the server's own tokenizer (exact), not a guess
    cached_input_tokens: int | None = None  # of input_tokens, read from the provider's prompt cache


class Watch:
    """When a streaming adapter shows the reply so far to its prompt's `give_up`: at growing
    lengths, so that a reply is joined and judged a few times (log2 of its length), not per token."""

    def __init__(self, prompt: Prompt) -> None:
        self.give_up = prompt.give_up
        self.size = 0
        self.next = _FIRST_LOOK_CHARS

    def hopeless(self, parts: list[str], piece: str) -> bool:
        """Whether to stop reading, now that `piece` (already in `parts`) has come."""
        if self.give_up is None:
            return False
        self.size += len(piece)
        if self.size < self.next:
            return False
        self.next = 2 * self.size
        return self.give_up("".join(parts))


class LlmError(Exception):
    """A failed call. `retryable` errors (429, 5xx, timeouts, dropped connections) may be
    tried again after `retry_after` seconds when the provider said how long to wait."""

    def __init__(self, kind: str, message: str, *, retryable: bool, retry_after: float | None = None,
                 latency_ms: int = 0) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.retryable = retryable
        self.retry_after = retry_after
        self.latency_ms = latency_ms


class LlmProvider(Protocol):
    name: str
    default_model: str

    async def complete(self, prompt: Prompt) -> Completion: ...
