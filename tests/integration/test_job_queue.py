"""Many jobs at once (issue 19, part 4): at most `max_active_jobs_per_user` jobs of an account
run at once; more wait in its queue, in submit order, with their place shown; the end of a running
job starts the oldest waiting one; a waiting job can be cancelled (and, never started, not
resumed); a running job's delete starts the next too; beyond `max_queued_jobs_per_user` a submit is refused with 429 and Retry-After and
stores nothing. Gateways with small caps on the suite's database and bus stand for replicas; the
suite's planner starts the waiting jobs."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from services.gateway.config import GatewaySettings
from services.gateway.main import create_app
from tests.integration.client import TERMINAL, ApiClient

SLOW = "fake/latency:seconds=1"


@pytest.fixture
def gateways(stack):
    settings = GatewaySettings(database_url=stack.config.database_url, nats_url=stack.config.nats_url,
                               bus_prefix=stack.config.bus_prefix, max_active_jobs_per_user=1,
                               max_queued_jobs_per_user=2)
    address = f"198.51.100.{uuid.uuid4().int % 250}"
    with TestClient(create_app(settings), client=(address, 1)) as first, \
            TestClient(create_app(settings), client=(address, 2)) as second:
        yield first, second


@pytest.fixture
def account(stack, gateways):
    token = gateways[0].post("/v1/users", json={"name": "queuer"}).json()["token"]
    api = ApiClient(stack.config.gateway_url, token)
    yield api, {"Authorization": f"Bearer {token}"}
    api.close()


def _job(target: int = 60, model: str | None = None) -> dict:
    return {"mode": "generate", "title": "Q", "instructions": "An essay about locks.", "target_words": target,
            "model": model}


def _submitted(gateway, headers, **fields) -> dict:
    response = gateway.post("/v1/jobs", json=_job(**fields), headers=headers)
    assert response.status_code == 202, response.text
    return response.json()


def _first(log: list[dict], event_type: str) -> dict:
    return next(e for e in log if e["type"] == event_type)


def test_a_users_next_jobs_wait_in_order_and_start_as_running_ones_end(gateways, account, query) -> None:
    first, second = gateways
    api, headers = account
    running = _submitted(first, headers, target=3000, model=SLOW)
    waiting = [_submitted(gateway, headers) for gateway in (second, first)]
    assert running["status"] == "requested" and running["queue_place"] is None
    assert [(w["status"], w["queue_place"]) for w in waiting] == [("queued", 1), ("queued", 2)]
    assert [(api.job(w["id"])["status"], api.job(w["id"])["queue_place"]) for w in waiting] == [("queued", 1), ("queued", 2)]

    refused = second.post("/v1/jobs", json=_job(), headers=headers)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "2 waiting" in refused.json()["detail"] and "try again" in refused.json()["detail"]
    assert len(query("SELECT id FROM gateway.jobs WHERE user_id = (SELECT user_id FROM gateway.jobs WHERE id = $1)",
                     uuid.UUID(running["id"]))) == 3, "a refused job was stored"

    assert api.http.post(f"/v1/jobs/{running['id']}/cancel").status_code == 202
    ends = [api.wait(w["id"], timeout=60) for w in waiting]
    assert [e["status"] for e in ends] == ["completed", "completed"]
    logs = [api.audit(job["id"]) for job in (running, *waiting)]
    assert [e["type"] for e in logs[1] if e["type"].startswith("job.")][:2] == ["job.queued", "job.requested"]
    assert _first(logs[1], "job.requested")["service"] == "planner"
    # One at a time, in submit order: each starts in the transaction that ended the one before it.
    assert _first(logs[0], "job.cancelled")["ts"] <= _first(logs[1], "job.requested")["ts"]
    assert _first(logs[1], "job.completed")["ts"] <= _first(logs[2], "job.requested")["ts"]


def test_a_waiting_job_is_cancelled_without_starting_and_a_running_ones_delete_starts_the_next(gateways, account) -> None:
    first, _ = gateways
    api, headers = account
    running = _submitted(first, headers, target=3000, model=SLOW)
    cancelled, behind = _submitted(first, headers), _submitted(first, headers)
    assert api.http.post(f"/v1/jobs/{cancelled['id']}/cancel").status_code == 202
    assert api.wait(cancelled["id"], timeout=30)["status"] == "cancelled"
    assert api.job(behind["id"])["queue_place"] == 1
    log = api.audit(cancelled["id"])
    assert [e["type"] for e in log if e["type"].startswith("job.")] == [
        "job.queued", "job.cancel_requested", "job.cancelled"]
    resumed = api.http.post(f"/v1/jobs/{cancelled['id']}/resume")
    assert resumed.status_code == 409 and "never started" in resumed.json()["detail"]
    assert api.http.delete(f"/v1/jobs/{running['id']}").status_code == 202  # its delete gives its place on too
    assert api.wait(behind["id"], timeout=60)["status"] == "completed"
    assert api.job(cancelled["id"])["status"] == "cancelled"


def test_submits_racing_on_two_replicas_start_one_job_and_queue_the_cap(gateways, account) -> None:
    api, headers = account
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda i: gateways[i % 2].post("/v1/jobs", json=_job(3000, SLOW), headers=headers),
                                range(6)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [202, 202, 202, 429, 429, 429]
    accepted = [a.json() for a in answers if a.status_code == 202]
    assert sorted(a["status"] for a in accepted) == ["queued", "queued", "requested"]
    assert sorted(a["queue_place"] or 0 for a in accepted) == [0, 1, 2]
    for job in accepted:
        api.http.post(f"/v1/jobs/{job['id']}/cancel")
    assert all(api.wait(job["id"], timeout=60)["status"] in TERMINAL for job in accepted)
