"""A passage's notes, as pure functions: the LLM's reply read leniently and bounded (one note a
line, at most so many words), notes made in code when no reply is usable (the passage's first
and last sentences and its capitalised names), the notes block a report's chunk is written from
(bounded however many passages its section covers), and the check that a report cites only
passages that exist."""

import math
import re

from contracts.wordcount import count_words
from services.generator.quality import is_refusal, sentences

_BULLET = re.compile(r"^\s*(?:[-*•·]|\d+[.)])\s*")
_WORD = re.compile(r"\S+")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+)*)")
CITATION = re.compile(r"\s?\(\s*§\s*(\d+)(?:\s*[-–,]\s*§?\s*(\d+))?\s*\)")
MIN_NOTE_WORDS = 3  # fewer than this is no note at all
_MAX_NAMES = 8


def read_notes(reply: str, max_words: int, max_lines: int) -> str | None:
    """The reply's notes, one a line, bounded; None when nothing usable is left."""
    lines = [_BULLET.sub("", line).strip() for line in reply.splitlines()]
    lines = [" ".join(line.split()) for line in lines if line][:max_lines]
    kept, words = [], 0
    for line in lines:
        size = count_words(line)
        if words + size > max_words:
            rest = max_words - words
            if rest >= MIN_NOTE_WORDS:
                kept.append(" ".join(_WORD.findall(line)[:rest]))
            break
        kept.append(line)
        words += size
    notes = "\n".join(kept)
    if count_words(notes) < MIN_NOTE_WORDS or is_refusal(notes):
        return None
    return notes


def notes_in_code(text: str, max_words: int) -> str:
    """When the LLM gave nothing usable: the passage's first and last sentences, and its names."""
    found = sentences(text)
    ends = list(dict.fromkeys(found[:1] + found[-1:])) or [" ".join(_WORD.findall(text)[:40])]
    names = list(dict.fromkeys(m.group(1) for m in _NAME.finditer(text)))[:_MAX_NAMES]
    lines = [f"CLAIM: {sentence}" for sentence in ends] + ([f"NAME: {', '.join(names)}"] if names else [])
    return read_notes("\n".join(lines), max_words, len(lines)) or " ".join(_WORD.findall(text)[:max_words])


def notes_block(notes: list[tuple[int, str]], budget_words: int) -> str:
    """`§N: notes` per passage, within `budget_words`: each passage's notes cut to its share, and
    when even a short line each would not fit, every k-th passage (always the first and last)."""
    if not notes:
        return ""
    floor = 12  # words of notes a passage gets at least (its `§N:` label is one more)
    step = max(1, math.ceil(len(notes) * (floor + 1) / budget_words))
    chosen = notes[::step] + ([notes[-1]] if (len(notes) - 1) % step else [])
    share = max(floor, budget_words // len(chosen) - 1)
    lines = []
    for passage, text in chosen:
        flat = " | ".join(line.strip() for line in text.splitlines() if line.strip())
        lines.append(f"§{passage}: {' '.join(_WORD.findall(flat)[:share])}")
    return "\n".join(lines)


def cut_citations(text: str, total: int) -> tuple[str, list[str]]:
    """The text without citations of passages that do not exist (numbered 1 to `total`), and
    what was cut."""
    cut: list[str] = []

    def keep(match: re.Match) -> str:
        numbers = [int(n) for n in match.groups() if n]
        if all(1 <= n <= total for n in numbers):
            return match.group(0)
        cut.append(match.group(0).strip())
        return ""

    return CITATION.sub(keep, text), cut
