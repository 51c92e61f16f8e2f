"""Cancel stops a job promptly and keeps what was written; resume continues it without paying for
the chunks already written; the owner's delete removes the job, its chunks, document and events
everywhere, even from handlers still in flight, and leaves a tombstone in the account's log."""

import time
import uuid

from tests.integration.dbread import fetch

_JOB_TABLES = """
SELECT table_schema || '.' || table_name AS name FROM information_schema.columns
 WHERE column_name = 'job_id' AND table_schema IN ('gateway', 'planner', 'generator', 'assembler', 'audit')
   AND table_name NOT IN ('deleted_jobs', 'erased_jobs')
"""


def _of_type(log: list[dict], event_type: str) -> list[dict]:
    return [e for e in log if e["type"] == event_type]


def _requests_for(stack, job_id: str) -> list[dict]:
    return [r for r in stack.fake_llm.control().requests() if (r.get("chunk") or "").startswith(job_id)]


def test_cancel_stops_the_job_and_resume_finishes_it_without_rewriting_chunks(stack, client) -> None:
    job_id = client.submit(5000, model="fake/latency:seconds=1")
    client.wait_for(job_id, lambda job: job["chunks_done"] >= 1)
    assert client.http.post(f"/v1/jobs/{job_id}/cancel").json()["status"] == "cancelling"
    cancelled = client.wait(job_id)
    assert cancelled["status"] == "cancelled" and cancelled["chunks_done"] < cancelled["chunks_total"]
    time.sleep(2.5)  # longer than one LLM call: whatever was in flight has ended
    calls_after_cancel = len(_requests_for(stack, job_id))
    time.sleep(2.0)
    assert len(_requests_for(stack, job_id)) == calls_after_cancel, "the generator kept calling the LLM"
    log = client.audit(job_id)
    assert _of_type(log, "job.cancel_requested") and _of_type(log, "job.cancelled")
    written = {e["data"]["chunk_index"] for e in _of_type(log, "chunk.processed") if e["data"]["passed"]}
    assert client.job(job_id)["status"] == "cancelled"

    seen = len(stack.fake_llm.control().requests())
    assert client.http.post(f"/v1/jobs/{job_id}/resume").status_code == 202
    final = client.wait_for(job_id, lambda job: job["status"] in ("completed", "failed"), timeout=180)
    assert final["status"] == "completed" and final["words"] >= 5000
    rewritten = {int(r["chunk"].split(":")[1]) for r in stack.fake_llm.control().requests(seen)
                 if (r.get("chunk") or "").startswith(job_id)}
    assert written and not rewritten & written  # no chunk finished before the cancel went to the LLM again
    resumed = _of_type(client.audit(job_id), "job.resumed")
    assert [(e["service"], e["data"]["reason"], e["data"]["consumer"]) for e in resumed] == [
        ("planner", "user", "planner-job-resume_requested")]


def test_a_cancel_sent_as_soon_as_the_job_is_accepted_always_stops_it(client) -> None:
    """The cancel reaches the planner before, during or just after the plan's transaction; none of
    these orders may let the job run on to completion."""
    jobs = [client.submit(20_000) for _ in range(10)]
    for job_id in jobs:
        assert client.http.post(f"/v1/jobs/{job_id}/cancel").status_code == 202
    ended = {job_id: client.wait(job_id) for job_id in jobs}
    assert {job_id: job["status"] for job_id, job in ended.items()} == dict.fromkeys(jobs, "cancelled")
    assert all(job["chunks_done"] < job["chunks_total"] or job["chunks_total"] == 0 for job in ended.values())


def test_only_a_running_job_can_be_cancelled(client) -> None:
    job_id = client.submit(50)
    assert client.wait(job_id)["status"] == "completed"
    refused = client.http.post(f"/v1/jobs/{job_id}/cancel")
    assert refused.status_code == 409 and "completed" in refused.json()["detail"]
    assert client.http.post(f"/v1/jobs/{uuid.uuid4()}/cancel").status_code == 404


def _rows_left(database_url: str, job_id: str) -> dict[str, int]:
    left = {}
    for table in (r["name"] for r in fetch(database_url, _JOB_TABLES)):
        count = fetch(database_url, f"SELECT count(*) AS n FROM {table} WHERE job_id = $1", uuid.UUID(job_id))[0]["n"]
        if count:
            left[table] = count
    for table, column in (("gateway.jobs", "id"), ("audit.events", "stream_id")):
        value = job_id if column == "stream_id" else uuid.UUID(job_id)
        count = fetch(database_url, f"SELECT count(*) AS n FROM {table} WHERE {column} = $1", value)[0]["n"]
        if count:
            left[table] = count
    return left


def test_delete_erases_the_job_everywhere_and_leaves_a_tombstone(client, database_url) -> None:
    job_id = client.submit(1500)
    assert client.wait(job_id)["status"] == "completed"
    assert _rows_left(database_url, job_id)  # the check below can fail: there were rows to erase
    events = len(client.audit(job_id))
    assert client.http.delete(f"/v1/jobs/{job_id}").status_code == 202
    for path in ("", "/audit", "/document"):
        assert client.http.get(f"/v1/jobs/{job_id}{path}").status_code == 404
    assert job_id not in {j["id"] for j in client.http.get("/v1/jobs").json()["jobs"]}
    log = client.audit_until(None, lambda log: _of_type(log, "job.deleted") and len(
        {e["service"] for e in _of_type(log, "job.data_deleted")}) == 4)
    tombstone = _of_type(log, "job.deleted")[0]["data"]
    assert tombstone["job_id"] == job_id and tombstone["events_erased"] >= events
    deleted_rows = {t: n for e in _of_type(log, "job.data_deleted") for t, n in e["data"]["rows"].items()}
    assert deleted_rows["generator.chunks"] >= 1 and deleted_rows["assembler.documents"] == 1
    assert _rows_left(database_url, job_id) == {}


def test_a_job_deleted_mid_write_leaves_nothing_behind(stack, client, database_url) -> None:
    job_id = client.submit(4000, model="fake/latency:seconds=1.5")
    client.wait_for(job_id, lambda job: job["status"] == "writing")
    time.sleep(0.5)  # calls in flight
    assert client.http.delete(f"/v1/jobs/{job_id}").status_code == 202
    client.audit_until(None, lambda log: any(e["data"]["job_id"] == job_id for e in _of_type(log, "job.deleted")))
    time.sleep(3.0)  # the calls that were in flight end, and their handlers try to write
    assert _rows_left(database_url, job_id) == {}
    assert client.http.get(f"/v1/jobs/{job_id}").status_code == 404
