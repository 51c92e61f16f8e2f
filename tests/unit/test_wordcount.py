"""SPEC L2: the one word counter. Words are maximal runs of non-whitespace (as `wc -w`), except that
each CJK ideograph, kana or hangul syllable is a word of its own."""

import random
import string
import unicodedata

import pytest

from contracts.wordcount import WordTally, count_words


@pytest.mark.parametrize("text, words", [
    ("The quick brown fox jumps over the lazy dog", 9),
    ("Hello, world!", 2),
    ("Hello , world !", 4),
    ("Wait... what?!", 2),
    ("(parenthetical) [bracketed] {braced}", 3),
    ("-- — …", 3),
])
def test_plain_text_and_punctuation_count_as_runs_of_non_whitespace(text, words):
    assert count_words(text) == words


@pytest.mark.parametrize("text", [
    "one  two   three",
    "one\ttwo\t\tthree",
    "one\ntwo\n\nthree",
    "one\r\ntwo\r\n\r\nthree",
    "  one two three  ",
    "\n\none\f two\vthree\n",
])
def test_any_amount_of_ascii_whitespace_separates_words(text):
    assert count_words(text) == 3


@pytest.mark.parametrize("text", ["", " ", "   ", "\t\n\r\n", "\u00a0\u3000\u2003"])
def test_empty_or_whitespace_only_text_has_no_words(text):
    assert count_words(text) == 0


@pytest.mark.parametrize("space", ["\u00a0", "\u2003", "\u3000", "\u2007", "\u202f"])
def test_unicode_spaces_separate_words_as_in_python_and_gnu_wc(space):
    # GNU wc -w 9.x in a UTF-8 locale and Python's str.split() agree on these.
    text = f"alpha{space}beta{space}{space}gamma"
    assert count_words(text) == len(text.split()) == 3


@pytest.mark.parametrize("separator", ["\u0085", "\u2028", "\u2029", "\x1c", "\x1d", "\x1e", "\x1f"])
def test_where_wc_and_python_disagree_on_whitespace_python_str_split_is_followed(separator):
    # GNU wc -w 9.1 (C.UTF-8) counts "a\u0085b" or "a\x1cb" as ONE word; str.split() and this
    # counter see two. We follow str.split(): one notion of whitespace across the codebase.
    text = f"a{separator}b"
    assert text.split() == ["a", "b"]
    assert count_words(text) == 2


@pytest.mark.parametrize("joiner", ["\u200b", "\ufeff", "\u2060"])
def test_zero_width_characters_do_not_split_a_word(joiner):
    assert count_words(f"foo{joiner}bar baz") == 2


@pytest.mark.parametrize("text, words", [
    ("我爱你", 3),
    ("中华人民共和国", 7),
    ("私は学生です", 6),  # kanji + hiragana
    ("カタカナ", 4),
    ("ひらがな と カタカナ", 9),
    ("안녕하세요", 5),
    ("한국어 공부", 5),
    ("𠀀𠀁", 2),  # CJK extension B, outside the BMP
    ("㐀", 1),  # CJK extension A
    ("豈", 1),  # CJK compatibility ideograph
])
def test_each_cjk_ideograph_kana_and_hangul_syllable_counts_as_one_word(text, words):
    assert count_words(text) == words


@pytest.mark.parametrize("text, words", [
    ("我爱Python编程", 5),  # 我, 爱, Python, 编, 程
    ("I love 北京 very much", 6),
    ("Python3の本", 3),  # Python3, の, 本
    ("東京2020オリンピック", 2 + 1 + 6),
])
def test_latin_runs_inside_cjk_text_count_once_each(text, words):
    assert count_words(text) == words


def test_cjk_punctuation_is_a_run_of_its_own_like_latin_standalone_punctuation():
    # "。" and "，" are neither ideographs nor kana: by the L2 rule they form their own runs, just as
    # the standalone "!" in "Hello , world !" does. Pinned so a change here is deliberate.
    assert count_words("我爱你。") == 4
    assert count_words("你好，世界") == 5


@pytest.mark.parametrize("text, words", [
    ("😀", 1),
    ("😀😀😀", 1),
    ("I ❤️ NY 🗽", 4),
    ("👨‍👩‍👧 family", 2),
])
def test_emoji_follow_the_runs_of_non_whitespace_rule(text, words):
    assert count_words(text) == words


@pytest.mark.parametrize("text, words", [
    ("1 22 333", 3),
    ("3.14159 and 1,000,000", 3),
    ("2024-01-01T12:00:00Z", 1),
    ("well-known state-of-the-art", 2),
    ("don't can't o'clock rock'n'roll", 4),
    ("l’homme n’est pas", 3),
    ("e-mail: x@example.com", 2),
])
def test_digits_hyphens_and_apostrophes_stay_inside_their_word(text, words):
    assert count_words(text) == words


def _random_ascii_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits + string.punctuation + " \t\n\r\x0b\x0c" + "   \n"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120))) for _ in range(count)]


@pytest.mark.parametrize("text", _random_ascii_texts(400, seed=20240501))
def test_ascii_text_counts_as_python_str_split(text):
    assert count_words(text) == len(text.split())


_TALLY_TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "  leading and   trailing   spaces  ",
    "line one\r\nline two\n\n\tline three",
    "我爱Python编程，你呢？",
    "私は カタカナ と ひらがな を 勉強します。",
    "한국어 공부 hangul mix 안녕",
    "emoji 😀😀 and \u00a0nbsp\u3000ideographic space",
    "supercalifragilisticexpialidocious",
    "",
    "   ",
]

# A slice ending "word\n" must not glue "word" onto the next slice's first word.
_TALLY_TEXTS_WITH_SINGLE_NEWLINES = ["first line\nsecond line\nthird"]


@pytest.mark.parametrize("text", _TALLY_TEXTS + _TALLY_TEXTS_WITH_SINGLE_NEWLINES)
def test_tally_fed_in_two_slices_at_every_cut_counts_like_the_whole_text(text):
    expected = count_words(text)
    for cut in range(len(text) + 1):
        tally = WordTally()
        tally.feed(text[:cut])
        tally.feed(text[cut:])
        assert tally.total == expected, f"cut at {cut}: {text[:cut]!r} | {text[cut:]!r}"


@pytest.mark.parametrize("text", _TALLY_TEXTS[:6] + _TALLY_TEXTS_WITH_SINGLE_NEWLINES)
def test_tally_fed_one_character_at_a_time_counts_like_the_whole_text(text):
    tally = WordTally()
    for char in text:
        tally.feed(char)
    assert tally.total == count_words(text)


@pytest.mark.parametrize("text", [
    "ab  我c d\t\tef爱 g",
    "ab  我c d\n\nef爱 g",
])
def test_tally_fed_in_three_slices_at_every_pair_of_cuts_counts_like_the_whole_text(text):
    expected = count_words(text)
    for first in range(len(text) + 1):
        for second in range(first, len(text) + 1):
            tally = WordTally()
            for piece in (text[:first], text[first:second], text[second:]):
                tally.feed(piece)
            assert tally.total == expected, (first, second)


def test_word_after_a_newline_ending_a_slice_is_a_word_of_its_own():
    tally = WordTally()
    tally.feed("one two\n")
    tally.feed("three")
    assert tally.total == count_words("one two\nthree") == 3


def test_tally_total_can_be_read_midway_and_feeding_continues():
    tally = WordTally()
    tally.feed("alpha be")
    assert tally.total == 2
    tally.feed("ta gamma")
    assert tally.total == 3


def test_fresh_tally_counts_nothing():
    assert WordTally().total == 0


@pytest.mark.parametrize("kana", ["ｶﾀｶﾅ", "ㇰㇱㇲㇳ", "\U0001b000\U0001b001"])
def test_every_kana_form_counts_as_one_word_per_character(kana):
    assert count_words(kana) == len(kana)


@pytest.mark.parametrize("ideographs", ["\U0002f800\U0002f801", "\U00030000\U00030001"])
def test_ideographs_of_every_cjk_block_count_one_word_each(ideographs):
    assert all(unicodedata.name(c).startswith("CJK") for c in ideographs)
    assert count_words(ideographs) == len(ideographs)


def test_decomposed_kana_counts_like_composed_kana():
    composed = "ガギグ"
    assert count_words(unicodedata.normalize("NFD", composed)) == count_words(composed) == 3
