"""The coherence state carried from chunk to chunk (SPEC C2): a rolling summary, a ledger of
names, terms and decisions, and the style sheet. Bounded in code, so a chunk's prompt stays the
same size whether the document has 1,000 words or 500,000. A summariser's reply is read
leniently: JSON as asked, labelled text, or plain prose; when nothing usable comes back, the
next state is made in code."""

import json
import re
from dataclasses import dataclass

from services.generator.quality import sentences

_LABEL = re.compile(r"^\s*(SUMMARY|LEDGER)\s*:\s*", re.I | re.M)
_ENTRY = re.compile(r"^\s*[-*•]?\s*([^:\n]{1,80}):\s*(.+?)\s*$")

SCHEMA_NAME = "memory"
SCHEMA = {
    "type": "object",
    "properties": {
        "summary": {"type": "string"},
        "ledger": {"type": "array", "items": {
            "type": "object", "properties": {"name": {"type": "string"}, "description": {"type": "string"}},
            "required": ["name", "description"]}},
    },
    "required": ["summary", "ledger"],
}


@dataclass(frozen=True)
class Memory:
    summary: str = ""
    ledger: str = ""
    style: str = ""


@dataclass(frozen=True)
class Reading:
    """What a summariser reply gave: the summary and ledger text, and whether it was in the
    asked form (JSON or labels) or plain prose taken as the summary."""

    summary: str
    ledger: str
    as_asked: bool


def stored_memory(row, style: str) -> Memory:
    """The stored coherence state, or the plan's style sheet before the first version."""
    if row["version"] is None:
        return Memory(style=style)
    return Memory(row["summary"], row["ledger"], row["style"])


def read_reply(reply: str) -> Reading | None:
    """The reply as JSON, as labelled text, or as prose; None when it holds no words, or is JSON
    (a structured reply cut short, or of another shape) without a summary in it."""
    found = _as_json(reply) or _as_labelled(reply)
    if found or reply.lstrip().startswith(("{", "[")):
        return found
    return Reading(reply.strip(), "", False) if reply.split() else None


def _as_json(reply: str) -> Reading | None:
    start, end = reply.find("{"), reply.rfind("}")
    try:
        value = json.loads(reply[start:end + 1]) if 0 <= start < end else None
    except json.JSONDecodeError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("summary"), str) or not value["summary"].split():
        return None
    entries = value.get("ledger") if isinstance(value.get("ledger"), list) else []
    lines = [f"- {e['name']}: {e['description']}" for e in entries
             if isinstance(e, dict) and str(e.get("name", "")).strip() and str(e.get("description", "")).strip()]
    return Reading(value["summary"], "\n".join(lines), True)


def _as_labelled(reply: str) -> Reading | None:
    """Both labels, as asked; a stray SUMMARY: line in a chatty reply is not the asked form."""
    parts = _LABEL.split(reply)  # [before, label, text, label, text, ...]
    sections = {parts[i].upper(): parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    summary = sections.get("SUMMARY", "")
    return Reading(summary, sections["LEDGER"], True) if summary.split() and "LEDGER" in sections else None


def _bounded(text: str, max_words: int, *, keep_end: bool = False) -> str:
    words = text.split()
    return " ".join(words[-max_words:] if keep_end else words[:max_words])


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


def updated(memory: Memory, reading: Reading, *, max_summary_words: int, max_entries: int) -> Memory:
    """The memory after a summariser's reading: its summary (bounded) and the merged ledger."""
    return Memory(
        summary=_bounded(reading.summary, max_summary_words),
        ledger=merged_ledger(memory.ledger, reading.ledger, max_entries),
        style=memory.style,
    )


def folded_in_code(memory: Memory, text: str, *, max_summary_words: int) -> Memory:
    """When the summariser gave nothing usable: the previous summary plus the chunk's first and
    last sentences, the newest words kept within the bound; the ledger stands."""
    found = sentences(text)
    ends = " ".join(dict.fromkeys(found[:1] + found[-1:])) if found else _bounded(text, 40)
    return Memory(_bounded(f"{memory.summary} {ends}", max_summary_words, keep_end=True), memory.ledger, memory.style)


def folded_inline(memory: Memory, summary: str, ledger: str, *, max_summary_words: int, max_entries: int) -> Memory:
    """The memory after a chunk whose summary came with it: what the chunk says after the summary
    so far, the newest words kept within the bound; its ledger lines merged in."""
    return Memory(_bounded(f"{memory.summary} {summary}", max_summary_words, keep_end=True),
                  merged_ledger(memory.ledger, ledger, max_entries), memory.style)
