"""Abuse limits (SECURITY): sign-up and sign-in per address, token and job creation per account,
counted in Postgres so that gateway replicas share them; over the limit a 429 with Retry-After;
a refused request of an account reaches its log, but only the first few of a minute, each with
the count so far. Two gateway apps on one database stand for two replicas."""

import uuid

import pytest
from fastapi.testclient import TestClient

from services.gateway.config import GatewaySettings
from services.gateway.limiter import LOGGED_PER_WINDOW
from services.gateway.main import create_app
from tests.integration.client import ApiClient


@pytest.fixture
def replicas(stack):
    """Two gateways on the suite's database and bus, with small limits and one made-up address each
    request comes from (so no other test's requests count)."""
    settings = GatewaySettings(database_url=stack.config.database_url, nats_url=stack.config.nats_url,
                               bus_prefix=stack.config.bus_prefix, rate_limits="signup=3,signin=2,token=2,job=2")
    address = f"198.51.100.{uuid.uuid4().int % 250}"
    with TestClient(create_app(settings), client=(address, 1)) as first, \
            TestClient(create_app(settings), client=(address, 2)) as second:
        yield first, second


def _refused(response, action: str) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert f"too many {action} requests: at most" in response.json()["detail"]


def test_sign_ups_from_one_address_are_limited_across_replicas(replicas) -> None:
    first, second = replicas
    for gateway in (first, second, first):
        assert gateway.post("/v1/users", json={"name": "n"}).status_code == 201
    _refused(second.post("/v1/users", json={"name": "n"}), "signup")
    _refused(first.post("/v1/users", json={"name": "n"}), "signup")


def test_sign_ins_are_limited_whatever_the_password(replicas) -> None:
    first, second = replicas
    email = f"limit-{uuid.uuid4().hex[:8]}@example.com"
    assert first.post("/v1/users", json={"email": email, "password": "a long enough password"}).status_code == 201
    assert first.post("/v1/session", json={"email": email, "password": "wrong password!"}).status_code == 401
    assert second.post("/v1/session", json={"email": email, "password": "a long enough password"}).status_code == 200
    _refused(first.post("/v1/session", json={"email": email, "password": "a long enough password"}), "signin")


def test_tokens_and_jobs_are_limited_per_account_and_refusals_are_logged_sparingly(stack, replicas) -> None:
    first, second = replicas
    token = first.post("/v1/users", json={"name": "a"}).json()["token"]
    other = first.post("/v1/users", json={"name": "b"}).json()["token"]
    mine, theirs = {"Authorization": f"Bearer {token}"}, {"Authorization": f"Bearer {other}"}
    job = {"mode": "generate", "title": "T", "instructions": "Write about tides.", "target_words": 20}
    for gateway in (first, second):
        assert gateway.post("/v1/tokens", json={"name": "t"}, headers=mine).status_code == 201
        assert gateway.post("/v1/jobs", json=job, headers=mine).status_code == 202
    for _ in range(LOGGED_PER_WINDOW + 3):
        _refused(second.post("/v1/tokens", json={"name": "t"}, headers=mine), "token")
    _refused(first.post("/v1/jobs", json=job, headers=mine), "job")
    assert first.post("/v1/tokens", json={"name": "t"}, headers=theirs).status_code == 201  # per account
    account = ApiClient(stack.config.gateway_url, token)
    log = account.audit_until(None, lambda log: sum(e["type"] == "request.refused" for e in log) >= LOGGED_PER_WINDOW + 1)
    refused = [e["data"] for e in log if e["type"] == "request.refused"]
    tokens = [r for r in refused if r["action"] == "token"]
    assert [r["refused_this_minute"] for r in tokens] == list(range(1, LOGGED_PER_WINDOW + 1))  # not 8 lines
    assert [r["action"] for r in refused if r["action"] != "token"] == ["job"]
    assert tokens[0]["client"].startswith("user:") and tokens[0]["limit_per_minute"] == 2
