"""Provider-neutral core: what a request asked for and what text the behaviour makes of it."""

import json
import math
import re
from dataclasses import dataclass, replace
from typing import Any

from fake_llm.behaviours import Behaviour
from fake_llm.chatter import chattered
from fake_llm.formats import AskedFormat
from fake_llm.prose import approx_tokens, count_words, first_words, looping, seeded_rng, words_within_tokens
from fake_llm.schema_reply import schema_reply
from fake_llm.structured import PROSE, Ask, asked_for, with_memory_tail, write_reply

REFUSAL = "I'm sorry, but I can't help with that."
DEFAULT_FRACTION = 0.3
DEFAULT_RANDOM_MIN, DEFAULT_RANDOM_MAX = 0.2, 1.8
IGNORED_FORMAT_WORDS = 300  # prose instead of an outline or a summary: at most this long
_KIND_OF_SCHEMA = {"outline": "outline", "memory": "summary"}
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
    asked_format: AskedFormat | None = None  # structured output the request asks for
    format_parameter: str | None = None  # the structured-output parameter the request carries

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
    kind: str | None  # "prose", "outline", "summary" or "json"; None when the text was not generated
    structured: bool = False  # the text is JSON following the asked format (a tool's input, for Anthropic)
    usage: bool = True  # False: the reply reports no token usage (trait no_usage)
    cached_input_tokens: int = 0  # of input_tokens, read from the prompt cache (fake_llm/prompt_cache.py)
    cache_created_tokens: int = 0  # of input_tokens, written to it


def content_text(content: Any) -> str:
    """Text of a message's content, whether a plain string or a list of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [part.get("text", "") for part in content if isinstance(part, dict)]
        return "\n".join(part for part in parts if isinstance(part, str))
    return ""


def compose_reply(conversation: Conversation, behaviour: Behaviour,
                  traits: dict[str, Behaviour] | None = None) -> Reply:
    traits = traits or {}
    text, hit_limit, kind, structured = _behaviour_text(conversation, behaviour, traits)
    cap = conversation.max_tokens
    if cap is not None and approx_tokens(text) > cap:
        text, hit_limit = first_words(text, words_within_tokens(cap)), True
    return Reply(text, hit_limit, approx_tokens(conversation.all_text()), approx_tokens(text), kind, structured,
                 usage="no_usage" not in traits)


def _behaviour_text(conversation: Conversation, behaviour: Behaviour,
                    traits: dict[str, Behaviour]) -> tuple[str, bool, str | None, bool]:
    """The reply text, whether it stopped at a token limit, what kind of text it is, and whether
    it is JSON in the asked format."""
    canned = _canned_text(conversation, behaviour)
    if canned is not None:
        return canned, False, None, False
    wanted = None if "ignore_formats" in traits else conversation.asked_format
    text, kind = _generated_text(conversation, behaviour, traits, wanted)
    if behaviour.kind == "truncated":
        return first_words(text, _fraction_of(count_words(text), behaviour)), True, kind, wanted is not None
    return text, False, kind, wanted is not None


def _canned_text(conversation: Conversation, behaviour: Behaviour) -> str | None:
    if behaviour.kind == "empty":
        return ""
    if behaviour.kind == "refusal":
        return REFUSAL
    if behaviour.kind == "echo":
        return _CONTROL_CHARACTERS.sub("", conversation.last_user_text())
    return None


def _generated_text(conversation: Conversation, behaviour: Behaviour, traits: dict[str, Behaviour],
                    wanted: AskedFormat | None) -> tuple[str, str]:
    """The text and its kind: JSON in the wanted format, else what the prompt asks for (prose
    only, when the provider ignores formats), chatted around if the provider is chatty."""
    ask = asked_for(conversation.prompt_text(), conversation.last_user_text())
    if "ignore_formats" in traits and ask.kind != PROSE:
        ask = Ask(PROSE, min(ask.words, IGNORED_FORMAT_WORDS))
    ask = replace(ask, words=_words_written(ask.words, conversation, behaviour))
    rng = seeded_rng(conversation.seed, conversation.prompt_fingerprint())
    if behaviour.kind == "loop":  # twice what was asked: it runs into max_tokens, as a stuck model does
        prose = round(behaviour.param("prose", 0))
        return looping(conversation.last_user_text(), 2 * max(ask.words, 50), prose, rng), ask.kind
    if wanted:
        text = schema_reply(wanted.name, wanted.schema, ask.words, ask.depth, rng, ask.passages)
        return text, _KIND_OF_SCHEMA.get(wanted.name, "json")
    text = write_reply(ask, rng)
    if ask.kind == PROSE and "ignore_formats" not in traits:
        text = with_memory_tail(text, conversation.prompt_text(), rng)
    if "chatty" in traits and ask.kind == PROSE:
        text = chattered(text, conversation.last_user_text(), traits["chatty"], rng)
    return text, ask.kind


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
