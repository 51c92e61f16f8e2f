"""A planner that dies holding a chunk's report picks the job up on its next start from the
database alone: the job goes on at once (no waiting for the report's redelivery after a long
AckWait), with the pick-up in the job's log as a `job.resumed` from the planner, for crash recovery.

The planner is made to hold a report by a lock, not by timing: the test locks the job's plan row
(as the planner's own handlers do, FOR UPDATE), so the next report's handler waits on it with its
message delivered and unacknowledged; the test sees that wait in Postgres (the planner's backend
blocked by the test's), kills the planner there, and only then lets go of the lock."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import nats
import pytest

from contracts.subjects import Subjects
from tests.chaos import verdict
from tests.chaos.crashes import ChaosStack
from tests.waiting import until


@pytest.fixture(scope="module")
def chaos_env() -> dict[str, str]:
    # An AckWait longer than the test: only the pick-up on start can move the job on in time.
    return {"LONGFORM_ACK_WAIT_SECONDS": "120"}


class PlanLocked:
    """The job's plan row, locked in a transaction of the test's own until the block ends."""

    def __init__(self, database_url: str, job_id: str) -> None:
        self.database_url = database_url
        self.job_id = uuid.UUID(job_id)
        self.loop = asyncio.new_event_loop()  # the connection lives across the test's own sync steps

    def __enter__(self) -> "PlanLocked":
        self.conn = self._run(asyncpg.connect(self.database_url))
        self.tx = self.conn.transaction()
        self._run(self.tx.start())
        self._run(self.conn.execute("SELECT 1 FROM planner.plans WHERE job_id = $1 FOR UPDATE", self.job_id))
        return self

    def __exit__(self, *exc) -> None:
        self._run(self.tx.rollback())
        self._run(self.conn.close())
        self.loop.close()

    def blocked_planners(self) -> int:
        """Planner backends waiting on this transaction's lock, each inside a handler of the job."""
        return self._run(self.conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'planner%'"
            " AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"))

    def _run(self, coroutine):
        return self.loop.run_until_complete(coroutine)


async def _messages_held_by_planners(nats_url: str, subjects: Subjects) -> int:
    """Delivered to a planner and not acknowledged, over the planner's consumers."""
    nc = await nats.connect(nats_url)
    try:
        infos = await nc.jetstream().consumers_info(subjects.stream)
        return sum(info.num_ack_pending for info in infos if info.name.startswith("planner-"))
    finally:
        await nc.close()


def test_a_planner_killed_holding_a_report_picks_the_job_up_on_start(chaos: ChaosStack) -> None:
    http = chaos.user()
    job_id = chaos.submit(http, 800)
    until(lambda: verdict.chunks_stored(chaos.database_url, job_id)[0] >= 2, "two chunks stored")
    with PlanLocked(chaos.database_url, job_id) as plan:
        until(lambda: plan.blocked_planners() > 0, "a chunk report's handler waiting on the plan")
        assert asyncio.run(_messages_held_by_planners(chaos.config.nats_url, Subjects(chaos.config.bus_prefix)))
        before = verdict.snapshot(chaos.database_url, chaos.llm_root, job_id)
        chaos.supervisor.crash("planner")  # returns once the supervisor has started it again
    assert chaos.wait_until_ended(job_id, timeout=60) == "completed"  # well before the held report returns
    resumed = verdict.events_of(chaos.database_url, job_id, "job.resumed")
    assert resumed and {(e["reason"], e["consumer"]) for e in resumed} == {("crash_recovery", None)}
    outcome = chaos.judge(job_id, [before])
    assert outcome.problems() == [] and outcome.words >= 800
    http.close()
