"""Planning a word target into sections and chunks whose budgets add up to at least the target (SPEC L1, C1)."""

import itertools
from fractions import Fraction

import pytest

from contracts.budgets import budgets, largest_remainder
from services.planner.plan import Section, chunks_of, fallback_sections, with_handoffs

_TOTALS = sorted({*range(1, 200), *range(200, 5001, 37), 4999, 5000, 500_000})


@pytest.mark.parametrize("chunk_words", [1, 7, 350, 800, 1500])
def test_budgets_sum_exactly_to_the_total_and_none_exceeds_the_chunk_size(chunk_words):
    for total in _TOTALS:
        sizes = budgets(total, chunk_words)
        assert sum(sizes) == total, total
        assert max(sizes) <= chunk_words, total
        assert max(sizes) - min(sizes) <= 1, total
        assert min(sizes) >= 1, total


@pytest.mark.parametrize("total, chunk_words, count", [(1, 800, 1), (800, 800, 1), (801, 800, 2), (500_000, 800, 625)])
def test_budgets_use_as_few_chunks_as_the_chunk_size_allows(total, chunk_words, count):
    assert len(budgets(total, chunk_words)) == count


def test_budgets_are_even_with_the_remainder_spread_over_the_first_chunks():
    assert budgets(10, 4) == [4, 3, 3]
    assert budgets(1001, 500) == [334, 334, 333]


@pytest.mark.parametrize("total, weights", [
    (1, [1.0]),
    (1, [1.0, 1.0, 1.0]),
    (10, [1.0, 1.0, 1.0]),
    (100, [0.5, 0.25, 0.25]),
    (1000, [3.0, 1.0, 1.0, 5.0]),
    (7, [1.0] * 10),
    (12_345, [1200.0, 800.0, 1.0, 0.001, 4000.0]),
    (500_000, [1.0 / 3.0] * 7),
    (500_000, [1e9, 1.0, 1.0]),
    (3, [98.0, 1.0, 1.0]),
])
def test_largest_remainder_sums_exactly_and_each_share_is_within_one_of_its_exact_proportion(total, weights):
    shares = largest_remainder(total, weights)
    assert len(shares) == len(weights)
    assert sum(shares) == total
    exact = [Fraction(total) * Fraction(w) / sum(map(Fraction, weights)) for w in weights]
    assert all(abs(share - proportion) < 1 for share, proportion in zip(shares, exact)), (shares, exact)


def test_largest_remainder_gives_the_leftover_words_to_the_largest_remainders():
    assert largest_remainder(10, [1.0, 1.0, 1.0]) == [4, 3, 3]
    assert largest_remainder(10, [1.0, 2.0, 3.0]) == [2, 3, 5]  # exact 1.67, 3.33, 5.0


@pytest.mark.parametrize("target, section_words", [(1, 2400), (2400, 2400), (2401, 2400), (90_000, 2400),
                                                   (500_000, 2400), (77, 10)])
def test_fallback_sections_budgets_sum_to_the_target_and_none_exceeds_the_section_size(target, section_words):
    sections = fallback_sections(target, section_words)
    assert sum(s.budget_words for s in sections) == target
    assert all(1 <= s.budget_words <= section_words for s in sections)


def test_fallback_sections_are_labelled_with_their_position():
    sections = fallback_sections(7000, 2400, label="extension 2")
    assert [s.path for s in sections] == ["Extension 2, part 1 of 3", "Extension 2, part 2 of 3",
                                          "Extension 2, part 3 of 3"]


def test_fallback_sections_briefs_open_develop_and_close_the_document():
    briefs = [s.brief for s in fallback_sections(10_000, 2400)]
    assert len(briefs) == 5
    assert briefs[0].startswith("The opening of the document")
    assert [b.startswith(f"Part {i} of 5 of the document") for i, b in enumerate(briefs[1:-1], 2)] == [True] * 3
    assert briefs[-1].startswith("The closing of the document")


def test_a_single_fallback_section_is_the_whole_document():
    (only,) = fallback_sections(1, 2400)
    assert only.budget_words == 1
    assert "whole document" in only.brief


def test_fallback_sections_briefs_name_their_label():
    assert all("extension 1" in s.brief for s in fallback_sections(5000, 2400, label="extension 1"))


def _sections(*words: int) -> list[Section]:
    return [Section(f"Chapter {i}", f"What happens in chapter {i}.", w) for i, w in enumerate(words, 1)]


def test_with_handoffs_links_each_section_to_its_neighbours():
    linked = with_handoffs(_sections(100, 200, 300, 400))
    assert linked[0].handoff_in == ""
    assert linked[-1].handoff_out == ""
    for before, after in itertools.pairwise(linked):
        assert before.path in after.handoff_in and before.brief in after.handoff_in
        assert after.path in before.handoff_out and after.brief in before.handoff_out


def test_with_handoffs_keeps_paths_briefs_and_budgets():
    sections = _sections(100, 200, 300)
    linked = with_handoffs(sections)
    assert [(s.path, s.brief, s.budget_words) for s in linked] == [(s.path, s.brief, s.budget_words) for s in sections]


def test_a_lone_section_has_no_handoffs():
    (only,) = with_handoffs(_sections(500))
    assert (only.handoff_in, only.handoff_out) == ("", "")


def test_with_handoffs_of_no_sections_is_empty():
    assert with_handoffs([]) == []


@pytest.mark.parametrize("words, chunk_words, first_index, first_section", [
    ((1,), 800, 0, 0),
    ((800, 801, 2400, 1), 800, 0, 0),
    ((12_345, 3, 999), 700, 10, 4),
    ((500_000,), 800, 0, 0),
    ((5, 5, 5), 1, 3, 1),
])
def test_chunks_of_numbers_contiguously_and_sums_per_section_to_its_words(words, chunk_words, first_index,
                                                                          first_section):
    sections = with_handoffs(_sections(*words))
    chunks = chunks_of(sections, chunk_words, first_index=first_index, first_section=first_section)
    assert [c.chunk_index for c in chunks] == list(range(first_index, first_index + len(chunks)))
    assert [c.section_index for c in chunks] == sorted(c.section_index for c in chunks)
    per_section = {index: sum(c.budget_words for c in group)
                   for index, group in itertools.groupby(chunks, key=lambda c: c.section_index)}
    assert per_section == {first_section + i: s.budget_words for i, s in enumerate(sections)}
    assert all(1 <= c.budget_words <= chunk_words for c in chunks)
    assert all(c.source_text is None for c in chunks)


def test_chunks_of_continues_numbering_from_the_first_index_and_section():
    chunks = chunks_of(_sections(1600, 800), 800, first_index=10, first_section=4)
    assert [(c.chunk_index, c.section_index, c.budget_words) for c in chunks] == [
        (10, 4, 800), (11, 4, 800), (12, 5, 800)]
