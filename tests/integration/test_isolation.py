"""A user never reads, lists, streams, downloads, cancels, resumes or deletes another user's job,
document or audit log, over REST or websocket: every route is tried as a second user, who gets
the same 404 as for a job that does not exist, and the owner's job is left exactly as it was."""

import asyncio
import uuid

import httpx
import pytest
import websockets

from tests.integration.client import ApiClient
from tests.integration.footprint import footprint

READS = [("txt", "document"), ("md", "document"), ("docx", "document"),
         ("ndjson", "audit"), ("json", "audit"), ("txt", "audit")]


@pytest.fixture
def stranger(stack):
    api = stack.client()
    yield api
    api.close()


def assert_same_as_unknown(stranger_http: httpx.Client, method: str, path: str, job_id: str, **kwargs) -> None:
    theirs = stranger_http.request(method, f"/v1/jobs/{job_id}{path}", **kwargs)
    unknown = stranger_http.request(method, f"/v1/jobs/{uuid.uuid4()}{path}", **kwargs)
    assert theirs.status_code == unknown.status_code == 404, (method, path, theirs.text)
    assert theirs.json() == unknown.json() == {"detail": "job not found"}


def test_another_users_finished_job_cannot_be_read_or_downloaded(client, stranger, database_url) -> None:
    job_id = client.submit(50)
    assert client.wait(job_id)["status"] == "completed"
    owners = footprint(database_url, client.token)
    assert_same_as_unknown(stranger.http, "GET", "", job_id)
    for format, what in READS:
        assert_same_as_unknown(stranger.http, "GET", f"/{what}", job_id, params={"format": format})
        assert client.http.get(f"/v1/jobs/{job_id}/{what}", params={"format": format}).status_code == 200
    assert job_id not in {j["id"] for j in stranger.http.get("/v1/jobs").json()["jobs"]}
    assert footprint(database_url, client.token) == owners


def test_another_users_job_cannot_be_cancelled_resumed_or_deleted(client, stranger, database_url) -> None:
    running = client.submit(20_000)
    owners = footprint(database_url, client.token)
    for method, path in (("POST", "/cancel"), ("POST", "/resume"), ("DELETE", "")):
        assert_same_as_unknown(stranger.http, method, path, running)
    assert footprint(database_url, client.token) == owners  # no cancel, resume or delete was requested
    assert client.job(running)["status"] not in ("cancelled", "failed")

    assert client.http.post(f"/v1/jobs/{running}/cancel").status_code == 202
    cancelled = client.wait(running)
    assert cancelled["status"] == "cancelled"
    owners = footprint(database_url, client.token)
    for method, path in (("POST", "/resume"), ("DELETE", "")):
        assert_same_as_unknown(stranger.http, method, path, running)
    assert footprint(database_url, client.token) == owners
    assert client.job(running)["status"] == "cancelled"  # not resumed, not deleted


def test_another_users_job_never_appears_in_their_log(client, stranger) -> None:
    job_id = client.submit(20)
    client.wait(job_id)
    stranger.http.get(f"/v1/jobs/{job_id}")
    stranger.http.delete(f"/v1/jobs/{job_id}")
    # The stranger's refused requests are audited, in the stranger's own log, about no job.
    own_log = stranger.audit_until(None, lambda log: sum(e["type"] == "db.query" for e in log) >= 2)
    assert all(event["job_id"] is None for event in own_log)
    assert job_id not in str(own_log)
    assert all(event.get("job_id") == job_id for event in client.audit(job_id))


def test_a_session_signed_in_stranger_is_refused_alike(stack, client, database_url) -> None:
    job_id = client.submit(50)
    assert client.wait(job_id)["status"] == "completed"
    email = f"stranger-{uuid.uuid4().hex[:8]}@example.com"
    ApiClient.with_password(stack.config.gateway_url, email, "a long enough password").close()
    with ApiClient.browser(stack.config.gateway_url) as browser:
        signed_in = browser.post("/v1/session", json={"email": email, "password": "a long enough password"})
        assert signed_in.status_code == 200, signed_in.text
        owners = footprint(database_url, client.token)
        assert_same_as_unknown(browser, "GET", "", job_id)
        for format, what in READS:
            assert_same_as_unknown(browser, "GET", f"/{what}", job_id, params={"format": format})
        for method, path in (("POST", "/cancel"), ("POST", "/resume"), ("DELETE", "")):
            assert_same_as_unknown(browser, method, path, job_id, headers={"X-Longform-CSRF": "1"})
        assert job_id not in {j["id"] for j in browser.get("/v1/jobs").json()["jobs"]}
        page, unknown_page = browser.get(f"/jobs/{job_id}"), browser.get(f"/jobs/{uuid.uuid4()}")
        assert page.status_code == unknown_page.status_code == 404 and job_id not in page.text
        assert asyncio.run(_live_refusal(client.live_url(job_id), browser.cookies["longform_session"])) == 4404
        assert footprint(database_url, client.token) == owners
    assert client.job(job_id)["status"] == "completed"


async def _live_refusal(url: str, session: str) -> int:
    async with websockets.connect(url, additional_headers={"Cookie": f"longform_session={session}"}) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    return closed.value.rcvd.code


def test_another_users_tokens_cannot_be_listed_or_revoked(client, stranger, database_url) -> None:
    laptop = client.http.post("/v1/tokens", json={"name": "laptop"}).json()
    owners_ids = {t["id"] for t in client.http.get("/v1/tokens").json()["tokens"]}
    owners = footprint(database_url, client.token)
    listed = stranger.http.get("/v1/tokens").json()["tokens"]
    assert len(listed) == 1 and not owners_ids & {t["id"] for t in listed}
    theirs = stranger.http.delete(f"/v1/tokens/{laptop['id']}")
    unknown = stranger.http.delete(f"/v1/tokens/{uuid.uuid4()}")
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json() == unknown.json() == {"detail": "token not found"}
    assert footprint(database_url, client.token) == owners
    still_valid = ApiClient(client.base_url, laptop["token"])
    assert still_valid.http.get("/v1/jobs").status_code == 200
    still_valid.close()
    assert {t["id"] for t in client.http.get("/v1/tokens").json()["tokens"]} == owners_ids


def test_the_account_log_is_only_ever_the_callers_own_in_every_format(client, stranger) -> None:
    owner_id = client.http.get("/v1/me").json()["user_id"]
    job_id = client.submit(20)
    client.wait(job_id)
    assert client.http.delete(f"/v1/jobs/{job_id}").status_code == 202
    client.audit_until(None, lambda log: any(e["type"] == "job.deleted" for e in log))
    for format in ("ndjson", "json", "txt"):
        owners = client.http.get("/v1/account/audit", params={"format": format})
        assert owners.status_code == 200 and job_id in owners.text
        asked_for_theirs = stranger.http.get("/v1/account/audit", params={"format": format, "user_id": owner_id})
        assert asked_for_theirs.status_code == 200, asked_for_theirs.text
        assert job_id not in asked_for_theirs.text and owner_id not in asked_for_theirs.text


@pytest.mark.parametrize("how", ["header", "query"])
async def test_another_users_job_cannot_be_followed_live(client, stranger, how) -> None:
    job_id = client.submit(50)
    url, headers = stranger.live_url(job_id), {"Authorization": f"Bearer {stranger.token}"}
    if how == "query":
        url, headers = f"{url}&access_token={stranger.token}", {}
    async with websockets.connect(url, additional_headers=headers) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4404, "job not found")
    # The owner, on the same route, is followed.
    async with websockets.connect(client.live_url(job_id),
                                  additional_headers={"Authorization": f"Bearer {client.token}"}) as ws:
        assert '"seq":1' in (await ws.recv()).replace(" ", "")


def test_job_routes_need_a_valid_token(stack, client) -> None:
    job_id = client.submit(50)
    anonymous = client.http.get(f"/v1/jobs/{job_id}", headers={"Authorization": ""})
    forged = client.http.get(f"/v1/jobs/{job_id}", headers={"Authorization": "Bearer not-a-token"})
    assert anonymous.status_code == forged.status_code == 401
