"""The log is tamper-evident (SECURITY, migrations/0019): every event links into its stream's
hash chain; verify (the API, the CLI and the offline script in docs/) recomputes it and names the
first bad seq after an edit, a removal or a cut; appends that break the chain are refused; a
deleted job leaves a tombstone carrying its log's final head."""

import asyncio
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import nats
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from contracts.auditlog import ChainCheck, canonical, event_line
from contracts.subjects import Subjects
from services.common.roles import service_url
from tests.integration.chain import append, tampered
from tests.integration.dbread import connected

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "verify_audit_log.py"


@pytest.fixture(scope="module")
def finished(stack):
    client = stack.client()
    job_id = client.submit(600)
    assert client.wait(job_id)["status"] == "completed"
    return client, job_id


def test_a_completed_jobs_log_is_an_intact_chain_in_every_download(finished) -> None:
    client, job_id = finished
    lines = client.audit(job_id)
    assert all(len(line["hash"]) == 64 for line in lines)
    check = ChainCheck()
    check.feed(lines)
    assert check.verdict(None, None).intact and check.previous.hex() == lines[-1]["hash"]
    queries = [line for line in lines if line["type"] == "db.query"]
    upkeep = [line for line in queries if line["data"]["context"] == "bookkeeping"]  # the log keeping itself
    assert upkeep and {line["service"] for line in upkeep} == {"audit"}
    assert all(line["data"]["context"] == "bookkeeping" for line in queries if line["service"] == "audit")
    # Reading a log is logged in it (the download's own reads): it has grown since, its chain with it.
    verdict = client.http.get(f"/v1/jobs/{job_id}/audit/verify").json()
    assert verdict["intact"] and verdict["reason"] == "" and verdict["first_bad_seq"] is None
    assert verdict["events"] == verdict["head_seq"] >= len(lines)


def test_the_offline_script_checks_a_download_and_finds_an_edit(finished, tmp_path) -> None:
    client, job_id = finished
    download = tmp_path / "job.audit.ndjson"
    download.write_bytes(client.http.get(f"/v1/jobs/{job_id}/audit").content)
    ok = subprocess.run([sys.executable, SCRIPT, download], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("intact:"), ok.stderr
    text = download.read_text().splitlines()
    text[4] = text[4].replace('"service":"', '"service":"x', 1)
    download.write_text("\n".join(text) + "\n")
    broken = subprocess.run([sys.executable, SCRIPT, download], capture_output=True, text=True)
    assert broken.returncode == 1 and "broken at seq 5: its content or hash was changed" in broken.stderr


# Each tampers with a `db.query` event only, which no job state is derived from: the suite's
# shared database stays one whose projections a rebuild reproduces (test_audit_downloads.py).
_A_QUERY = "(SELECT {}(seq) FROM audit.events WHERE stream_id = $1 AND type = 'db.query' AND seq > 3)"


@pytest.mark.parametrize("tamper, reason", [
    (f"UPDATE audit.events SET data = jsonb_set(data, '{{forged}}', 'true') WHERE stream_id = $1"
     f" AND seq = {_A_QUERY.format('min')} RETURNING seq", "its content or hash was changed"),
    (f"UPDATE audit.events SET type = 'db.queried' WHERE stream_id = $1 AND seq = {_A_QUERY.format('min')}"
     " RETURNING seq", "its content or hash was changed"),
    (f"DELETE FROM audit.events WHERE stream_id = $1 AND seq = {_A_QUERY.format('min')} RETURNING seq",
     "seq [0-9]+ is missing"),
    # The last query cut: the log ends before its head (or, when a later event follows it, that seq is missing).
    (f"DELETE FROM audit.events WHERE stream_id = $1 AND seq = {_A_QUERY.format('max')} RETURNING seq",
     "is missing|the log ends at seq"),
], ids=["data-edited", "type-edited", "event-removed", "end-cut"])
def test_verify_names_the_first_seq_an_owner_with_triggers_off_changed(stack, database_url, tamper, reason) -> None:
    client = stack.client()
    job_id = client.submit(80)
    assert client.wait(job_id)["status"] == "completed"
    assert client.http.get(f"/v1/jobs/{job_id}/audit/verify").json()["intact"]
    changed = tampered(database_url, tamper, job_id)
    verdict = client.http.get(f"/v1/jobs/{job_id}/audit/verify").json()
    assert not verdict["intact"] and re.search(reason, verdict["reason"]), verdict
    assert verdict["first_bad_seq"] == changed
    # The owner can still delete a tampered job; deleted, it leaves the session's database whole
    # for the tests after (the rebuild check reads every job's log).
    assert client.http.delete(f"/v1/jobs/{job_id}").status_code == 202
    client.audit_until(None, lambda log: any(e["type"] == "job.deleted" and e["data"].get("job_id") == job_id
                                             for e in log))


@pytest.mark.parametrize("line_change, hashes, message", [
    ({"seq": 100000}, 1, "its seq was not reserved"),
    ({"data": {"forged": True}}, 1, "its hash does not link"),
    # An event is stored in the stream its job or account names, where no seq was reserved for it.
    ({"job_id": None}, 1, "event 2 of stream user:.*its seq was not reserved"),
    ({}, 2, "1 lines and 64 bytes of hashes"),
    ({"data": {"a": "one"}}, 0, "1 lines and 0 bytes of hashes"),
], ids=["seq-100000", "content-not-hashed", "other-stream", "a-hash-too-many", "no-hash"])
def test_an_append_that_would_break_the_chain_is_refused(stack, database_url, line_change, hashes, message) -> None:
    job, user = uuid.uuid4(), uuid.uuid4()

    async def forge():
        conn = await asyncpg.connect(service_url(database_url, "audit"))
        try:
            (line,) = await append(conn, job, user, ["job.requested"])
            async with conn.transaction():
                (row,) = await conn.fetch("SELECT * FROM audit.reserve_seqs($1::text[], '{1}')", [str(job)])
                forged = {**line, "seq": row["first_seq"], "event_id": str(uuid.uuid4())} | line_change
                await conn.execute("SELECT audit.append_lines($1::bytea, $2::bytea)", canonical(forged),
                                   bytes.fromhex(line["hash"]) * hashes)
        finally:
            await conn.close()

    with pytest.raises(asyncpg.RaiseError, match=message):
        asyncio.run(forge())
    assert _stored(database_url, job) == 1  # only the event appended before


def test_a_line_with_a_newline_in_it_is_two_lines_and_refused(stack, database_url) -> None:
    """A canonical line never holds a newline (JSON escapes it): one in a forged line cuts it in two."""
    job = uuid.uuid4()

    async def forge():
        conn = await asyncpg.connect(service_url(database_url, "audit"))
        try:
            async with conn.transaction():
                (row,) = await conn.fetch("SELECT * FROM audit.reserve_seqs($1::text[], '{1}')", [str(job)])
                text = canonical({"seq": row["first_seq"], "event_id": str(uuid.uuid4()), "type": "a\nb",
                                  "ts": "2026-12-05T00:00:00+00:00", "service": "test", "job_id": str(job),
                                  "user_id": None, "data": {}}).replace(b"\\n", b"\n")
                await conn.execute("SELECT audit.append_lines($1::bytea, $2::bytea)", text, bytes(32))
        finally:
            await conn.close()

    with pytest.raises(asyncpg.RaiseError, match="2 lines and 32 bytes of hashes"):
        asyncio.run(forge())
    assert _stored(database_url, job) == 0


def _stored(database_url: str, job: uuid.UUID) -> int:
    counted = []

    async def count(conn):
        counted.append(await conn.fetchval("SELECT count(*) FROM audit.events WHERE stream_id = $1", str(job)))
    connected(database_url, count)
    return counted[0]


def test_a_deleted_jobs_tombstone_carries_the_head_verified_before(stack) -> None:
    client = stack.client()
    job_id = client.submit(60)
    assert client.wait(job_id)["status"] == "completed"
    before = client.http.get(f"/v1/jobs/{job_id}/audit/verify").json()
    assert client.http.delete(f"/v1/jobs/{job_id}").status_code == 202
    log = client.audit_until(None, lambda log: any(e["type"] == "job.deleted" for e in log))
    (tombstone,) = [e["data"] for e in log if e["type"] == "job.deleted"]
    assert tombstone["final_hash"] is not None and tombstone["request_event_id"]
    # The request is appended after the verify, so the final head is one or more links past it.
    assert tombstone["final_seq"] > before["head_seq"] and tombstone["events_erased"] == tombstone["final_seq"]
    assert client.http.get(f"/v1/jobs/{job_id}/audit/verify").status_code == 404


async def test_a_completed_jobs_chain_head_is_published_on_nats(stack, nats_url, bus_prefix) -> None:
    connection = await nats.connect(nats_url)
    anchors = await connection.subscribe(Subjects(bus_prefix).anchor("*"))
    try:
        client = stack.client()
        job_id = await asyncio.to_thread(client.submit, 70)
        assert (await asyncio.to_thread(client.wait, job_id))["status"] == "completed"
        while (anchor := json.loads((await anchors.next_msg(timeout=30)).data))["job_id"] != job_id:
            pass  # another test's job
    finally:
        await connection.close()
    (completed,) = [line for line in await asyncio.to_thread(client.audit, job_id) if line["type"] == "job.completed"]
    assert anchor == {"job_id": job_id, "seq": completed["seq"], "hash": completed["hash"]}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**63, max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([1e16, -0.0, 1e-7, 1.5e300, 2.0**53])
    | st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6).filter(lambda k: "\x00" not in k),
                                                                 inner, max_size=4), max_leaves=12)


def test_any_json_data_comes_back_from_postgres_as_the_line_that_was_hashed(stack, database_url) -> None:
    """jsonb reorders keys, drops negative zero and writes 1e16 as an integer: the chain must still
    hold for whatever data an event carries."""
    @given(data=st.lists(st.dictionaries(st.text(max_size=6).filter(lambda k: "\x00" not in k), JSON_VALUES,
                                         max_size=5), min_size=1, max_size=4))
    @settings(max_examples=60, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def holds(data) -> None:
        job = uuid.uuid4()

        async def work(conn):
            await append(conn, job, uuid.uuid4(), ["db.query"] * len(data), data=data)
            rows = await conn.fetch("SELECT * FROM audit.events WHERE stream_id = $1 ORDER BY seq", str(job))
            check = ChainCheck()
            check.feed(event_line(r) for r in rows)
            assert check.verdict(None, None).intact, [dict(r) for r in rows]

        connected(database_url, work)

    holds()
