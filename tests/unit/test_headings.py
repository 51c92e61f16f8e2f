"""The document's headings come from the plan by one rule (contracts/headings.py), and the writer
cuts the headings a chunk writes of its own."""

from contracts.headings import MAX_TITLE_WORDS, SectionShape, headings, title_from_text
from services.generator.cleaning import Cleaned, without_headings
from services.planner.outline import parse_outline

S = SectionShape


def _listed(sections) -> list[tuple[int, str, str]]:
    return [(h.level, h.number, h.title) for h in headings(sections)]


def test_a_heading_is_due_wherever_the_path_leaves_the_one_before() -> None:
    sections = [S(0, ("Rivers", "Sources", "Springs")), S(1, ("Rivers", "Sources", "Glaciers")),
                S(2, ("Rivers", "Deltas", "The Delta Towns")), S(3, ("Seas", "Tides", "Neap tides"))]
    assert _listed(sections) == [
        (1, "1", "Rivers"), (2, "1.1", "Sources"), (3, "1.1.1", "Springs"), (3, "1.1.2", "Glaciers"),
        (2, "1.2", "Deltas"), (3, "1.2.1", "The Delta Towns"),
        (1, "2", "Seas"), (2, "2.1", "Tides"), (3, "2.1.1", "Neap tides")]


def test_each_heading_stands_before_the_section_that_opens_it() -> None:
    found = headings([S(4, ("A", "x")), S(5, ("A", "y")), S(6, ("B", "z"))])
    assert [(h.title, h.section_index) for h in found] == [("A", 4), ("x", 4), ("y", 5), ("B", 6), ("z", 6)]


def test_untitled_sections_add_no_heading_and_keep_no_number() -> None:
    sections = [S(0, ("Passages 1–3 of the source",), "none"), S(1, ("Passages 4–6 of the source",), "none")]
    assert headings(sections) == []
    assert _listed([S(0, ("One",)), S(1, ("Rest",), "none"), S(2, ("Two",))]) == [(1, "1", "One"), (1, "2", "Two")]


def test_a_section_titled_by_its_text_takes_its_first_sentence() -> None:
    sections = [S(0, ("Part 1",), "text", "The river had been rising for three days. Then it stopped."),
                S(1, ("Part 2",), "text", "")]
    assert _listed(sections) == [(1, "1", "The river had been rising for three days"), (1, "2", "Part 2")]


def test_a_title_from_text_is_short_and_has_no_stray_quotes() -> None:
    long = "“Why,” she asked, and the whole town of Harrow turned towards the mill where nothing moved at all."
    title = title_from_text(long, "fallback")
    assert title.endswith("…") and len(title[:-1].split()) == MAX_TITLE_WORDS
    assert not any(mark in title for mark in "“”\"")
    assert title_from_text("   ", "Part 3") == "Part 3"


def test_an_outline_with_a_repeated_leaf_title_numbers_the_repeat() -> None:
    reply = ('{"style": {}, "nodes": [{"title": "Scene", "brief": "a", "words": 500},'
             ' {"title": "Scene", "brief": "b", "words": 500}, {"title": "Coda", "brief": "c", "words": 500}]}')
    outline = parse_outline(reply, 1500, 150)
    assert [s.titles for s in outline.sections] == [("Scene",), ("Scene (2)",), ("Coda",)]
    assert len({h.title for h in headings(S(i, s.titles) for i, s in enumerate(outline.sections))}) == 3


def test_the_writer_cuts_headings_a_chunk_writes_of_its_own() -> None:
    reply = Cleaned("## The Delta Towns\n\nThe river rose. **Bold words** stay in a sentence.\n\n**A Short Title**\n\n"
                    "Chapter 3: The Delta Towns\n\n1.2 The Delta Towns\n\nThe Delta Towns.\n\n* * *\n\nMore.")
    without_headings(reply, ["Rivers", "The Delta Towns"])
    assert reply.text == ("The river rose. **Bold words** stay in a sentence.\n\nThe Delta Towns.\n\n* * *\n\n"
                          "More.")
    assert reply.cuts == ["## The Delta Towns", "**A Short Title**", "Chapter 3: The Delta Towns",
                          "1.2 The Delta Towns"]
    assert reply.cut_words == 4 + 3 + 5 + 4


def test_a_long_line_that_names_a_title_is_prose_and_stays() -> None:
    line = "The Delta Towns " + " ".join(["and the river"] * 5)
    reply = Cleaned(line)
    without_headings(reply, ["The Delta Towns"])
    assert reply.text == line and reply.cuts == []
