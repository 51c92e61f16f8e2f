"""Which chunks to write next: each section's chunks in order, up to `width` sections at once."""

from itertools import groupby

FINISHED = ("done", "failed")


def next_chunks(rows: list, width: int) -> list:
    """Rows (ordered by chunk_index) that should be dispatched now."""
    sections = [list(g) for _, g in groupby(rows, key=lambda r: r["section_index"])]
    active = sum(1 for s in sections if any(r["status"] == "dispatched" for r in s))
    chosen = []
    for section in sections:
        upcoming = next((r for r in section if r["status"] not in FINISHED), None)
        if upcoming is None or upcoming["status"] == "dispatched":
            continue
        if any(r["status"] == "done" for r in section):
            chosen.append(upcoming)  # a section under way goes on regardless of width
        elif active < width:
            chosen.append(upcoming)
            active += 1
    return chosen


def all_done(rows: list) -> bool:
    return all(r["status"] == "done" for r in rows)
