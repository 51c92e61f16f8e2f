"""Deterministic filler prose with an exact word count, plus word and token arithmetic.

Words are whitespace-separated runs; tokens are approximated as ceil(words * 4 / 3).
"""

import hashlib
import math
import random
import re

from fake_llm.vocabulary import (
    ADJECTIVES,
    ADVERBS,
    DETERMINERS,
    INTRANSITIVE_VERBS,
    NOUNS,
    PREPOSITIONS,
    VERBS,
)

DEFAULT_WORD_COUNT = 300
MAX_WORD_COUNT = 100_000
_REQUESTED_WORDS = re.compile(r"\b(\d{1,3}(?:,\d{3})+|\d+)(?:\s+|-)words?\b", re.IGNORECASE)
_WORD = re.compile(r"\S+")
_SHORTEST_FULL_SENTENCE = 5
_PARAGRAPH_WORDS = (60, 110, 40)  # typical low, typical high, shortest last part
_SENTENCE_WORDS = (7, 18, 7)


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


def approx_tokens(text: str) -> int:
    return math.ceil(count_words(text) * 4 / 3)


def words_within_tokens(max_tokens: int) -> int:
    """Most words whose approximate token count still fits in max_tokens."""
    return max(0, max_tokens) * 3 // 4


def requested_word_count(prompt: str, default: int = DEFAULT_WORD_COUNT) -> int:
    """The last "<number> words" in the prompt (the writer's own instruction comes after the
    user's brief, which may name the whole document's length), else the default."""
    matches = _REQUESTED_WORDS.findall(prompt)
    if not matches:
        return default
    return min(int(matches[-1].replace(",", "")), MAX_WORD_COUNT)


def first_words(text: str, limit: int) -> str:
    """The text cut after its first `limit` words, layout kept."""
    if limit <= 0:
        return ""
    for index, match in enumerate(_WORD.finditer(text), start=1):
        if index == limit:
            return text[: match.end()]
    return text


def looping(prompt: str, word_count: int, prose_words: int, rng: random.Random) -> str:
    """A small model stuck in a loop (as Gemma 3 270M writes one): `prose_words` of prose, then
    the prompt's first words and one short phrase, glued to a stray token, over and over:
    `word_count` words in all, the loop never ending a sentence."""
    prose = write_prose(prose_words, rng).split() if prose_words else []
    phrase = [rng.choice(("The", "the", "A")), rng.choice(("keeper", "river", "next", "words")) + "ท่าน"]
    words = prose + prompt.split()[:6] + phrase * word_count
    return " ".join(words[:max(word_count, len(prose) + 20)])


def stream_pieces(text: str, words_per_piece: int = 4) -> list[str]:
    """Pieces (each with its leading whitespace) that concatenate back to the text."""
    runs = re.findall(r"\s*\S+", text)
    return ["".join(runs[i : i + words_per_piece]) for i in range(0, len(runs), words_per_piece)]


def seeded_rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def write_prose(word_count: int, rng: random.Random) -> str:
    """Paragraphs of 40-120 words (when there is room) totalling exactly word_count words."""
    lengths = _split_lengths(word_count, _PARAGRAPH_WORDS, rng)
    return "\n\n".join(_paragraph(length, rng) for length in lengths)


def _split_lengths(total: int, bounds: tuple[int, int, int], rng: random.Random) -> list[int]:
    """Split total into parts of low..high words, the last part at least floor (if total allows)."""
    low, high, floor = bounds
    lengths: list[int] = []
    remaining = total
    while remaining > high:
        length = rng.randint(min(low, remaining - floor), min(high, remaining - floor))
        lengths.append(length)
        remaining -= length
    if remaining > 0:
        lengths.append(remaining)
    return lengths


def _paragraph(length: int, rng: random.Random) -> str:
    return " ".join(_sentence(size, rng) for size in _split_lengths(length, _SENTENCE_WORDS, rng))


def _sentence(size: int, rng: random.Random) -> str:
    words = _tiny_sentence(size, rng) if size < _SHORTEST_FULL_SENTENCE else _full_sentence(size, rng)
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def _tiny_sentence(size: int, rng: random.Random) -> list[str]:
    shapes = {
        1: lambda: [rng.choice(ADVERBS)],
        2: lambda: ["nobody", rng.choice(INTRANSITIVE_VERBS)],
        3: lambda: ["the", rng.choice(NOUNS), rng.choice(INTRANSITIVE_VERBS)],
        4: lambda: ["the", rng.choice(ADJECTIVES), rng.choice(NOUNS), rng.choice(INTRANSITIVE_VERBS)],
    }
    return shapes[size]()


def _full_sentence(size: int, rng: random.Random) -> list[str]:
    subject_size, object_size = _core_sizes(size, rng)
    rest = size - subject_size - 1 - object_size
    adverb = _wants_adverb(rest, rng)
    verb = [rng.choice(ADVERBS)] if adverb else []
    verb.append(rng.choice(VERBS))
    fills = [_fill(length, rng) for length in _threes_and_fours(rest - adverb, rng)]
    core = _noun_phrase(subject_size, rng) + verb + _noun_phrase(object_size, rng)
    if fills and fills[0][0] in PREPOSITIONS and rng.random() < 0.25:
        opener = fills.pop(0)
        opener[-1] += ","
        return opener + core + [word for fill in fills for word in fill]
    return core + [word for fill in fills for word in fill]


def _core_sizes(size: int, rng: random.Random) -> tuple[int, int]:
    """Subject and object phrase sizes leaving a remainder the fills can cover (never 2)."""
    options = [(s, o) for s in (2, 3) for o in (2, 3) if size - s - 1 - o >= 0 and size - s - 1 - o != 2]
    return rng.choice(options)


def _wants_adverb(rest: int, rng: random.Random) -> bool:
    if not _splits_into_threes_and_fours(rest):
        return True
    return _splits_into_threes_and_fours(rest - 1) and rng.random() < 0.3


def _threes_and_fours(total: int, rng: random.Random) -> list[int]:
    parts: list[int] = []
    while total > 0:
        size = rng.choice([s for s in (3, 4) if _splits_into_threes_and_fours(total - s)])
        parts.append(size)
        total -= size
    return parts


def _splits_into_threes_and_fours(total: int) -> bool:
    return total == 0 or (total >= 3 and total != 5)


def _noun_phrase(size: int, rng: random.Random) -> list[str]:
    adjectives = [rng.choice(ADJECTIVES) for _ in range(size - 2)]
    return [rng.choice(DETERMINERS), *adjectives, rng.choice(NOUNS)]


def _fill(size: int, rng: random.Random) -> list[str]:
    if size == 4 and rng.random() < 0.35:
        return ["and", rng.choice(VERBS), *_noun_phrase(2, rng)]
    return [rng.choice(PREPOSITIONS), *_noun_phrase(size - 1, rng)]
