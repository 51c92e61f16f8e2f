"""Accounts: sign-up (open by default, switchable off), password sign-in with server-side
sessions, personal API tokens, operators' `longform users create`, and secrets kept out of the
audit log."""

import asyncio
import json
import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta

import httpx
import pytest
import websockets
from fastapi.testclient import TestClient

from services.gateway import accounts
from services.gateway.config import GatewaySettings
from services.gateway.main import create_app
from tests.integration.client import ApiClient

CSRF = {"X-Longform-CSRF": "1"}
JOB = {"mode": "generate", "title": "Mine", "instructions": "An essay about rivers.", "target_words": 300}


def _email() -> str:
    return f"user-{secrets.token_hex(6)}@example.org"


def _password() -> str:
    return f"pw-{secrets.token_urlsafe(18)}"


@pytest.fixture
def account(stack):
    """A fresh account: (email, password, the sign-up token)."""
    email, password = _email(), _password()
    created = httpx.post(f"{stack.config.gateway_url}/v1/users", json={"email": email, "password": password})
    assert created.status_code == 201, created.text
    return email, password, created.json()["token"]


def _signed_in(stack, email: str, password: str) -> httpx.Client:
    browser = ApiClient.browser(stack.config.gateway_url)
    response = browser.post("/v1/session", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return browser


def test_open_sign_up_returns_an_id_and_a_token_that_works(client) -> None:
    response = client.http.post("/v1/users", json={"name": "someone"}, headers={"Authorization": ""})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "token"} and len(body["token"]) >= 32
    listed = client.http.get("/v1/jobs", headers={"Authorization": f"Bearer {body['token']}"})
    assert listed.status_code == 200 and listed.json()["jobs"] == []


def test_sign_up_can_be_turned_off(stack) -> None:
    settings = GatewaySettings(database_url=stack.config.database_url, nats_url=stack.config.nats_url,
                               bus_prefix=stack.config.bus_prefix, open_signup=False)
    with TestClient(create_app(settings)) as gateway:
        response = gateway.post("/v1/users", json={"name": "nobody"})
        with_password = gateway.post("/v1/users", json={"email": _email(), "password": _password()})
    assert response.status_code == 403 and with_password.status_code == 403
    assert "sign-up is turned off" in response.json()["detail"]


def test_sign_up_with_a_password_gives_a_token_and_a_session(stack) -> None:
    email = _email()
    browser = ApiClient.browser(stack.config.gateway_url)
    created = browser.post("/v1/users", json={"email": email.upper(), "password": _password(), "name": "Ann"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"user_id", "email", "token"} and body["email"] == email
    cookie = created.headers["set-cookie"].lower()
    assert "longform_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert browser.get("/v1/me").json() == {"user_id": body["user_id"], "email": email, "name": "Ann"}
    by_token = httpx.get(f"{stack.config.gateway_url}/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert by_token.json()["user_id"] == body["user_id"]


def test_an_email_has_one_account_whatever_its_case(stack, account) -> None:
    email, _, _ = account
    again = httpx.post(f"{stack.config.gateway_url}/v1/users", json={"email": email.upper(), "password": _password()})
    assert again.status_code == 409 and "already exists" in again.json()["detail"]


def test_a_short_password_is_refused(stack) -> None:
    response = httpx.post(f"{stack.config.gateway_url}/v1/users", json={"email": _email(), "password": "short"})
    assert response.status_code == 422
    assert [e["loc"][-1] for e in response.json()["detail"]] == ["password"]


def test_sign_in_needs_the_right_password(stack, account) -> None:
    email, password, _ = account
    url = f"{stack.config.gateway_url}/v1/session"
    for wrong in ({"email": email, "password": password + "x"}, {"email": _email(), "password": password}):
        response = httpx.post(url, json=wrong)
        assert response.status_code == 401 and response.json()["detail"] == "wrong email or password"
        assert "set-cookie" not in response.headers
    browser = _signed_in(stack, email.upper(), password)
    assert browser.get("/v1/me").json()["email"] == email


def test_signing_out_ends_the_session_on_the_server(stack, account) -> None:
    browser = _signed_in(stack, *account[:2])
    secret = browser.cookies["longform_session"]
    assert browser.delete("/v1/session").status_code == 204
    assert "longform_session" not in browser.cookies
    replayed = httpx.get(f"{stack.config.gateway_url}/v1/me", cookies={"longform_session": secret})
    assert replayed.status_code == 401


def test_an_expired_session_lets_no_one_in(stack, account, monkeypatch) -> None:
    monkeypatch.setattr(accounts, "SESSION_LIFETIME", timedelta(0))
    settings = GatewaySettings(database_url=stack.config.database_url, nats_url=stack.config.nats_url,
                               bus_prefix=stack.config.bus_prefix)
    with TestClient(create_app(settings)) as gateway:
        signed_in = gateway.post("/v1/session", json={"email": account[0], "password": account[1]})
        assert signed_in.status_code == 200
        secret = re.search(r"longform_session=([^;]+)", signed_in.headers["set-cookie"]).group(1)
    response = httpx.get(f"{stack.config.gateway_url}/v1/me", cookies={"longform_session": secret})
    assert response.status_code == 401


def test_a_cookie_signed_change_needs_the_csrf_header(stack, account) -> None:
    browser = _signed_in(stack, *account[:2])
    refused = browser.post("/v1/jobs", json=JOB)
    assert refused.status_code == 403 and "X-Longform-CSRF" in refused.json()["detail"]
    accepted = browser.post("/v1/jobs", json=JOB, headers=CSRF)
    assert accepted.status_code == 202
    listed = browser.get("/v1/jobs").json()["jobs"]
    assert [j["id"] for j in listed] == [accepted.json()["id"]]


def test_personal_tokens_are_created_listed_and_revoked(stack, account) -> None:
    _, _, sign_up_token = account
    owner = ApiClient(stack.config.gateway_url, sign_up_token)
    created = owner.http.post("/v1/tokens", json={"name": "laptop"})
    assert created.status_code == 201
    token = created.json()
    assert set(token) == {"id", "name", "token", "created_at"} and token["name"] == "laptop"
    laptop = ApiClient(stack.config.gateway_url, token["token"])
    assert laptop.http.get("/v1/jobs").status_code == 200
    listed = owner.http.get("/v1/tokens").json()["tokens"]
    assert [t["name"] for t in listed] == ["sign-up", "laptop"]
    assert all(set(t) == {"id", "name", "created_at"} for t in listed)
    stranger = ApiClient.signed_up(stack.config.gateway_url)
    assert stranger.http.delete(f"/v1/tokens/{token['id']}").status_code == 404
    assert owner.http.delete(f"/v1/tokens/{token['id']}").status_code == 204
    assert laptop.http.get("/v1/jobs").status_code == 401
    assert owner.http.delete(f"/v1/tokens/{token['id']}").status_code == 404
    assert [t["name"] for t in owner.http.get("/v1/tokens").json()["tokens"]] == ["sign-up"]


def test_the_websocket_accepts_the_session_cookie_from_its_own_site_only(stack, account) -> None:
    email, password, token = account
    job_id = ApiClient(stack.config.gateway_url, token).submit(300)
    cookie = {"Cookie": f"longform_session={_signed_in(stack, email, password).cookies['longform_session']}"}
    url = f"{stack.config.gateway_url.replace('http', 'ws', 1)}/v1/jobs/{job_id}/audit/live"

    async def first_line(headers: dict):
        async with websockets.connect(url, additional_headers=headers) as ws:
            try:
                return json.loads(await asyncio.wait_for(ws.recv(), 30))
            except websockets.ConnectionClosed as closed:
                return closed.rcvd.code

    assert asyncio.run(first_line(cookie))["seq"] == 1
    assert asyncio.run(first_line(cookie | {"Origin": "https://elsewhere.example"})) == 4401


def test_passwords_and_session_secrets_never_reach_the_audit_log(stack, account, query) -> None:
    email, password, token = account
    browser = _signed_in(stack, email, password)
    cookie = browser.cookies["longform_session"]
    assert httpx.post(f"{stack.config.gateway_url}/v1/session", json={"email": email, "password": "wrong-one!"}
                      ).status_code == 401
    api = ApiClient(stack.config.gateway_url, token)
    new_token = api.http.post("/v1/tokens", json={"name": "ci"}).json()["token"]
    log = api.audit_until(None, lambda events: sum(
        e["type"] == "db.row_inserted" and e["data"]["table"] == "gateway.sessions" for e in events) == 2)
    text = json.dumps(log)
    for secret in (password, cookie, token, new_token):
        assert secret not in text
    inserted = {e["data"]["table"]: e["data"]["fields"] for e in log if e["type"] == "db.row_inserted"}
    assert inserted["gateway.users"]["password_hash"] == "[redacted]"
    assert inserted["gateway.users"]["email"] == email
    assert inserted["gateway.sessions"]["secret_hash"] == "[redacted]"
    assert inserted["gateway.api_tokens"]["token_hash"] == "[redacted]"
    stored = query("SELECT password_hash FROM gateway.users WHERE email = $1", email)[0]["password_hash"]
    assert stored.startswith("$argon2id$") and password not in stored
    assert not query("SELECT 1 FROM gateway.sessions WHERE secret_hash = $1", cookie)


def test_an_operator_creates_an_account_from_the_command_line(stack) -> None:
    email, password = _email(), _password()
    env = os.environ | {"DATABASE_URL": stack.config.database_url}
    command = [sys.executable, "-m", "longform_cli", "users", "create", "--email", email, "--password-stdin"]
    created = subprocess.run(command, input=password + "\n", env=env, capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    assert email in created.stdout
    again = subprocess.run(command, input=password + "\n", env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode != 0 and "already exists" in again.stderr
    browser = _signed_in(stack, email, password)
    me = browser.get("/v1/me").json()
    assert me["email"] == email
    api = ApiClient(stack.config.gateway_url, browser.post("/v1/tokens", json={"name": "t"}, headers=CSRF
                                                           ).json()["token"])
    log = api.audit_until(None, lambda events: any(e["type"] == "user.created" for e in events))
    users = [e for e in log if e["type"] == "db.row_inserted" and e["data"]["table"] == "gateway.users"]
    assert users[0]["data"]["fields"]["password_hash"] == "[redacted]" and password not in json.dumps(log)
