"""Splitting a rewrite source at paragraph (then sentence) boundaries as it streams from the
database, so the planner never holds more than one slice and one chunk of it. A rewrite keeps
its source's shape: a markdown heading on a line of its own is not a passage but starts a
section titled by it (`SourceSections`), so the rewrite's headings are the source's."""

import re
import uuid
from dataclasses import dataclass
from typing import AsyncIterator, Iterator

from contracts.wordcount import count_words, word_ends
from services.common.db import Tx, text_slices

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
# After a Latin sentence end comes whitespace; a CJK one is followed directly by the next sentence.
_SENTENCE = re.compile(r"(?<=[.!?])(?=\s)|(?<=[。！？])")


def source_slices(tx: Tx, job_id: uuid.UUID, size: int) -> AsyncIterator[str]:
    return text_slices(tx.fetchval, "SELECT substr(text, $2, $3) FROM gateway.sources_v1 WHERE job_id = $1",
                       job_id, size)


async def paragraphs(slices: AsyncIterator[str]) -> AsyncIterator[str]:
    carry = ""
    async for piece in slices:
        parts = _PARAGRAPH_BREAK.split(carry + piece)
        carry = parts.pop()
        for part in parts:
            if part.strip():
                yield part.strip()
    if carry.strip():
        yield carry.strip()


def _cut(text: str, max_words: int) -> Iterator[str]:
    """A sentence too long for one passage, cut after every max_words-th word."""
    ends, start = word_ends(text), 0
    for i in range(max_words - 1, len(ends), max_words):
        yield text[start:ends[i]].strip()
        start = ends[i]
    if text[start:].strip():
        yield text[start:].strip()


def _pieces(paragraph: str, max_words: int) -> Iterator[str]:
    """A paragraph too long for one passage, cut at sentence ends (within a sentence if it must)."""
    if count_words(paragraph) <= max_words:
        yield paragraph
        return
    current, size = "", 0
    for sentence in filter(str.strip, _SENTENCE.split(paragraph)):
        words = count_words(sentence)
        if current and size + words > max_words:
            yield current.strip()
            current, size = "", 0
        if words > max_words:
            yield from _cut(sentence, max_words)
            continue
        current, size = current + sentence, size + words
    if current.strip():
        yield current.strip()


@dataclass(frozen=True)
class SourceHeading:
    level: int  # 1 for "#"
    title: str


def heading_of(paragraph: str) -> SourceHeading | None:
    """A markdown heading on a line of its own, or None."""
    found = _HEADING.match(paragraph) if "\n" not in paragraph else None
    title = " ".join(found.group(2).split()) if found else ""
    return SourceHeading(len(found.group(1)), title) if title else None


async def passages(slices: AsyncIterator[str], max_words: int,
                   headings: bool = False) -> AsyncIterator["str | SourceHeading"]:
    """Consecutive paragraphs packed into passages of at most max_words each; with `headings`, a
    heading line is given on its own (and no passage runs across it)."""
    packed: list[str] = []
    size = 0
    async for paragraph in paragraphs(slices):
        if headings and (heading := heading_of(paragraph)):
            if packed:
                yield "\n\n".join(packed)
                packed, size = [], 0
            yield heading
            continue
        for piece in _pieces(paragraph, max_words):
            words = count_words(piece)
            if packed and size + words > max_words:
                yield "\n\n".join(packed)
                packed, size = [], 0
            packed.append(piece)
            size += words
    if packed:
        yield "\n\n".join(packed)


class TargetShares:
    """Each passage's target in proportion to its share of the source, rounded on the running
    total: the targets sum to the job's target exactly when every passage is owed at least one
    word, and a few words over it otherwise (each passage gets at least one)."""

    def __init__(self, source_words: int, target_words: int) -> None:
        self.source_words = max(source_words, 1)
        self.target_words = target_words
        self._seen = 0
        self._given = 0

    @property
    def given(self) -> int:
        return self._given

    def next(self, passage_words: int) -> int:
        self._seen += passage_words
        due = round(self.target_words * min(self._seen, self.source_words) / self.source_words)
        share = max(1, due - self._given)
        self._given += share
        return share


class SourceSections:
    """Which section each passage of a rewrite goes to: a new one at each heading of the source
    (titled by the headings above it, outermost first) and after every `per_section` passages
    (untitled: it goes on under the same heading)."""

    def __init__(self, per_section: int) -> None:
        self.per_section = per_section
        self.path: list[SourceHeading] = []
        self.index, self.count, self.titled = -1, 0, False
        self.opened: list[tuple[int, tuple[str, ...], str]] = []  # (index, titles, title source) not yet stored

    def heading(self, heading: SourceHeading) -> None:
        self.path = [h for h in self.path if h.level < heading.level] + [heading]
        self.titled = True

    def place(self) -> int:
        """The section of the next passage."""
        if self.index < 0 or self.titled or self.count == self.per_section:
            titles = tuple(h.title for h in self.path)
            self.index, self.count = self.index + 1, 0
            self.opened.append((self.index, titles, "plan" if self.titled and titles else "none"))
            self.titled = False
        self.count += 1
        return self.index

    def take_opened(self) -> list[tuple[int, tuple[str, ...], str]]:
        opened, self.opened = self.opened, []
        return opened
