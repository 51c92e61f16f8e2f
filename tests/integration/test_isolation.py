"""A user never sees another user's job: the answer is the same 404 as for a job that does not exist."""

import uuid

import pytest
import websockets


@pytest.fixture
def stranger(stack):
    api = stack.client()
    yield api
    api.close()


def test_another_users_job_is_not_found_on_every_route(client, stranger) -> None:
    job_id = client.submit(50)
    client.wait(job_id)
    for path in ("", "/document", "/audit"):
        theirs = stranger.http.get(f"/v1/jobs/{job_id}{path}")
        unknown = stranger.http.get(f"/v1/jobs/{uuid.uuid4()}{path}")
        assert theirs.status_code == unknown.status_code == 404
        assert theirs.json() == unknown.json()
    assert job_id not in {j["id"] for j in stranger.http.get("/v1/jobs").json()["jobs"]}


async def test_another_users_job_cannot_be_followed_live(client, stranger) -> None:
    job_id = client.submit(50)
    url = stranger.live_url(job_id)
    async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {stranger.token}"}) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd.code == 4404


def test_job_routes_need_a_valid_token(stack, client) -> None:
    job_id = client.submit(50)
    anonymous = client.http.get(f"/v1/jobs/{job_id}", headers={"Authorization": ""})
    forged = client.http.get(f"/v1/jobs/{job_id}", headers={"Authorization": "Bearer not-a-token"})
    assert anonymous.status_code == forged.status_code == 401
