"""How a target is cut into budgets: the planner plans by these rules and the gateway's estimate
(contracts/estimate.py) counts by them, so a dry run's calls are the plan's."""

import math


def largest_remainder(total: int, weights: list[float]) -> list[int]:
    """Whole shares of `total` in proportion to `weights`, summing to exactly `total`."""
    scale = total / sum(weights)
    shares = [w * scale for w in weights]
    whole = [math.floor(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: shares[i] - whole[i], reverse=True)
    for i in by_remainder[: total - sum(whole)]:
        whole[i] += 1
    return whole


def budgets(total: int, chunk_words: int) -> list[int]:
    """Even budgets of at most chunk_words each, summing to exactly total."""
    count = max(1, math.ceil(total / chunk_words))
    return largest_remainder(total, [1.0] * count)


def passage_words(source_words: int, target_words: int, chunk_words: int) -> int:
    """A rewrite's passages: neither a passage nor its rework may exceed chunk_words."""
    return max(1, min(chunk_words, round(chunk_words * source_words / target_words)))


def outline_sections(target_words: int, section_words: int) -> int:
    """How many sections an outline is asked for."""
    return max(1, round(target_words / section_words))
