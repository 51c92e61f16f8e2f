"""A planner's outline as JSON: a style block and a tree of titled, briefed, budgeted nodes.

Leaf budgets drift 3-10% (seeded) from the requested total, as a real model's arithmetic does,
so the planner's repair code runs; an inner node's words are the sum of its children's.
Half the outlines (seeded) come wrapped in a ```json fence, as real models often send them.
"""

import json
import random
from typing import Any, Iterator

from fake_llm.analysis import leaves_with_passages
from fake_llm.names import distinct, title
from fake_llm.prose import write_prose
from fake_llm.vocabulary import ADJECTIVES

WORDS_PER_LEAF = 1500
MAX_FAN_OUT = 60
MAX_DEPTH = 3
_BRIEF_WORDS = (15, 30)
_DRIFT = (0.03, 0.10)
_FENCE_CHANCE = 0.5
_TENSES = ("past", "present")
_POINTS_OF_VIEW = ("first person", "third person limited", "third person omniscient")
_AUDIENCES = ("general readers", "young adults", "curious specialists", "students")


def write_outline(total_words: int, depth: int, rng: random.Random, passages: int | None = None) -> str:
    """depth 1: sections; 2: chapters > sections; 3: parts > chapters > sections. For an
    analysis's report (`passages`: how many the source has), each leaf says which it covers."""
    depth = min(max(depth, 1), MAX_DEPTH)
    leaves = min(max(1, round(total_words / WORDS_PER_LEAF)), MAX_FAN_OUT**depth)
    style = _style(rng)
    nodes = _OutlineWriter(rng, leaf_budgets(total_words, leaves, rng)).nodes(leaves, depth)
    if passages:
        leaves_with_passages(nodes, passages)
    text = json.dumps({"style": style, "nodes": nodes}, indent=2)
    return f"```json\n{text}\n```" if rng.random() < _FENCE_CHANCE else text


def leaf_budgets(total_words: int, count: int, rng: random.Random) -> list[int]:
    """Uneven budgets whose sum is near total_words but, deliberately, never equal to it."""
    drift = rng.choice((-1, 1)) * rng.uniform(*_DRIFT)
    weights = [rng.uniform(0.7, 1.3) for _ in range(count)]
    scale = total_words * (1 + drift) / sum(weights)
    budgets = [max(1, round(weight * scale)) for weight in weights]
    if sum(budgets) == total_words:
        budgets[0] += 1
    return budgets


class _OutlineWriter:
    def __init__(self, rng: random.Random, budgets: list[int]) -> None:
        self._rng = rng
        self._budgets: Iterator[int] = iter(budgets)
        self._titles = distinct(title, rng)

    def nodes(self, leaves: int, depth: int) -> list[dict[str, Any]]:
        if depth == 1:
            return [self._node(next(self._budgets), []) for _ in range(leaves)]
        fan_out = min(MAX_FAN_OUT, round(leaves ** (1 / depth)))
        groups = [self.nodes(share, depth - 1) for share in _even_split(leaves, fan_out)]
        return [self._node(sum(child["words"] for child in children), children) for children in groups]

    def _node(self, words: int, children: list[dict[str, Any]]) -> dict[str, Any]:
        brief = write_prose(self._rng.randint(*_BRIEF_WORDS), self._rng)
        return {"title": next(self._titles), "brief": brief, "words": words, "children": children}


def _even_split(total: int, parts: int) -> list[int]:
    return [total // parts + (index < total % parts) for index in range(parts)]


def _style(rng: random.Random) -> dict[str, str]:
    return {
        "tone": f"{rng.choice(ADJECTIVES)} and {rng.choice(ADJECTIVES)}",
        "tense": rng.choice(_TENSES),
        "point_of_view": rng.choice(_POINTS_OF_VIEW),
        "audience": rng.choice(_AUDIENCES),
    }
