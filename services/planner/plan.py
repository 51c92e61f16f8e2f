"""Pure planning: sections with budgets (from the LLM's outline or made in code) become chunks
whose budgets sum to >= target; each section knows what comes before and after it."""

from dataclasses import dataclass, replace

from contracts.budgets import budgets


@dataclass(frozen=True)
class Section:
    path: str  # the heading path joined, as prompts show it
    brief: str
    budget_words: int
    handoff_in: str = ""
    handoff_out: str = ""
    titles: tuple[str, ...] = ()  # the heading path, outermost first (contracts/headings.py)
    title_source: str = "plan"  # plan; text (its first sentence titles it); none (no heading)


@dataclass(frozen=True)
class PlannedChunk:
    chunk_index: int
    section_index: int
    budget_words: int
    source_text: str | None = None


def _brief(position: int, count: int, label: str) -> str:
    if count == 1:
        return f"The whole {label}: give it a beginning, a development and an ending."
    if position == 0:
        return f"The opening of the {label}: set up the subject and what is at stake."
    if position == count - 1:
        return f"The closing of the {label}: bring its threads together and conclude."
    return f"Part {position + 1} of {count} of the {label}: develop the subject further, with new material."


def fallback_sections(target_words: int, section_words: int, label: str = "document") -> list[Section]:
    """An outline made in code, for extensions and when the LLM's outline failed. Its titles are
    provisional: each section's heading is its first sentence once written (`text`)."""
    sizes = budgets(target_words, section_words)
    return [Section(f"{label.capitalize()}, part {i + 1} of {len(sizes)}", _brief(i, len(sizes), label), size,
                    titles=(f"Part {i + 1}",), title_source="text")
            for i, size in enumerate(sizes)]


def with_handoffs(sections: list[Section]) -> list[Section]:
    def note(s: Section) -> str:
        return f"“{s.path}”: {s.brief}"

    return [replace(s, handoff_in=note(sections[i - 1]) if i > 0 else "",
                    handoff_out=note(sections[i + 1]) if i + 1 < len(sections) else "")
            for i, s in enumerate(sections)]


def chunks_of(sections: list[Section], chunk_words: int, first_index: int = 0,
              first_section: int = 0) -> list[PlannedChunk]:
    planned = []
    for offset, section in enumerate(sections):
        for size in budgets(section.budget_words, chunk_words):
            planned.append(PlannedChunk(first_index + len(planned), first_section + offset, size))
    return planned
