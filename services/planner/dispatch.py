"""Which chunks to write next: each section's chunks in order, up to `width` sections at once."""

from itertools import groupby


def _open(section: list) -> bool:
    """Started (a chunk written or in flight) and not yet finished."""
    started = any(r["status"] in ("done", "dispatched") for r in section)
    return started and any(r["status"] != "done" for r in section)


def next_chunks(rows: list, width: int) -> list:
    """Rows (ordered by chunk_index) that should be dispatched now."""
    sections = [list(g) for _, g in groupby(rows, key=lambda r: r["section_index"])]
    active = sum(1 for s in sections if _open(s))
    chosen = []
    for section in sections:
        upcoming = next((r for r in section if r["status"] != "done"), None)
        if upcoming is None or upcoming["status"] != "pending":
            continue  # finished, in flight, or stopped by a failed chunk
        if _open(section):
            chosen.append(upcoming)  # a section under way goes on; it already counts against width
        elif active < width:
            chosen.append(upcoming)
            active += 1
    return chosen


def all_done(rows: list) -> bool:
    return all(r["status"] == "done" for r in rows)
