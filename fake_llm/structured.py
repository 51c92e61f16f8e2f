"""What a prompt asks for — prose, a planner's outline, or a summariser's summary and ledger —
and the text that answers it.

`OUTLINE_JSON` anywhere in the system prompt or a user message asks for an outline (see
fake_llm.outline); `SUMMARY:` together with `LEDGER:` asks for a summary. Their length is the
last "<number> words" in the system prompt and system and user messages (outline depth: a line
starting `Depth: N`); prose keeps reading its length from the last user message alone.
"""

import random
import re
from dataclasses import dataclass

from fake_llm.analysis import NOTES_MARKER, passages_named, with_citations, write_notes
from fake_llm.names import distinct, proper_name
from fake_llm.outline import MAX_DEPTH, write_outline
from fake_llm.prose import requested_word_count, write_prose

OUTLINE_MARKER = "OUTLINE_JSON"
SUMMARY_MARKERS = ("SUMMARY:", "LEDGER:")
PROSE, OUTLINE, SUMMARY, NOTES = "prose", "outline", "summary", "notes"
DEFAULT_SUMMARY_WORDS = 150
DEFAULT_DEPTH = 1
_DEPTH_LINE = re.compile(r"^\s*Depth:\s*(\d+)", re.IGNORECASE | re.MULTILINE)  # "Depth: 2 (chapters)" too
_LEDGER_ENTRIES = (3, 8)
_MEMORY_TAIL = re.compile(r"@@MEMORY@@.*?at most (\d+) words", re.S)
_LEDGER_DESCRIPTION_WORDS = (5, 10)


@dataclass(frozen=True)
class Ask:
    kind: str
    words: int
    depth: int = DEFAULT_DEPTH
    prompt: str = ""  # what was asked, for the kinds that answer from it (notes, a report's prose)
    passages: int | None = None  # an analysis's outline: how many passages the source has


def asked_for(prompt: str, last_user_text: str) -> Ask:
    """prompt: the system prompt and the user messages, in order."""
    if OUTLINE_MARKER in prompt:
        return Ask(OUTLINE, requested_word_count(prompt), _depth(prompt), passages=passages_named(prompt))
    if NOTES_MARKER in prompt:
        return Ask(NOTES, requested_word_count(prompt), prompt=prompt)
    if all(marker in prompt for marker in SUMMARY_MARKERS):
        return Ask(SUMMARY, requested_word_count(prompt, DEFAULT_SUMMARY_WORDS))
    return Ask(PROSE, requested_word_count(last_user_text), prompt=last_user_text)


def write_reply(ask: Ask, rng: random.Random) -> str:
    if ask.kind == OUTLINE:
        return write_outline(ask.words, ask.depth, rng, ask.passages)
    if ask.kind == SUMMARY:
        return write_summary(ask.words, rng)
    if ask.kind == NOTES:
        return write_notes(ask.prompt, ask.words, rng)
    return with_citations(write_prose(ask.words, rng), ask.prompt, rng)


def with_memory_tail(text: str, prompt: str, rng: random.Random) -> str:
    """A writer asked (in its system prompt) for a memory tail after its text: `@@MEMORY@@`, a
    GIST: line of the asked length at most, and NAMES: ledger lines."""
    asked = _MEMORY_TAIL.search(prompt)
    if asked is None or not text.strip():
        return text
    gist = " ".join(write_prose(max(1, int(asked.group(1))), rng).split())
    names = distinct(proper_name, rng)
    entries = [f"- {next(names)}: {_description(rng)}" for _ in range(rng.randint(1, 3))]
    return f"{text}\n\n@@MEMORY@@\nGIST: {gist}\nNAMES:\n" + "\n".join(entries)


def write_summary(words: int, rng: random.Random) -> str:
    """One paragraph of exactly `words` words, then a ledger of 3-8 `- Name: description` lines."""
    summary = " ".join(write_prose(words, rng).split("\n\n"))
    names = distinct(proper_name, rng)
    entries = [f"- {next(names)}: {_description(rng)}" for _ in range(rng.randint(*_LEDGER_ENTRIES))]
    return "SUMMARY:\n" + summary + "\n\nLEDGER:\n" + "\n".join(entries)


def _description(rng: random.Random) -> str:
    return write_prose(rng.randint(*_LEDGER_DESCRIPTION_WORDS), rng)


def _depth(prompt: str) -> int:
    lines = _DEPTH_LINE.findall(prompt)
    return min(max(int(lines[-1]), 1), MAX_DEPTH) if lines else DEFAULT_DEPTH
