"""The audit log downloads (NDJSON, JSON, TXT) hold the same events, streamed from Postgres; the
projection rebuilt from the events equals the live one; no secret ever reaches the log."""

import asyncio
import json
import uuid

from longform_cli.db_commands import rebuild_command
from services.audit.store import rebuild_job_state, state_of
from tests.integration.conftest import API_KEY
from tests.integration.dbread import connected


def test_json_and_txt_downloads_hold_the_same_events_as_ndjson(client) -> None:
    job_id = client.submit(1500)
    assert client.wait(job_id)["status"] == "completed"
    lines = client.audit(job_id)
    as_json = client.http.get(f"/v1/jobs/{job_id}/audit", params={"format": "json"})
    assert as_json.headers["content-type"].startswith("application/json")
    # Each download is itself recorded (the gateway's reads, as a db.query at its end), so a later
    # download holds the earlier one's events, then the record of the earlier reads
    later = as_json.json()
    assert later[: len(lines)] == lines
    assert [e["seq"] for e in later] == list(range(1, len(later) + 1))
    # (and the audit service's record of persisting those: db.query events only)
    assert all(e["type"] == "db.query" for e in later[len(lines):])
    text = client.http.get(f"/v1/jobs/{job_id}/audit", params={"format": "txt"}).text.splitlines()
    assert len(text) >= len(later)
    for line, event in zip(text, later):
        assert line.startswith(event["ts"]) and f"#{event['seq']}" in line and event["type"] in line


def test_an_unknown_audit_format_is_refused(client) -> None:
    job_id = client.submit(10)
    assert client.http.get(f"/v1/jobs/{job_id}/audit", params={"format": "xml"}).status_code == 422


def test_the_projection_rebuilt_from_the_events_equals_the_live_one(client, database_url) -> None:
    job_ids = [client.submit(target) for target in (40, 2500)]
    for job_id in job_ids:
        assert client.wait(job_id)["status"] == "completed"

    async def compare(conn):
        # One snapshot: the log keeps growing (every read is recorded), the comparison must not race it.
        async with conn.transaction(isolation="repeatable_read"):
            await compare_in_snapshot(conn)

    async def compare_in_snapshot(conn):
        for job_id in job_ids:
            live = await conn.fetchrow("SELECT * FROM audit.job_state WHERE job_id = $1", uuid.UUID(job_id))
            assert await rebuild_job_state(conn, uuid.UUID(job_id), page=7) == state_of(live)

    connected(database_url, compare)


def test_no_secret_reaches_the_audit_log(client) -> None:
    job_id = client.submit(2000, instructions="An essay about keys and locks.")
    assert client.wait(job_id)["status"] == "completed"
    for format in ("ndjson", "json", "txt"):
        log = client.http.get(f"/v1/jobs/{job_id}/audit", params={"format": format}).text
        assert API_KEY not in log and client.token not in log
        assert "authorization" not in log.lower()
    assert any(event["type"] == "llm.call" for event in map(json.loads, client.http.get(
        f"/v1/jobs/{job_id}/audit").text.splitlines()))


def test_a_provider_error_that_echoes_the_api_key_is_redacted_in_the_log(stack, client) -> None:
    stack.fake_llm.control().script({"kind": "server_error", "leak": 1})  # the next call, whichever it is
    job_id = client.submit(400)
    assert client.wait(job_id)["status"] == "completed"
    log = client.http.get(f"/v1/jobs/{job_id}/audit").text
    errors = [e for e in map(json.loads, log.splitlines()) if e["type"] == "error.raised" and "headers" in e["data"]["message"]]
    assert errors, "the provider never failed: nothing was tested"
    assert API_KEY not in log and "[redacted]" in errors[0]["data"]["message"]


def test_the_rebuild_command_finds_no_job_whose_live_state_differs(client, database_url, monkeypatch) -> None:
    job_id = client.submit(300)
    assert client.wait(job_id)["status"] == "completed"
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert asyncio.run(rebuild_command(check=True)) == 0
