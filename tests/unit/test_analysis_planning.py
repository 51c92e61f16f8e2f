"""An analysis's pure parts: the notes read from a reply and made in code, the notes block a
chunk is written from, the check of its citations, the digest's bound, and the passage ranges
read from an outline (never trusted) or made in code."""

import random

import pytest

from contracts.wordcount import count_words
from fake_llm.analysis import with_citations
from services.generator.notes import cut_citations, notes_block, notes_in_code, read_notes
from services.planner.report import chunk_passages, code_sections, digest_line, digest_shape, ranges_from


def test_citations_of_passages_that_do_not_exist_are_cut_and_named():
    text, cut = cut_citations("A claim (§3). Another (§0). A third (§12). A range (§2–§4). Past it (§9-§11).", 10)
    assert text == "A claim (§3). Another. A third. A range (§2–§4). Past it."
    assert cut == ["(§0)", "(§12)", "(§9-§11)"]


def test_notes_are_read_one_a_line_within_their_bound():
    notes = read_notes("- CLAIM: the tax was repealed\n\n* NAME: Alice Smith, the mayor\n" + "QUOTE: word " * 80, 20, 12)
    assert notes.splitlines()[:2] == ["CLAIM: the tax was repealed", "NAME: Alice Smith, the mayor"]
    assert count_words(notes) <= 20


@pytest.mark.parametrize("reply", ["", "  \n ", "I'm sorry, but I can't help with that.", "ok"])
def test_a_reply_with_no_notes_in_it_is_unusable(reply):
    assert read_notes(reply, 120, 12) is None


def test_notes_made_in_code_keep_the_first_and_last_sentences_and_the_names():
    text = "The canal opened in 1820. Then Alice Smith sold shares in London. The company failed."
    notes = notes_in_code(text, 120)
    assert "CLAIM: The canal opened in 1820." in notes and "CLAIM: The company failed." in notes
    assert "Alice Smith" in notes and "London" in notes and "Then" not in notes.split("NAME:")[1]


def test_the_notes_block_stays_within_its_budget_however_many_passages():
    notes = [(n, "CLAIM: " + "word " * 60) for n in range(1, 501)]
    block = notes_block(notes, 1200)
    assert count_words(block) <= 1200 + 13  # the last passage always shows
    numbers = [int(line.split(":")[0].lstrip("§")) for line in block.splitlines()]
    assert numbers[0] == 1 and numbers[-1] == 500


def test_the_digest_shows_every_passage_while_it_can_and_a_sample_within_the_budget_when_not():
    assert digest_shape(100, 6000, 40, 8).step == 1
    many = digest_shape(2000, 6000, 40, 8)
    assert many.step > 1 and (2000 // many.step + 1) * many.line_words <= 6000 + many.line_words
    assert digest_line(7, "- CLAIM: one two three\n- NAME: X", 3) == "§7: CLAIM: one two"


@pytest.mark.parametrize(("raws", "total", "expected"), [
    ([[1, 3], "4-9", None, {"from": 2, "to": 2}], 20, [(1, 3), (4, 9), (10, 15), (16, 20)]),
    ([[5, 2], [30, 40]], 10, [(1, 5), (6, 10)]),  # reversed and out of range: ordered, clamped
    ([None, None, None], 10, [(1, 4), (5, 7), (8, 10)]),
    (["§1–§3", "nonsense", True], 9, [(1, 3), (4, 6), (7, 9)]),
])
def test_section_ranges_cover_every_passage_in_order(raws, total, expected):
    assert ranges_from(raws, total) == expected


def test_an_outline_made_in_code_covers_every_passage_with_distinct_titles_and_the_target():
    made = code_sections(7000, 2400, 13, {1: "- CLAIM: Canals carried coal to the cities."})
    assert sum(r.section.budget_words for r in made) == 7000
    assert made[0].first == 1 and made[-1].last == 13
    assert all(a.last + 1 == b.first for a, b in zip(made, made[1:]))
    assert made[0].section.path == "Canals carried coal to the cities (§1–§4)"
    assert len({r.section.path for r in made}) == len(made) and not any(r.titled_by_plan for r in made)


def test_each_chunk_of_a_section_draws_on_its_own_share_of_the_passages():
    assert [chunk_passages(1, 10, i, 3) for i in range(3)] == [(1, 3), (4, 6), (7, 10)]
    assert [chunk_passages(5, 5, i, 2) for i in range(2)] == [(5, 5), (5, 5)]
    assert chunk_passages(None, None, 0, 1) == (None, None)  # not an analysis
    assert chunk_passages(None, None, 1, 2, passages=9) == (5, 9)  # an extension section: all the passages


def test_the_fake_cites_the_passages_its_prompt_notes_and_sometimes_one_that_is_not_there():
    prompt = "§3: CLAIM: x\n§4: CLAIM: y\nWrite 80 words."
    prose = "One sentence here. Two sentences here. Three sentences here. Four sentences here."
    cited = [with_citations(prose, prompt, random.Random(seed)) for seed in range(40)]
    numbers = {n for text in cited for n in (int(m) for m in __import__("re").findall(r"§(\d+)", text))}
    assert {3, 4} <= numbers and any(n > 4 for n in numbers)
