"""Which chunks the planner dispatches next: each section's chunks in order, at most `width`
sections at once. Decided by the planner's SQL (`store.section_progress`, one summary row per
section) and `dispatch.next_sections`: the chunk states are written into planner.chunks on a real
Postgres and read back by the very queries the handlers run; a whole job is driven with the
store's own writes (`mark_dispatched`, `finish_chunk`).
(Moved from tests/unit, where it tested a Python copy of that SQL.)"""

import random
import uuid

import pytest

from services.common.db import Database, Tx
from services.planner import store
from services.planner.dispatch import next_sections

STATUS = {"p": "pending", "d": "dispatched", "D": "done", "f": "failed"}


@pytest.fixture
async def planner_db(databases) -> Database:
    return await databases("planner")


async def planned_many(tx: Tx, states: list[tuple[str, int]]) -> list[uuid.UUID]:
    """A job for each state: its chunks' statuses, one letter per chunk (p(ending), d(ispatched),
    D(one), f(ailed)), and how many chunks make a section. Written in bulk: the SQL under test is
    the planner's reading of them."""
    jobs = [uuid.uuid4() for _ in states]
    await tx.executemany(
        "INSERT INTO planner.plans (job_id, user_id, mode, title, instructions, target_words, planned_words,"
        " outline_source) VALUES ($1, $2, 'generate', 't', 'i', $3, $3, 'code')",
        [(job, uuid.uuid4(), 10 * len(statuses)) for job, (statuses, _) in zip(jobs, states)])
    await tx.executemany(
        "INSERT INTO planner.sections (job_id, section_index, path, brief, budget_words) VALUES ($1, $2, '', '', 10)",
        [(job, i) for job, (statuses, per) in zip(jobs, states) for i in range(-(-len(statuses) // per))])
    await tx.executemany(
        "INSERT INTO planner.chunks (job_id, chunk_index, section_index, budget_words, status) VALUES ($1,$2,$3,10,$4)",
        [(job, i, i // per, STATUS[letter]) for job, (statuses, per) in zip(jobs, states)
         for i, letter in enumerate(statuses)])
    return jobs


async def planned(tx: Tx, statuses: str, per_section: int) -> uuid.UUID:
    return (await planned_many(tx, [(statuses, per_section)]))[0]


async def next_chunks(tx: Tx, job_id: uuid.UUID, width: int) -> list[int]:
    return next_sections(await store.section_progress(tx, job_id), width)


async def dispatched_next(db: Database, statuses: str, per_section: int, width: int) -> list[int]:
    async with db.transaction() as tx:
        return await next_chunks(tx, await planned(tx, statuses, per_section), width)


async def all_finished(db: Database, statuses: str, per_section: int) -> bool:
    async with db.transaction() as tx:
        return all(s.finished for s in await store.section_progress(tx, await planned(tx, statuses, per_section)))


async def most_sections_open(db: Database, sections: int, per_section: int, width: int, rng: random.Random) -> int:
    """A whole job: dispatch, finish one chunk in flight at random, repeat; returns the most
    sections open at once."""
    async with db.transaction() as tx:
        job_id = await planned(tx, "p" * sections * per_section, per_section)
        most_open = 0
        while True:
            await store.mark_dispatched(tx, job_id, await next_chunks(tx, job_id, width))
            progress = await store.section_progress(tx, job_id)
            most_open = max(most_open, sum(1 for s in progress if s.open))
            in_flight = [r["chunk_index"] for r in await tx.fetch(
                "SELECT chunk_index FROM planner.chunks WHERE job_id = $1 AND status = 'dispatched'", job_id)]
            if not in_flight:
                assert all(s.finished for s in progress)
                return most_open
            await store.finish_chunk(tx, job_id, rng.choice(in_flight), "done", 10)


async def test_width_one_starts_with_the_first_chunk_only(planner_db):
    assert await dispatched_next(planner_db, "pppppp", 3, 1) == [0]


async def test_width_one_waits_while_a_chunk_is_in_flight(planner_db):
    assert await dispatched_next(planner_db, "Ddpppp", 3, 1) == []


async def test_width_one_starts_the_next_section_once_the_previous_is_finished(planner_db):
    assert await dispatched_next(planner_db, "DDDppp", 3, 1) == [3]


async def test_width_one_after_the_first_chunk_is_done_dispatches_the_second_only(planner_db):
    assert await dispatched_next(planner_db, "Dppppp", 3, 1) == [1]


@pytest.mark.parametrize("width", [1, 2, 3])
async def test_a_whole_job_never_has_more_sections_open_than_its_width(planner_db, width):
    assert await most_sections_open(planner_db, sections=6, per_section=3, width=width, rng=random.Random(width)) <= width


async def test_width_two_starts_two_sections_at_once(planner_db):
    assert await dispatched_next(planner_db, "pppppppp", 2, 2) == [0, 2]


async def test_width_two_sends_nothing_while_both_open_sections_have_a_chunk_in_flight(planner_db):
    assert await dispatched_next(planner_db, "DdDdpp", 2, 2) == []


async def test_width_two_continues_its_two_sections_in_order_without_opening_a_third(planner_db):
    assert await dispatched_next(planner_db, "Dpdppp", 2, 2) == [1]


async def test_width_two_starts_a_third_section_when_one_finishes(planner_db):
    assert await dispatched_next(planner_db, "DDdpppp", 2, 2) == [4]


def valid_states(rng: random.Random, count: int) -> list[tuple[str, int]]:
    """In each section a prefix done, then at most one chunk dispatched, then pending."""
    states = []
    for _ in range(count):
        per_section, statuses = rng.randint(1, 4), ""
        for _ in range(rng.randint(1, 5)):
            done = rng.randint(0, per_section)
            flying = 1 if done < per_section and rng.random() < 0.5 else 0
            statuses += "D" * done + "d" * flying + "p" * (per_section - done - flying)
        states.append((statuses, per_section))
    return states


@pytest.mark.parametrize("width", [1, 2, 3, 5])
async def test_a_chunk_is_never_dispatched_before_its_predecessor_in_the_section_is_done(planner_db, width):
    states = valid_states(random.Random(width), 500)
    async with planner_db.transaction() as tx:
        for job_id, (statuses, per_section) in zip(await planned_many(tx, states), states):
            for index in await next_chunks(tx, job_id, width):
                assert statuses[index] == "p", (statuses, width, index)
                section_before = statuses[index - index % per_section:index]
                assert set(section_before) <= {"D"}, (statuses, width, index)


async def test_a_chunk_after_a_failed_chunk_of_its_section_is_not_dispatched(planner_db):
    assert await dispatched_next(planner_db, "fp", 2, 1) == []


@pytest.mark.parametrize("width", [1, 2])
async def test_nothing_is_dispatched_when_every_chunk_is_done(planner_db, width):
    assert await dispatched_next(planner_db, "DDDDD", 2, width) == []


@pytest.mark.parametrize("statuses, done", [("DDDD", True), ("D", True), ("DDDd", False), ("DDpD", False),
                                            ("DDf", False)])
async def test_all_done_only_when_every_chunk_is_done(planner_db, statuses, done):
    assert await all_finished(planner_db, statuses, 2) is done
