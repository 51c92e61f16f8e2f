"""Provider-neutral core: what a request asked for and what text the behaviour makes of it."""

import json
import math
import re
from dataclasses import dataclass, replace
from typing import Any

from fake_llm.behaviours import Behaviour
from fake_llm.prose import approx_tokens, count_words, first_words, seeded_rng, words_within_tokens
from fake_llm.structured import asked_for, write_reply

REFUSAL = "I'm sorry, but I can't help with that."
DEFAULT_FRACTION = 0.3
DEFAULT_RANDOM_MIN, DEFAULT_RANDOM_MAX = 0.2, 1.8
USER_ROLES = frozenset({"user"})
PROMPT_ROLES = frozenset({"system", "developer", "user"})  # OpenAI sends the system prompt as a message
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
        texts = self._texts_from(USER_ROLES)
        return texts[-1] if texts else ""

    def all_text(self) -> str:
        texts = [content_text(m.get("content")) for m in self.messages if isinstance(m, dict)]
        return "\n".join([self.system, *texts])

    def prompt_text(self) -> str:
        """The system prompt and the system and user messages: where a caller says what it wants."""
        return "\n".join([self.system, *self._texts_from(PROMPT_ROLES)])

    def prompt_fingerprint(self) -> str:
        return json.dumps([self.system, self.messages], sort_keys=True, default=str)

    def _texts_from(self, roles: frozenset[str]) -> list[str]:
        chosen = [m for m in self.messages if isinstance(m, dict) and m.get("role") in roles]
        return [content_text(m.get("content")) for m in chosen]


@dataclass(frozen=True)
class Reply:
    text: str
    hit_token_limit: bool
    input_tokens: int
    output_tokens: int
    kind: str | None  # "prose", "outline" or "summary"; None when the text was not generated


def content_text(content: Any) -> str:
    """Text of a message's content, whether a plain string or a list of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [part.get("text", "") for part in content if isinstance(part, dict)]
        return "\n".join(part for part in parts if isinstance(part, str))
    return ""


def compose_reply(conversation: Conversation, behaviour: Behaviour) -> Reply:
    text, hit_limit, kind = _behaviour_text(conversation, behaviour)
    cap = conversation.max_tokens
    if cap is not None and approx_tokens(text) > cap:
        text, hit_limit = first_words(text, words_within_tokens(cap)), True
    return Reply(text, hit_limit, approx_tokens(conversation.all_text()), approx_tokens(text), kind)


def _behaviour_text(conversation: Conversation, behaviour: Behaviour) -> tuple[str, bool, str | None]:
    """The reply text, whether it stopped at a token limit, and what kind of text it is."""
    if behaviour.kind == "empty":
        return "", False, None
    if behaviour.kind == "refusal":
        return REFUSAL, False, None
    if behaviour.kind == "echo":
        return _CONTROL_CHARACTERS.sub("", conversation.last_user_text()), False, None
    ask = asked_for(conversation.prompt_text(), conversation.last_user_text())
    ask = replace(ask, words=_words_written(ask.words, conversation, behaviour))
    text = write_reply(ask, seeded_rng(conversation.seed, conversation.prompt_fingerprint()))
    if behaviour.kind == "truncated":
        return first_words(text, _fraction_of(count_words(text), behaviour)), True, ask.kind
    return text, False, ask.kind


def _words_written(wanted: int, conversation: Conversation, behaviour: Behaviour) -> int:
    if behaviour.kind == "short":
        return _fraction_of(wanted, behaviour)
    if behaviour.kind == "random_length":
        return max(0, round(wanted * _random_fraction(conversation, behaviour)))
    return wanted


def _random_fraction(conversation: Conversation, behaviour: Behaviour) -> float:
    """Drawn per prompt, not per request, so a retried prompt gets the same wrong length."""
    rng = seeded_rng(conversation.seed, conversation.prompt_fingerprint(), "random_length")
    return rng.uniform(behaviour.param("min", DEFAULT_RANDOM_MIN), behaviour.param("max", DEFAULT_RANDOM_MAX))


def _fraction_of(words: int, behaviour: Behaviour) -> int:
    fraction = min(max(behaviour.param("fraction", DEFAULT_FRACTION), 0.0), 1.0)
    return math.floor(words * fraction)
