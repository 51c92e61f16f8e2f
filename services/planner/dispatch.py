"""Which chunks to write next: each section's chunks in order, up to `width` sections at once.
Decided from one summary row per section (the database computes them), never from every chunk."""

from dataclasses import dataclass


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

