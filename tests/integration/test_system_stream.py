"""What runs for no job or account is in the system stream of the audit log, which only operators
read (SECURITY: "every statement, or an explicit exception"): here, sign-ups refused by the rate
limit (their statement and the `request.refused` events), with the outbox relay's reports of
them, all in one hash chain; `longform users create --operator` makes an operator."""

import json
import os
import subprocess
import sys
import time
import uuid

import httpx
from fastapi.testclient import TestClient

from contracts.auditlog import ChainCheck
from services.gateway.config import GatewaySettings
from services.gateway.limiter import LOGGED_PER_WINDOW
from services.gateway.main import create_app
from tests.integration.client import ApiClient


def _operator(stack) -> httpx.Client:
    email, password = f"op-{uuid.uuid4().hex[:8]}@example.com", "operator password 1"
    created = subprocess.run(
        [sys.executable, "-m", "longform_cli", "users", "create", "--email", email, "--password-stdin", "--operator"],
        input=password + "\n", env=os.environ | {"DATABASE_URL": stack.config.database_url}, capture_output=True,
        text=True, timeout=60)
    assert created.returncode == 0 and "an operator" in created.stdout, created.stderr
    browser = ApiClient.browser(stack.config.gateway_url)
    assert browser.post("/v1/session", json={"email": email, "password": password}).status_code == 200
    return browser


def _system_log_until(operator: httpx.Client, condition, timeout: float = 120.0) -> list[dict]:
    """The system stream, downloaded again until `condition` holds (events reach it through the bus)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [json.loads(line) for line in operator.get("/v1/system/audit").text.splitlines()]
        if condition(lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def test_refused_anonymous_sign_ups_reach_the_system_stream_which_only_operators_read(stack) -> None:
    settings = GatewaySettings(database_url=stack.config.database_url, nats_url=stack.config.nats_url,
                               bus_prefix=stack.config.bus_prefix, rate_limits="signup=1")
    address = f"203.0.113.{uuid.uuid4().int % 250}"
    with TestClient(create_app(settings), client=(address, 1)) as gateway:
        answers = [gateway.post("/v1/users", json={"name": "n"}).status_code for _ in range(LOGGED_PER_WINDOW + 3)]
    assert answers == [201] + [429] * (LOGGED_PER_WINDOW + 2)

    member = stack.client()
    assert member.http.get("/v1/system/audit").status_code == 403
    operator = _operator(stack)
    try:
        def logged(lines: list[dict]) -> list[dict]:
            return [l["data"] for l in lines if l["type"] == "request.refused" and l["data"]["client"] == f"ip:{address}"]

        lines = _system_log_until(operator, lambda lines: len(logged(lines)) == LOGGED_PER_WINDOW and any(
            l["data"].get("context") == "outbox relay" for l in lines))
        refused = logged(lines)
        assert [r["refused_this_minute"] for r in refused] == list(range(1, LOGGED_PER_WINDOW + 1))
        assert all(l["job_id"] is None and l["user_id"] is None for l in lines)
        takes = [l for l in lines if l["type"] == "db.query" and l["service"] == "gateway"
                 and any("take_rate_limit" in s["sql"] for s in l["data"]["statements"])]
        assert len(takes) >= LOGGED_PER_WINDOW  # the statement of each logged refusal, with it
        check = ChainCheck()
        check.feed(lines)
        assert check.verdict(None, None).intact
    finally:
        operator.close()
        member.close()
