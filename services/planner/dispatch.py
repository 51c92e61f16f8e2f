"""Which chunks to write next: each section's chunks in order, up to `width` sections at once.
Decided from one summary row per section (the database computes them), never from every chunk."""

from dataclasses import dataclass
from itertools import groupby


@dataclass(frozen=True)
class SectionProgress:
    section_index: int
    started: bool  # a chunk written or in flight
    finished: bool  # every chunk written
    upcoming: int | None  # the first chunk not yet written
    upcoming_pending: bool  # ... and not yet dispatched (nor failed)

    @property
    def open(self) -> bool:
        return self.started and not self.finished


def progress(rows: list) -> list[SectionProgress]:
    """The same summaries from chunk rows (ordered by chunk_index), as the database gives them."""
    found = []
    for section, group in groupby(rows, key=lambda r: r["section_index"]):
        chunks = list(group)
        upcoming = next((r for r in chunks if r["status"] != "done"), None)
        found.append(SectionProgress(
            section, any(r["status"] in ("done", "dispatched") for r in chunks), upcoming is None,
            upcoming["chunk_index"] if upcoming else None, bool(upcoming) and upcoming["status"] == "pending",
        ))
    return found


def next_sections(sections: list[SectionProgress], width: int) -> list[int]:
    """Chunk indexes to dispatch now."""
    active = sum(1 for s in sections if s.open)
    chosen = []
    for s in sections:
        if not s.upcoming_pending:
            continue  # finished, in flight, or stopped by a failed chunk
        if s.open:
            chosen.append(s.upcoming)  # a section under way goes on; it already counts against width
        elif active < width:
            chosen.append(s.upcoming)
            active += 1
    return chosen


def next_chunks(rows: list, width: int) -> list:
    """Rows (ordered by chunk_index) that should be dispatched now."""
    chosen = set(next_sections(progress(rows), width))
    return [r for r in rows if r["chunk_index"] in chosen]
