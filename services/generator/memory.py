"""The coherence state carried from chunk to chunk (SPEC C2): a rolling summary, a ledger of
names, terms and decisions, and the style sheet. Bounded in code, so a chunk's prompt stays the
same size whether the document has 1,000 words or 500,000."""

import re
from dataclasses import dataclass

_LABEL = re.compile(r"^\s*(SUMMARY|LEDGER)\s*:\s*", re.I | re.M)
_ENTRY = re.compile(r"^\s*[-*•]?\s*([^:\n]{1,80}):\s*(.+?)\s*$")


@dataclass(frozen=True)
class Memory:
    summary: str = ""
    ledger: str = ""
    style: str = ""


def _sections(reply: str) -> dict[str, str]:
    parts = _LABEL.split(reply)
    # split gives [before, label, text, label, text, ...]
    return {parts[i].upper(): parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}


def _bounded_summary(text: str, max_words: int) -> str:
    words = text.split()
    return " ".join(words[:max_words])


def merged_ledger(old: str, new: str, max_entries: int) -> str:
    """Entries by name, the newest description winning; the oldest fall off past max_entries."""
    entries: dict[str, str] = {}
    for line in (old + "\n" + new).splitlines():
        match = _ENTRY.match(line)
        if match:
            name = match.group(1).strip()
            entries.pop(name.lower(), None)
            entries[name.lower()] = f"- {name}: {match.group(2)}"
    return "\n".join(list(entries.values())[-max_entries:])


def updated(memory: Memory, reply: str, *, max_summary_words: int, max_entries: int) -> Memory | None:
    """The memory after a summariser reply, or None when the reply has no usable summary."""
    sections = _sections(reply)
    summary = sections.get("SUMMARY", "")
    if not summary.split():
        return None
    return Memory(
        summary=_bounded_summary(summary, max_summary_words),
        ledger=merged_ledger(memory.ledger, sections.get("LEDGER", ""), max_entries),
        style=memory.style,
    )
