"""The job's one state machine (contracts/jobstate.py): the plan's moves are moves of the job's,
the table names real events, and the docs draw what the table says."""

from pathlib import Path

import pytest

from contracts.jobstate import (
    ANY_STATUS, ENDED, JOB_MOVES, PLAN_MOVES, PLAN_STATUSES, JobStatus, after, allows, job_diagram, plan_diagram,
)
from contracts.messages import BY_TYPE, CancelJob, ResumeJob

S = JobStatus


@pytest.mark.parametrize("move", list(PLAN_MOVES), ids=lambda m: f"{m[0]}->{m[1]}")
def test_each_move_of_the_plan_is_the_same_move_of_the_job_through_its_events(move):
    status = move[0]
    for event_type in PLAN_MOVES[move]:
        status = after(status, event_type)
        assert status is not None, f"{event_type} does not apply to a job in the status before it"
    assert status == move[1]


def test_every_status_has_its_moves_and_every_event_named_is_a_message():
    assert set(JOB_MOVES) == set(JobStatus)
    named = {event for moves in JOB_MOVES.values() for event in moves} | ANY_STATUS
    named |= {event for events in PLAN_MOVES.values() for event in events}
    assert named - set(BY_TYPE) == set()


def test_every_status_is_reached_from_requested_and_only_completed_is_final():
    reached, frontier = {S.REQUESTED}, [S.REQUESTED]
    while frontier:
        for target in JOB_MOVES[frontier.pop()].values():
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(JobStatus)
    leaving = {s for s, moves in JOB_MOVES.items() if any(t != s for t in moves.values())}
    assert set(JobStatus) - leaving == {S.COMPLETED}


@pytest.mark.parametrize("status", list(JobStatus))
def test_cancel_is_allowed_while_work_goes_on_and_resume_only_once_it_stopped_short(status):
    assert allows(status, CancelJob.TYPE) == (status not in ENDED)
    assert allows(status.value, ResumeJob.TYPE) == (status in (S.FAILED, S.CANCELLED))


def test_the_plan_uses_a_subset_of_the_job_statuses():
    assert PLAN_STATUSES <= set(JobStatus)
    assert S.REQUESTED not in PLAN_STATUSES and S.EXTENDING not in PLAN_STATUSES


def test_the_events_that_change_counters_apply_in_every_status_without_moving_it():
    for status in JobStatus:
        for event_type in ANY_STATUS:
            assert after(status, event_type) == status


def test_architecture_doc_draws_both_machines_as_the_table_says():
    doc = (Path(__file__).parents[2] / "docs" / "architecture.md").read_text()
    assert job_diagram() in doc, "docs/architecture.md: paste `python -m contracts.jobstate` output"
    assert plan_diagram() in doc, "docs/architecture.md: paste `python -m contracts.jobstate` output"
