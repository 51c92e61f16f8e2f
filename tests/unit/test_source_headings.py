"""A rewrite keeps its source's shape: markdown heading lines start sections titled by them
(services/planner/source.py)."""

import asyncio

from services.planner.source import SourceHeading, SourceSections, heading_of, passages


async def _slices(text: str, size: int = 7):
    for i in range(0, len(text), size):
        yield text[i:i + size]


def _items(text: str, max_words: int = 50, headings: bool = True) -> list:
    async def collect():
        return [item async for item in passages(_slices(text), max_words, headings=headings)]
    return asyncio.run(collect())


def test_a_heading_line_is_its_own_item_and_no_passage_runs_across_it() -> None:
    text = "# Canals\n\nIntro one.\n\nIntro two.\n\n## Locks ##\n\nLocks lift boats.\n\n###   \n\nNot a heading."
    assert _items(text) == [SourceHeading(1, "Canals"), "Intro one.\n\nIntro two.", SourceHeading(2, "Locks"),
                            "Locks lift boats.\n\n###\n\nNot a heading."]
    assert _items(text, headings=False) == [text.replace("###   ", "###")]


def test_only_a_heading_on_a_line_of_its_own_counts() -> None:
    assert heading_of("## Water Before Boats") == SourceHeading(2, "Water Before Boats")
    assert heading_of("#hashtag") is None and heading_of("## Title\nand a second line") is None
    assert heading_of("####### seven") is None


def test_sections_open_at_each_heading_and_after_every_few_passages() -> None:
    sections = SourceSections(per_section=2)
    placed = [sections.place()]  # before any heading: untitled
    sections.heading(SourceHeading(1, "Canals"))
    placed += [sections.place(), sections.place(), sections.place()]  # the third goes on, untitled
    sections.heading(SourceHeading(2, "Locks"))
    sections.heading(SourceHeading(3, "Pound locks"))
    placed += [sections.place()]
    sections.heading(SourceHeading(2, "Summits"))
    placed += [sections.place()]
    assert placed == [0, 1, 1, 2, 3, 4]
    assert sections.take_opened() == [
        (0, (), "none"), (1, ("Canals",), "plan"), (2, ("Canals",), "none"),
        (3, ("Canals", "Locks", "Pound locks"), "plan"), (4, ("Canals", "Summits"), "plan")]
    assert sections.take_opened() == []
