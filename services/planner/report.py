"""Planning an analysis's report, as pure functions: the bounded digest of the passages' notes the
outline is asked from, each section's passage range read from the LLM's outline (never trusted:
clamped, ordered, gaps given to a neighbour), and the outline made in code when no reply is usable."""

import math
import re
from dataclasses import dataclass

from contracts.budgets import largest_remainder
from services.planner.plan import Section

_NUMBERS = re.compile(r"\d+")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Digest:
    step: int  # every step-th passage is shown (1: all of them)
    line_words: int  # at most this much of each shown passage's notes


def digest_shape(passages: int, budget_words: int, line_words: int, min_line_words: int) -> Digest:
    """A line per passage while the budget allows `min_line_words` each; otherwise every k-th
    passage, so the digest stays within `budget_words` however long the source."""
    per = budget_words // max(passages, 1)
    if per >= min_line_words:
        return Digest(1, min(per, line_words))
    return Digest(math.ceil(passages * min_line_words / budget_words), min_line_words)


def digest_line(passage: int, notes: str, words: int) -> str:
    flat = " ".join(line.strip(" -•*") for line in notes.splitlines() if line.strip())
    return f"§{passage}: {' '.join(_WORD.findall(flat)[:words])}"


@dataclass(frozen=True)
class ReportSection:
    section: Section
    first: int  # the passages it covers, first to last (numbered from 1)
    last: int
    titled_by_plan: bool = True  # its title is the outline's (else made in code from the notes)


def _range(raw: object, total: int) -> tuple[int, int] | None:
    """`[3, 7]`, `"3-7"`, `"§3–§7"`, `{"from": 3, "to": 7}` or `5`, clamped to 1..total; None when unreadable."""
    if isinstance(raw, dict):
        raw = list(raw.values())
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        raw = [raw]
    if isinstance(raw, str):
        raw = [int(n) for n in _NUMBERS.findall(raw)]
    if not isinstance(raw, list):
        return None
    numbers = [int(n) for n in raw if isinstance(n, (int, float)) and not isinstance(n, bool)][:2]
    if not numbers:
        return None
    first, last = min(numbers), max(numbers)
    first, last = min(max(first, 1), total), min(max(last, 1), total)
    return first, last


def ranges_from(raws: list[object], total: int) -> list[tuple[int, int]]:
    """Each section's range, in document order and contiguous: a section starts after the one
    before it ends (a gap goes to the next section, an overlap is cut), an unreadable range takes
    an even share of what is left, and the last section runs to the last passage."""
    ranges, start = [], 1
    for index, raw in enumerate(raws):
        read = _range(raw, total)
        share = start + math.ceil((total - start + 1) / (len(raws) - index)) - 1
        last = min(max(read[1] if read else share, start), total)
        ranges.append((start, last))
        start = min(last + 1, total)
    ranges[-1] = (ranges[-1][0], total)
    return ranges


def code_sections(target_words: int, section_words: int, total: int, opening: dict[int, str]) -> list[ReportSection]:
    """An outline made in code: sections of even budgets (no more sections than passages), each
    covering an even run of passages, titled from the first note of the first passage it covers
    (`opening`: passage -> that note)."""
    count = max(1, min(math.ceil(target_words / section_words), total))
    sizes = largest_remainder(target_words, [1.0] * count)
    made = []
    for i, size in enumerate(sizes):
        first, last = i * total // count + 1, max(i * total // count + 1, (i + 1) * total // count)
        brief = f"Analyse passages §{first}–§{last} of the source, citing them as (§N)."
        made.append(ReportSection(Section(_title(opening.get(first, ""), first, last), brief, size), first, last,
                                  titled_by_plan=False))
    return made


_LABEL = re.compile(r"^\s*[-•*]?\s*[A-Z]+:\s*")


def _title(note: str, first: int, last: int) -> str:
    """The note's first words, without its CLAIM:/NAME: label, and the passages it stands for."""
    words = _WORD.findall(_LABEL.sub("", note))[:8]
    label = " ".join(words).rstrip(",;:.") or "The source"
    where = f"§{first}" if first == last else f"§{first}–§{last}"
    return f"{label[0].upper()}{label[1:]} ({where})"


def chunk_passages(first: int | None, last: int | None, position: int, chunks: int,
                   passages: int = 0) -> tuple[int | None, int | None]:
    """The passages one chunk of a section is written from: its even share of the section's
    range, so the chunks of a section covering many passages each draw on their own part of it
    (and never on fewer than one passage). A section of an analysis without a range (added when
    the report came out short) draws on all `passages`; any other plan's chunks on none."""
    if first is None or last is None:
        if not passages:
            return None, None
        first, last = 1, passages
    count = last - first + 1
    start = first + position * count // chunks
    end = first + (position + 1) * count // chunks - 1
    return start, max(start, end)
