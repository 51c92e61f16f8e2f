"""Planning a word target into sections and chunks whose budgets add up to at least the target (SPEC L1, C1)."""

import itertools

import pytest

from services.planner.plan import budgets, outline

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


def test_outline_of_a_one_word_target_is_one_chunk_of_one_word():
    (only,) = outline(1, 800, 3)
    assert (only.chunk_index, only.section_index, only.target_words) == (0, 0, 1)
    assert "whole document" in only.brief


@pytest.mark.parametrize("target, chunk_words, per_section", [
    (1, 800, 1), (799, 800, 3), (5000, 800, 3), (12_345, 700, 4), (500_000, 800, 3), (100, 1, 7),
])
def test_outline_covers_the_target_with_contiguous_chunks_and_sections(target, chunk_words, per_section):
    plan = outline(target, chunk_words, per_section)
    assert sum(c.target_words for c in plan) >= target
    assert [c.chunk_index for c in plan] == list(range(len(plan)))
    sections = [c.section_index for c in plan]
    assert sections == sorted(sections)
    assert sorted(set(sections)) == list(range(len(set(sections))))
    sizes = [len(list(group)) for _, group in itertools.groupby(sections)]
    assert all(size == per_section for size in sizes[:-1])
    assert 1 <= sizes[-1] <= per_section


def test_outline_continues_numbering_from_the_first_index_and_section():
    plan = outline(2400, 800, 2, first_index=10, first_section=4, label="extension 1")
    assert [(c.chunk_index, c.section_index) for c in plan] == [(10, 4), (11, 4), (12, 5)]
    assert {c.section_title for c in plan} == {"Extension 1 section 1 of 2", "Extension 1 section 2 of 2"}


def test_outline_titles_each_section_with_its_position():
    plan = outline(4000, 800, 2)
    assert [c.section_title for c in plan] == [
        "Document section 1 of 3", "Document section 1 of 3",
        "Document section 2 of 3", "Document section 2 of 3",
        "Document section 3 of 3",
    ]


def test_outline_briefs_open_develop_and_close_the_document():
    briefs = [c.brief for c in outline(2400, 800, 3)]
    assert briefs[0].startswith("The opening of the document")
    assert briefs[1].startswith("Part 2 of 3 of the document")
    assert briefs[2].startswith("The closing of the document")
