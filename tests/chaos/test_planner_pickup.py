"""A planner that dies holding a chunk's report picks the job up on its next start from the
database alone: the job goes on at once (no waiting for the report's redelivery after a long
AckWait), with the pick-up in the job's log as a `job.resumed` from the planner, for crash recovery."""

import asyncio
import signal
import time

import nats
import pytest

from contracts.subjects import Subjects
from tests.chaos import verdict
from tests.chaos.crashes import ChaosStack


@pytest.fixture(scope="module")
def chaos_env() -> dict[str, str]:
    # An AckWait longer than the test: only the pick-up on start can move the job on in time.
    return {"LONGFORM_ACK_WAIT_SECONDS": "120"}


async def _reports_held(nats_url: str, subjects: Subjects) -> int:
    nc = await nats.connect(nats_url)
    try:
        return (await nc.jetstream().consumer_info(subjects.stream, "planner-chunk-processed")).num_ack_pending
    finally:
        await nc.close()


def _freeze_holding_a_report(chaos: ChaosStack, job_id: str) -> None:
    """SIGSTOPs the planner until a chunk report has been delivered to it (and so is held)."""
    subjects = Subjects(chaos.config.bus_prefix)
    for _ in range(10):
        chaos.supervisor.kill("planner", signal.SIGSTOP)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            if asyncio.run(_reports_held(chaos.config.nats_url, subjects)):
                return
            time.sleep(0.1)
        chaos.supervisor.kill("planner", signal.SIGCONT)  # its pull had expired: let it pull again
        time.sleep(0.5)
    raise AssertionError("no chunk report was ever delivered to the frozen planner")


def test_a_planner_killed_holding_a_report_picks_the_job_up_on_start(chaos) -> None:
    http = chaos.user()
    job_id = chaos.submit(http, 800)
    while verdict.chunks_stored(chaos.database_url, job_id)[0] < 2:
        time.sleep(0.05)
    _freeze_holding_a_report(chaos, job_id)
    before = verdict.snapshot(chaos.database_url, chaos.llm_root, job_id)
    chaos.supervisor.crash("planner")
    assert chaos.wait_until_ended(job_id, timeout=60) == "completed"  # well before the held report returns
    resumed = verdict.events_of(chaos.database_url, job_id, "job.resumed")
    assert resumed and {(e["reason"], e["consumer"]) for e in resumed} == {("crash_recovery", None)}
    outcome = chaos.judge(job_id, [before])
    assert outcome.problems() == [] and outcome.words >= 800
    http.close()
