"""Titles and proper names made from the prose vocabulary, never repeated within one reply."""

import random
from typing import Callable, Iterator

from fake_llm.vocabulary import ADJECTIVES, NOUNS, PREPOSITIONS

_PLACE_SUFFIXES = ("ton", "ford", "wick", "by", "well", "mere", "stead")


def title(rng: random.Random) -> str:
    shapes = (
        lambda: f"the {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}",
        lambda: f"{rng.choice(PREPOSITIONS)} the {rng.choice(NOUNS)}",
        lambda: f"the {rng.choice(NOUNS)} of the {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}",
    )
    return _capitalised(rng.choice(shapes)())


def proper_name(rng: random.Random) -> str:
    shapes = (
        lambda: f"{rng.choice(NOUNS)}{rng.choice(_PLACE_SUFFIXES)}",
        lambda: f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}",
    )
    return _capitalised(rng.choice(shapes)())


def distinct(make: Callable[[random.Random], str], rng: random.Random) -> Iterator[str]:
    seen: set[str] = set()
    while True:
        name = make(rng)
        if name not in seen:
            seen.add(name)
            yield name


def _capitalised(phrase: str) -> str:
    small = {"the", "of"}
    words = phrase.split()
    return " ".join(w if w in small and i else w.capitalize() for i, w in enumerate(words))
