"""What a delivered document must never hold: Longform's own prompt scaffolding (any run of 8
words from the prompt templates' fixed text), labels, chat-template tokens, chatter. Used by the
length tests against the fake and by the real-model tier."""

import re
from pathlib import Path

from services.generator.cleaning import shingles
from services.generator.prompts import _TASKS

_TEMPLATES = [*(Path("services/generator/prompts").glob("*.txt")), *(Path("services/planner/prompts").glob("*.txt"))]
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
MARKERS = ("SUMMARY:", "LEDGER:", "<start_of_turn>", "<end_of_turn>", "<|im_end|>", "### Response", '"""',
           "I hope this helps", "Let me know if", "Here is the next part", "Style sheet:", "Brief for this part:")


def template_runs() -> set[tuple[str, ...]]:
    root = Path(__file__).resolve().parents[1]
    found: set[tuple[str, ...]] = set()
    for path in _TEMPLATES:
        for task in _TASKS.values():  # the writer's task is fixed text too
            for literal in _PLACEHOLDER.split((root / path).read_text().replace("{task}", task)):
                found |= shingles(literal)
    return found


def scaffolding_in(document: str) -> list[str]:
    """What of the scaffolding the document holds (empty when clean)."""
    runs = sorted(" ".join(run) for run in shingles(document) & template_runs())
    return [m for m in MARKERS if m.lower() in document.lower()] + runs
