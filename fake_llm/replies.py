"""Provider-neutral core: what a request asked for and what text the behaviour makes of it."""

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from fake_llm.behaviours import Behaviour
from fake_llm.prose import (
    approx_tokens,
    first_words,
    requested_word_count,
    seeded_rng,
    words_within_tokens,
    write_prose,
)

REFUSAL = "I'm sorry, but I can't help with that."
DEFAULT_FRACTION = 0.3
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Conversation:
    model: str | None
    messages: list[Any]
    system: str
    max_tokens: int | None
    stream: bool
    seed: Any = None

    def last_user_text(self) -> str:
        user_messages = [m for m in self.messages if isinstance(m, dict) and m.get("role") == "user"]
        return content_text(user_messages[-1].get("content")) if user_messages else ""

    def all_text(self) -> str:
        texts = [content_text(m.get("content")) for m in self.messages if isinstance(m, dict)]
        return "\n".join([self.system, *texts])

    def prompt_fingerprint(self) -> str:
        return json.dumps([self.system, self.messages], sort_keys=True, default=str)


@dataclass(frozen=True)
class Reply:
    text: str
    hit_token_limit: bool
    input_tokens: int
    output_tokens: int


def content_text(content: Any) -> str:
    """Text of a message's content, whether a plain string or a list of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [part.get("text", "") for part in content if isinstance(part, dict)]
        return "\n".join(part for part in parts if isinstance(part, str))
    return ""


def compose_reply(conversation: Conversation, behaviour: Behaviour) -> Reply:
    text, hit_limit = _behaviour_text(conversation, behaviour)
    cap = conversation.max_tokens
    if cap is not None and approx_tokens(text) > cap:
        text, hit_limit = first_words(text, words_within_tokens(cap)), True
    return Reply(text, hit_limit, approx_tokens(conversation.all_text()), approx_tokens(text))


def _behaviour_text(conversation: Conversation, behaviour: Behaviour) -> tuple[str, bool]:
    """The reply text and whether it stopped at a token limit."""
    if behaviour.kind == "empty":
        return "", False
    if behaviour.kind == "refusal":
        return REFUSAL, False
    if behaviour.kind == "echo":
        return _CONTROL_CHARACTERS.sub("", conversation.last_user_text()), False
    wanted = requested_word_count(conversation.last_user_text())
    rng = seeded_rng(conversation.seed, conversation.prompt_fingerprint())
    if behaviour.kind == "short":
        return write_prose(_fraction_of(wanted, behaviour), rng), False
    if behaviour.kind == "truncated":
        return first_words(write_prose(wanted, rng), _fraction_of(wanted, behaviour)), True
    return write_prose(wanted, rng), False


def _fraction_of(words: int, behaviour: Behaviour) -> int:
    fraction = min(max(behaviour.param("fraction", DEFAULT_FRACTION), 0.0), 1.0)
    return math.floor(words * fraction)
