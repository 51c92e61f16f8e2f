"""The job's one state machine, end to end: the database holds the same statuses and plan moves as
contracts/jobstate.py and refuses others; the planner completes its plan; a command the job's
status does not allow is refused with a 409 naming it, and the refusal is in the job's log."""

import uuid

import asyncpg
import pytest

from contracts.jobstate import PLAN_MOVES, PLAN_STATUSES, JobStatus
from tests.integration.dbread import connected, fetch


def test_the_database_holds_the_plan_moves_of_the_contract(stack, query) -> None:
    rows = query("SELECT from_state, to_state, events FROM planner.plan_moves")
    assert {(r["from_state"], r["to_state"]): r["events"] for r in rows} == {
        (a.value, b.value): " then ".join(events) for (a, b), events in PLAN_MOVES.items()}


def _refused(database_url: str, sql: str, *args) -> str:
    """The error Postgres gives for `sql`, run in a transaction that is rolled back."""
    caught = []

    async def attempt(conn: asyncpg.Connection) -> None:
        try:
            async with conn.transaction():
                await conn.execute(sql, *args)
        except asyncpg.PostgresError as exc:
            caught.append(exc)

    connected(database_url, attempt)
    assert caught, f"Postgres accepted: {sql} {args}"
    return str(caught[0])


@pytest.mark.parametrize("column, values", [
    ("planner.plans.state", sorted(PLAN_STATUSES)),
    ("audit.job_state.status", list(JobStatus)),
])
def test_each_status_column_takes_the_statuses_of_the_contract_and_nothing_else(stack, query, column, values) -> None:
    schema, table, name = column.split(".")
    checks = query("SELECT pg_get_constraintdef(c.oid) AS def FROM pg_constraint c"
                   " JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
                   " WHERE n.nspname = $1 AND t.relname = $2 AND c.contype = 'c' AND c.conname LIKE $3",
                   schema, table, f"%{name}_known")
    assert len(checks) == 1
    named = {part.split("'")[1] for part in checks[0]["def"].split("::text")[:-1]}
    assert named == {str(v) for v in values}


def test_a_completed_job_has_a_completed_plan_and_refuses_cancel_and_resume(client, stack) -> None:
    job_id = client.submit(60)
    assert client.wait(job_id)["status"] == "completed"
    plan = fetch(stack.config.database_url, "SELECT state FROM planner.plans WHERE job_id = $1", uuid.UUID(job_id))
    assert plan[0]["state"] == "completed"

    for command, event_type in (("cancel", "job.cancel_requested"), ("resume", "job.resume_requested")):
        refused = client.http.post(f"/v1/jobs/{job_id}/{command}")
        assert refused.status_code == 409 and "completed" in refused.json()["detail"], refused.text
        log = client.audit_until(job_id, lambda log, t=event_type: any(
            e["type"] == "job.command_refused" and e["data"]["command"] == t for e in log))
        refusal = next(e for e in log if e["type"] == "job.command_refused" and e["data"]["command"] == event_type)
        assert refusal["data"]["status"] == "completed" and refusal["data"]["reason"] == refused.json()["detail"]
        assert not [e for e in log if e["type"] == event_type], f"a refused {command} was sent on"
    assert client.job(job_id)["status"] == "completed"

    moved = _refused(stack.config.database_url, "UPDATE planner.plans SET state = 'writing' WHERE job_id = $1",
                     uuid.UUID(job_id))
    assert "cannot move from completed to writing" in moved
    unknown = _refused(stack.config.database_url, "UPDATE planner.plans SET state = 'paused' WHERE job_id = $1",
                       uuid.UUID(job_id))
    assert "cannot move from completed to paused" in unknown  # the trigger speaks before the CHECK
