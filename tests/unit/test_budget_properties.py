"""Properties of the length arithmetic (SPEC L1, L4, C1) over the whole range of targets: every plan's
budgets add up to the target, and the writer's continuation rule reaches a chunk's target."""

import json
from fractions import Fraction

from hypothesis import assume, event, example, given, settings, strategies as st

from services.planner.outline import OutlineError, parse_outline
from contracts.budgets import budgets, largest_remainder
from services.planner.plan import Section, chunks_of, with_handoffs
from services.planner.source import TargetShares

_PROPERTY = settings(max_examples=200, deadline=None, database=None)  # nothing written into the repo
targets = st.integers(1, 500_000)
chunk_sizes = st.integers(50, 2000)


@_PROPERTY
@given(targets, chunk_sizes)
def test_budgets_sum_exactly_and_none_exceeds_the_chunk_size(total, chunk_words):
    sizes = budgets(total, chunk_words)
    assert sum(sizes) == total
    assert all(1 <= size <= chunk_words for size in sizes)


@_PROPERTY
@given(targets, st.lists(st.floats(1e-6, 1e9, allow_nan=False), min_size=1, max_size=200))
def test_largest_remainder_sums_exactly_and_each_share_is_within_one_of_its_proportion(total, weights):
    shares = largest_remainder(total, weights)
    assert sum(shares) == total
    exact = [Fraction(total) * Fraction(w) / sum(map(Fraction, weights)) for w in weights]
    assert all(abs(share - due) < 1 for share, due in zip(shares, exact))


# Leaf words as an LLM might write them: missing, zero, negative, text, or anything up to absurdly large.
# (Budgets above a million words per leaf count as weight 1: see test_outline.py.)
leaf_words = st.one_of(
    st.none(), st.just(0), st.integers(-1000, -1), st.just("about 2000"),
    st.integers(1, 3000), st.integers(1, 10**300), st.floats(1e-300, 1e300),
)
titles = st.text("abcXYZ éß—›{}[]\"\\\n\t 語", min_size=1, max_size=10).filter(str.strip)


def _nodes(depth: int):
    def leaf(title, words):
        return {"title": title, "brief": f"About {title}.", **({} if words is None else {"words": words})}

    leaves = st.builds(leaf, titles, leaf_words)
    if depth == 1:
        return st.lists(leaves, min_size=1, max_size=8)
    return st.lists(st.builds(lambda title, children: {"title": title, "children": children},
                              titles, _nodes(depth - 1)), min_size=1, max_size=3)


@_PROPERTY
@given(st.integers(1, 3).flatmap(_nodes), targets, st.sampled_from([1, 50, 150, 400]), st.booleans())
def test_an_accepted_outline_budgets_exactly_the_target(nodes, target, min_section_words, fenced):
    reply = json.dumps({"style": {"tone": "plain"}, "nodes": nodes})
    if fenced:
        reply = f"Here you are:\n```json\n{reply}\n```\nEnjoy."
    try:
        outline = parse_outline(reply, target, min_section_words)
    except OutlineError:
        event("rejected")
        return
    event("accepted")
    assert sum(s.budget_words for s in outline.sections) == target
    assert all(s.budget_words >= 1 for s in outline.sections)


sections = st.lists(st.builds(Section, st.just("Section"), st.just("Brief."), st.integers(1, 50_000)),
                    min_size=1, max_size=40)


@_PROPERTY
@given(sections, chunk_sizes, st.integers(0, 1000), st.integers(0, 100))
def test_chunks_of_linked_sections_budget_exactly_the_sections_words(planned, chunk_words, first_index,
                                                                     first_section):
    chunks = chunks_of(with_handoffs(planned), chunk_words, first_index, first_section)
    assert sum(c.budget_words for c in chunks) == sum(s.budget_words for s in planned)
    assert [c.chunk_index for c in chunks] == list(range(first_index, first_index + len(chunks)))
    assert {c.section_index for c in chunks} == set(range(first_section, first_section + len(planned)))
    assert all(1 <= c.budget_words <= chunk_words for c in chunks)


@_PROPERTY
@given(st.lists(st.integers(1, 2000), min_size=1, max_size=300), targets)
def test_target_shares_sum_to_the_target_when_every_passage_is_due_a_word(passage_sizes, target):
    # A share is rounded on the running total and never below one word; when some passage is due
    # less than one word the sum can exceed the target (see test_source_split.py).
    assume(target * min(passage_sizes) >= sum(passage_sizes))
    shares = TargetShares(sum(passage_sizes), target)
    given_shares = [shares.next(size) for size in passage_sizes]
    assert sum(given_shares) == shares.given == target
    assert min(given_shares) >= 1


@_PROPERTY
@given(st.lists(st.integers(1, 2000), min_size=1, max_size=300), targets)
def test_target_shares_never_fall_short_of_the_target(passage_sizes, target):
    shares = TargetShares(sum(passage_sizes), target)
    assert sum(shares.next(size) for size in passage_sizes) >= target


# The generator's continuation rule (services/generator/writer.py, ChunkWriter.write/_prompt): each
# round asks for max(remaining, min(min_request_words, target)) and stops once the draft reaches the
# target or after max_rounds kept replies. Failed or rejected replies (an empty one included) do not
# count as rounds, so the simulated model always writes at least one word.
MAX_ROUNDS = 10
MIN_REQUEST_WORDS = 60


def _write_chunk(target: int, fractions: list[float]) -> tuple[int, int, int]:
    """Words written, and the deficit and request of the last round."""
    words = asked = deficit = rounds = 0
    while words < target and rounds < MAX_ROUNDS:
        deficit = target - words
        asked = max(deficit, min(MIN_REQUEST_WORDS, target))
        words += max(1, round(fractions[rounds] * asked))
        rounds += 1
    return words, deficit, asked


chunk_targets = st.integers(1, 2000)
fractions = st.lists(st.floats(0.2, 1.8), min_size=MAX_ROUNDS, max_size=MAX_ROUNDS)


@_PROPERTY
@given(chunk_targets, st.lists(st.floats(0.4, 1.8), min_size=MAX_ROUNDS, max_size=MAX_ROUNDS))
@example(2000, [0.4] * MAX_ROUNDS)
def test_a_model_writing_at_least_forty_percent_of_each_request_reaches_the_target(target, fractions_written):
    # The deficit shrinks by at least 40% a round while it is over min_request_words, then by at least 24
    # words a round; ten rounds cover chunks up to about 2,890 words at 40%, beyond that they do not.
    words, _, _ = _write_chunk(target, fractions_written)
    assert words >= target


@_PROPERTY
@given(chunk_targets, fractions)
@example(800, [0.99875, 1.8] + [1.0] * 8)  # 799 words, then 60 asked for the last word: 108 written
@example(50, [0.5, 1.8] + [1.0] * 8)  # a chunk under min_request_words is asked for in full every round
def test_the_overshoot_is_bounded_by_the_last_request(target, fractions_written):
    # The last reply is at most 1.8 x asked (+0.5 for a whole word) and it only had to cover the deficit.
    # When the deficit is at least min(min_request_words, target), asked == deficit and the overshoot is
    # at most 0.8 x asked. Below that floor the request is the floor itself, so a one-word deficit can
    # draw 1.8 x floor - 1 words over: up to 107 for min_request_words=60, more than max(60, 0.8 x asked).
    words, deficit, asked = _write_chunk(target, fractions_written)
    overshoot = words - target
    floor = min(MIN_REQUEST_WORDS, target)
    assert overshoot <= 1.8 * asked + 0.5 - deficit
    assert overshoot <= max(0.8 * asked + 0.5, 1.8 * floor - 0.5)


def test_a_one_word_deficit_can_overshoot_by_more_than_min_request_words():
    words, deficit, asked = _write_chunk(800, [0.99875, 1.8] + [1.0] * 8)
    assert (deficit, asked, words - 800) == (1, 60, 107)
