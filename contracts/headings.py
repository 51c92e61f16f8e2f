"""The document's headings, one rule for every reader (SPEC D1): the assembler stores them, the
gateway renders them in md, docx and txt and in what is written so far, the tests check them.

A section's heading path is its titles, outermost first (part, chapter, section). Walking the
sections in plan order, a heading is due at every level where a section's path leaves the path
of the section before it; numbers count per level ("2.3" is the third heading of level 2 under
the second of level 1). A section whose own title is still to come from its text (`text`: an
outline made in code) is titled by its first sentence once written; a section with no title
(`none`: a rewrite's passages) adds no heading of its own."""

import re
from dataclasses import dataclass
from typing import Iterable


MAX_TITLE_WORDS = 10
OPENING_CHARS = 400  # of a section's first chunk: enough for a first sentence to title it by
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s")
_QUOTES = re.compile(r"[\"“”«»„]")
_EDGE = re.compile(r"^[\s\"'“”‘’«»(\[*_#-]+|[\s\"'“”‘’«»)\]*_:;,.!?…-]+$")


@dataclass(frozen=True)
class SectionShape:
    """A section as headings see it."""

    index: int
    titles: tuple[str, ...]
    title_source: str = "plan"  # plan, text or none
    first_text: str = ""  # the start of its first chunk, when its title comes from its text


@dataclass(frozen=True)
class Heading:
    level: int  # 1 = outermost
    number: str  # "2.3"
    title: str
    section_index: int  # the section it stands before

    def as_dict(self) -> dict:
        return {"level": self.level, "number": self.number, "title": self.title,
                "section_index": self.section_index}


def title_from_text(text: str, fallback: str) -> str:
    """A title made from a section's first sentence: at most MAX_TITLE_WORDS words, cut at a word,
    without the sentence's closing mark; `fallback` when the text has no words."""
    words = _QUOTES.sub("", _SENTENCE_END.split(" ".join(text.split()) + " ", maxsplit=1)[0]).split()
    title = _EDGE.sub("", " ".join(words[:MAX_TITLE_WORDS]))
    if title and len(words) > MAX_TITLE_WORDS:
        title += "…"
    return title or fallback


def own_titles(section: SectionShape) -> tuple[str, ...]:
    """The section's heading path as the document shows it."""
    if section.title_source == "none":
        return section.titles[:-1]
    if section.title_source == "text":
        fallback = section.titles[-1] if section.titles else f"Section {section.index + 1}"
        return section.titles[:-1] + (title_from_text(section.first_text, fallback),)
    return section.titles


def headings(sections: Iterable[SectionShape]) -> list[Heading]:
    """The headings due before each section, in plan order."""
    found: list[Heading] = []
    previous: tuple[str, ...] = ()
    counters: list[int] = []
    for section in sections:
        path = own_titles(section)
        shared = _shared_prefix(previous, path)
        if shared == len(path) and path == previous and section.title_source != "none" and path:
            shared -= 1  # two sections in a row with one title: each still gets its heading
        for level in range(shared + 1, len(path) + 1):
            del counters[level:]
            counters += [0] * (level - len(counters))
            counters[level - 1] += 1
            found.append(Heading(level, ".".join(map(str, counters)), path[level - 1], section.index))
        previous = path
    return found


def _shared_prefix(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n
