"""Pure planning: split a word target into sections and chunks whose budgets sum to >= target."""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class PlannedChunk:
    chunk_index: int
    section_index: int
    section_title: str
    brief: str
    target_words: int


def budgets(total: int, chunk_words: int) -> list[int]:
    """Even budgets of at most chunk_words each, summing to exactly total."""
    count = max(1, math.ceil(total / chunk_words))
    base, extra = divmod(total, count)
    return [base + (1 if i < extra else 0) for i in range(count)]


def _brief(position: int, count: int, label: str) -> str:
    if count == 1:
        return f"The whole {label}: give it a beginning, a development and an ending."
    if position == 0:
        return f"The opening of the {label}: set up the subject and what is at stake."
    if position == count - 1:
        return f"The closing of the {label}: bring its threads together and conclude."
    return f"Part {position + 1} of {count} of the {label}: develop the subject further, with new material."


def outline(target_words: int, chunk_words: int, per_section: int, first_index: int = 0,
            first_section: int = 0, label: str = "document") -> list[PlannedChunk]:
    plan = []
    sizes = budgets(target_words, chunk_words)
    sections = math.ceil(len(sizes) / per_section)
    for i, size in enumerate(sizes):
        section = i // per_section
        plan.append(PlannedChunk(
            chunk_index=first_index + i, section_index=first_section + section,
            section_title=f"{label.capitalize()} section {section + 1} of {sections}",
            brief=_brief(i, len(sizes), label), target_words=size,
        ))
    return plan
