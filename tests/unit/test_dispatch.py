"""Which chunks the planner dispatches next: each section's chunks in order, at most `width` sections at once."""

import random

import pytest

from services.planner.dispatch import next_chunks, progress


def _rows(statuses: str, per_section: int) -> list[dict]:
    """One letter per chunk: p(ending), d(ispatched), D(one), f(ailed)."""
    names = {"p": "pending", "d": "dispatched", "D": "done", "f": "failed"}
    return [
        {"chunk_index": i, "section_index": i // per_section, "status": names[s]}
        for i, s in enumerate(statuses)
    ]


def _indexes(rows: list[dict]) -> list[int]:
    return [r["chunk_index"] for r in rows]


def _run_job(sections: int, per_section: int, width: int, rng: random.Random) -> int:
    """Dispatch, finish one in-flight chunk at random, repeat; returns the most sections open at once."""
    rows = _rows("p" * sections * per_section, per_section)
    most_open = 0
    while True:
        for row in next_chunks(rows, width):
            row["status"] = "dispatched"
        started = {r["section_index"] for r in rows if r["status"] != "pending"}
        finished = {r["section_index"] for r in rows if r["status"] == "done"} - {
            r["section_index"] for r in rows if r["status"] != "done"}
        most_open = max(most_open, len(started - finished))
        in_flight = [r for r in rows if r["status"] == "dispatched"]
        if not in_flight:
            assert all(section.finished for section in progress(rows))
            return most_open
        rng.choice(in_flight)["status"] = "done"


def test_width_one_starts_with_the_first_chunk_only():
    assert _indexes(next_chunks(_rows("pppppp", 3), 1)) == [0]


def test_width_one_waits_while_a_chunk_is_in_flight():
    assert next_chunks(_rows("Ddpppp", 3), 1) == []


def test_width_one_starts_the_next_section_once_the_previous_is_finished():
    assert _indexes(next_chunks(_rows("DDDppp", 3), 1)) == [3]


def test_width_one_after_the_first_chunk_is_done_dispatches_the_second_only():
    assert _indexes(next_chunks(_rows("Dppppp", 3), 1)) == [1]


@pytest.mark.parametrize("width", [1, 2, 3])
def test_a_whole_job_never_has_more_sections_open_than_its_width(width):
    assert _run_job(sections=6, per_section=3, width=width, rng=random.Random(width)) <= width


def test_width_two_starts_two_sections_at_once():
    assert _indexes(next_chunks(_rows("pppppppp", 2), 2)) == [0, 2]


def test_width_two_sends_nothing_while_both_open_sections_have_a_chunk_in_flight():
    assert next_chunks(_rows("DdDdpp", 2), 2) == []


def test_width_two_continues_its_two_sections_in_order_without_opening_a_third():
    assert _indexes(next_chunks(_rows("Dpdppp", 2), 2)) == [1]


def test_width_two_starts_a_third_section_when_one_finishes():
    assert _indexes(next_chunks(_rows("DDdpppp", 2), 2)) == [4]


@pytest.mark.parametrize("width", [1, 2, 3, 5])
def test_a_chunk_is_never_dispatched_before_its_predecessor_in_the_section_is_done(width):
    rng = random.Random(width)
    for _ in range(500):
        per_section = rng.randint(1, 4)
        # a valid state: in each section a prefix done, then at most one dispatched, then pending
        statuses = ""
        for _ in range(rng.randint(1, 5)):
            done = rng.randint(0, per_section)
            flying = 1 if done < per_section and rng.random() < 0.5 else 0
            statuses += "D" * done + "d" * flying + "p" * (per_section - done - flying)
        rows = _rows(statuses, per_section)
        for row in next_chunks(rows, width):
            assert row["status"] == "pending"
            same_section_before = [r for r in rows[: row["chunk_index"]] if r["section_index"] == row["section_index"]]
            assert all(r["status"] == "done" for r in same_section_before), (statuses, width, row)


def test_a_chunk_after_a_failed_chunk_of_its_section_is_not_dispatched():
    assert next_chunks(_rows("fp", 2), 1) == []


@pytest.mark.parametrize("width", [1, 2])
def test_nothing_is_dispatched_when_every_chunk_is_done(width):
    assert next_chunks(_rows("DDDDD", 2), width) == []


@pytest.mark.parametrize("statuses, done", [("DDDD", True), ("D", True), ("DDDd", False), ("DDpD", False), ("DDf", False)])
def test_all_done_only_when_every_chunk_is_done(statuses, done):
    assert all(section.finished for section in progress(_rows(statuses, 2))) is done
