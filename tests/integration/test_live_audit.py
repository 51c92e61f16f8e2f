"""The websocket replays from the table, then streams live, with no gap and no duplicate."""

import asyncio
import json

import websockets

from tests.integration.client import ApiClient


async def _collect(client: ApiClient, job_id: str, after_seq: int, until_type: str | None, count: int | None):
    headers = {"Authorization": f"Bearer {client.token}"}
    events = []
    async with websockets.connect(client.live_url(job_id, after_seq), additional_headers=headers) as ws:
        while True:
            event = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
            events.append(event)
            if event["type"] == until_type or (count is not None and len(events) == count):
                return events


async def test_websocket_replays_exactly_what_the_download_holds(client) -> None:
    job_id = client.submit(1200)
    assert (await asyncio.to_thread(client.wait, job_id))["status"] == "completed"
    downloaded = client.audit(job_id)
    replayed = await _collect(client, job_id, 0, None, len(downloaded))
    assert replayed == downloaded


async def test_websocket_resumes_after_a_given_seq_without_gap_or_duplicate(client) -> None:
    job_id = client.submit(1200)
    assert (await asyncio.to_thread(client.wait, job_id))["status"] == "completed"
    downloaded = client.audit(job_id)
    middle = len(downloaded) // 2
    rest = await _collect(client, job_id, middle, None, len(downloaded) - middle)
    assert rest == downloaded[middle:]


async def test_a_client_following_a_running_job_sees_every_event_once_in_order(client) -> None:
    job_id = client.submit(4000)
    first = await _collect(client, job_id, 0, None, 5)  # disconnect early, then reconnect
    rest = await _collect(client, job_id, first[-1]["seq"], "job.completed", None)
    seen = first + rest
    assert [e["seq"] for e in seen] == list(range(1, len(seen) + 1))
    await asyncio.to_thread(client.wait, job_id)
    assert seen == client.audit(job_id)[: len(seen)]
