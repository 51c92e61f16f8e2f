"""A rewrite source is split at paragraph (then sentence) boundaries as it streams in slices, so the
planner holds one slice and one passage at a time (SPEC C1, S3); each passage gets a target in
proportion to its share of the source, summing to the job's target (SPEC L1)."""

import random
from fractions import Fraction

import pytest

from contracts.budgets import passage_words
from contracts.wordcount import count_words
from services.planner.source import TargetShares, paragraphs, passages

_SENTENCES = [
    "The harbour was quiet before the storm.",
    "Nobody on the pier had seen the boat leave!",
    "Was it the keeper who rang the bell at midnight?",
    "Rain came in sideways, grey and relentless, over the sea wall.",
    "She counted the lamps along the quay: seven, then six.",
    "Extraordinarily, the telegraph kept working.",
    "A dog barked twice.",
]


def _paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(rng.choice(_SENTENCES) for _ in range(sentences))


def _source(seed: int = 7, count: int = 9, longest: int = 4) -> tuple[str, list[str]]:
    """A text of short paragraphs separated by assorted blank lines, and its paragraphs."""
    rng = random.Random(seed)
    paras = [_paragraph(rng, rng.randint(1, longest)) for _ in range(count)]
    paras[2] = paras[2].replace(" ", "\n", 1)  # a line break inside a paragraph is not a paragraph break
    breaks = ["\n\n", "\n\n\n", "\n  \n", "\n\t\n\n", "\n \n \n"]
    text = "  " + "".join(p + rng.choice(breaks) for p in paras[:-1]) + paras[-1] + "\n"
    return text, paras


async def _slices(text: str, cuts: list[int]):
    bounds = [0, *sorted(cuts), len(text)]
    for start, end in zip(bounds, bounds[1:]):
        yield text[start:end]


async def _passages(text: str, cuts: list[int], max_words: int) -> list[str]:
    return [p async for p in passages(_slices(text, cuts), max_words)]


def _cut_sets(text: str) -> list[list[int]]:
    """Every single cut, cuts at every n characters, and random cut sets: many land inside a
    paragraph break and inside words."""
    rng = random.Random(len(text))
    every_n = [list(range(step, len(text), step)) for step in (1, 2, 3, 5, 8, 13, 64)]
    breaks = [i for i in range(1, len(text)) if text[i - 1] == "\n" or text[i] == "\n"]
    return ([[]] + [[i] for i in range(1, len(text))] + every_n + [breaks]
            + [rng.sample(range(1, len(text)), rng.randint(2, 40)) for _ in range(200)])


_LONGEST_SENTENCE = max(count_words(s) for s in _SENTENCES)
@pytest.mark.parametrize("max_words", [_LONGEST_SENTENCE, 20, 45, 1000])
async def test_passages_hold_every_word_of_the_source_in_order_wherever_the_slices_are_cut(max_words):
    text, _ = _source()
    for cuts in _cut_sets(text):
        found = await _passages(text, cuts, max_words)
        assert " ".join(found).split() == text.split(), cuts


@pytest.mark.parametrize("max_words", [pytest.param(m) for m in (1, 3, 8)])
async def test_passages_keep_the_word_order_when_a_sentence_is_longer_than_max_words(max_words):
    text, _ = _source()
    for cuts in _cut_sets(text):
        found = await _passages(text, cuts, max_words)
        assert " ".join(found).split() == text.split(), cuts


async def test_a_sentence_cut_at_words_after_a_short_one_keeps_the_word_order():
    text = "One two. Three four five six."
    assert " ".join(await _passages(text, [], 3)).split() == text.split()


@pytest.mark.parametrize("max_words", [1, 3, 8, 20, 45, 1000])
async def test_no_passage_is_longer_than_max_words(max_words):
    text, _ = _source()
    for cuts in _cut_sets(text):
        sizes = [count_words(p) for p in await _passages(text, cuts, max_words)]
        assert all(1 <= size <= max_words for size in sizes), (cuts, sizes)


async def test_paragraphs_that_fit_are_kept_whole_and_joined_by_blank_lines():
    text, paras = _source()
    max_words = max(count_words(p) for p in paras) + 10
    for cuts in _cut_sets(text):
        found = await _passages(text, cuts, max_words)
        assert [piece for p in found for piece in p.split("\n\n")] == paras, cuts


async def test_consecutive_paragraphs_are_packed_while_they_fit():
    text, paras = _source()
    max_words = max(count_words(p) for p in paras) + 10
    found = await _passages(text, [], max_words)
    assert len(found) < len(paras)
    for this, following in zip(found, found[1:]):
        first_of_next = following.split("\n\n")[0]
        assert count_words(this) + count_words(first_of_next) > max_words


async def test_paragraph_breaks_split_across_slices_are_still_breaks():
    text = "First paragraph here.\n\nSecond paragraph here.\n \nThird one."
    for cut in range(1, len(text)):
        assert await _passages(text, [cut], 3) == ["First paragraph here.", "Second paragraph here.", "Third one."]


async def test_paragraphs_stream_without_their_surrounding_whitespace():
    text, paras = _source()
    for cuts in _cut_sets(text)[:300]:
        assert [p async for p in paragraphs(_slices(text, cuts))] == paras


async def test_a_paragraph_longer_than_max_words_is_cut_at_sentence_ends():
    sentences = [f"Sentence number {n} has exactly seven words." for n in range(12)]
    text = "Short opening.\n\n" + " ".join(sentences) + "\n\nShort closing."
    for cuts in _cut_sets(text)[::7]:
        pieces = [piece for p in await _passages(text, cuts, 20) for piece in p.split("\n\n")]
        assert pieces[0] == "Short opening." and pieces[-1] == "Short closing.", cuts
        assert [count_words(p) for p in pieces[1:-1]] == [14] * 6, cuts
        assert all(p.startswith("Sentence") and p.endswith("words.") for p in pieces[1:-1]), cuts


async def test_a_sentence_longer_than_max_words_is_cut_at_words():
    text = " ".join(f"w{i}" for i in range(25)) + "."
    found = await _passages(text, [5, 17], 10)
    assert [count_words(p) for p in found] == [10, 10, 5]
    assert " ".join(found).split() == text.split()


@pytest.mark.parametrize("text", ["", " ", "\n\n", "  \n\t\n \n\n   ", "\n" * 50])
async def test_blank_input_yields_no_passages(text):
    for cuts in ([], *([i] for i in range(1, len(text)))):
        assert await _passages(text, cuts, 10) == []


async def test_no_slices_yield_no_passages():
    async def nothing():
        return
        yield

    assert [p async for p in passages(nothing(), 10)] == []


async def test_a_cjk_paragraph_is_cut_to_max_words_by_the_one_word_counter():
    text = "我们今天去公园散步。天气很好，阳光明媚。" * 20
    found = await _passages(text, [], 50)
    assert all(count_words(p) <= 50 for p in found), [count_words(p) for p in found]


def _shares(source: list[int], target: int) -> list[int]:
    shares = TargetShares(sum(source), target)
    given = [shares.next(size) for size in source]
    assert shares.given == sum(given)
    return given


def _exact(source: list[int], target: int) -> list[Fraction]:
    return [Fraction(target * size, sum(source)) for size in source]


def _passage_sizes(rng: random.Random) -> list[int]:
    return [rng.choice([1, 2, rng.randint(1, 80), rng.randint(1, 2000)]) for _ in range(rng.randint(1, 60))]


def test_shares_sum_to_the_target_and_stay_proportional_when_every_passage_is_due_a_word():
    rng = random.Random(11)
    checked = 0
    while checked < 2000:
        source = _passage_sizes(rng)
        target = rng.randint(1, 500_000)
        exact = _exact(source, target)
        if min(exact) < 1:
            continue
        given = _shares(source, target)
        assert sum(given) == target, (source, target)
        assert all(share >= 1 for share in given)
        assert all(abs(share - due) <= 1 for share, due in zip(given, exact)), (source, target)
        checked += 1


def test_shares_never_fall_short_of_the_target_and_each_is_at_least_one_word():
    rng = random.Random(12)
    for _ in range(3000):
        source = _passage_sizes(rng)
        target = rng.randint(1, 5000)
        given = _shares(source, target)
        assert sum(given) >= target, (source, target)
        assert min(given) >= 1


@pytest.mark.parametrize("source, target", [([10], 1), ([3, 3, 3], 3), ([1] * 100, 100), ([5, 1, 5], 7)])
def test_shares_of_a_target_as_small_as_the_passage_count_are_one_word_or_more_each(source, target):
    given = _shares(source, target)
    assert sum(given) == target
    assert min(given) >= 1


def test_a_passage_owed_less_than_a_word_still_gets_one_so_the_sum_never_falls_short():
    # Streaming cannot know how many passages are still to come, so it cannot hold words back for
    # them: each gets at least one, and the sum goes over the target by at most one per passage.
    shares = _shares([98, 1, 1], 3)
    assert shares == [3, 1, 1]
    assert 3 <= sum(shares) <= 3 + len(shares)


def test_a_passage_share_is_counted_against_the_source_total_even_if_the_passages_overrun_it():
    shares = TargetShares(10, 100)
    assert [shares.next(5), shares.next(5), shares.next(5)] == [50, 50, 1]


@pytest.mark.parametrize("source_words, target_words, chunk_words, expected", [
    (1000, 1000, 800, 800),  # same length: a chunk's worth of source per chunk
    (1000, 2000, 800, 400),  # expand twice: half a chunk of source per chunk
    (1000, 500, 800, 800),  # condense: never more than a chunk of source
    (1, 500_000, 800, 1),  # tiny source, huge target: at least one word
])
def test_passage_words_keep_both_the_passage_and_its_rework_within_a_chunk(source_words, target_words,
                                                                         chunk_words, expected):
    assert passage_words(source_words, target_words, chunk_words) == expected


def test_passage_words_stay_within_one_and_the_chunk_size():
    rng = random.Random(13)
    for _ in range(5000):
        chunk_words = rng.randint(50, 2000)
        size = passage_words(rng.randint(1, 1_000_000), rng.randint(1, 500_000), chunk_words)
        assert 1 <= size <= chunk_words
