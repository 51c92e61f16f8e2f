"""Cancel stops a job promptly and keeps what was written; resume continues it without paying for
the chunks already written; the owner's delete removes the job, its chunks, document and events
everywhere, even from handlers still in flight, and leaves a tombstone in the account's log."""

import uuid

from tests.integration.dbread import fetch
from tests.waiting import until

_JOB_TABLES = """
SELECT table_schema || '.' || table_name AS name FROM information_schema.columns
 WHERE column_name = 'job_id' AND table_schema IN ('gateway', 'planner', 'generator', 'assembler', 'audit')
   AND table_name NOT IN ('deleted_jobs', 'erased_jobs')
"""


def _of_type(log: list[dict], event_type: str) -> list[dict]:
    return [e for e in log if e["type"] == event_type]


def _requests_for(stack, job_id: str) -> list[dict]:
    return [r for r in stack.fake_llm.control().requests() if (r.get("chunk") or "").startswith(job_id)]


def _all_work_ended(log: list[dict]) -> bool:
    """Every write dispatched has been reported (written, or stopped by the cancel) and every
    memory step started has answered: after this, no handler of the job has an LLM call to make."""
    def chunks(*types: str) -> set[int]:
        return {e["data"]["chunk_index"] for t in types for e in _of_type(log, t)}
    return (chunks("chunk.write") <= chunks("chunk.processed", "job.chunk_stopped")
            and chunks("chunk.summarize") <= chunks("chunk.summarized"))


def _after_a_later_job(client) -> None:
    """A job submitted now has gone all the way through every service: whatever they still had
    queued before it (in stream order, for the audit service) has been handled."""
    assert client.wait(client.submit(50))["status"] == "completed"


def test_cancel_stops_the_job_and_resume_finishes_it_without_rewriting_chunks(stack, client) -> None:
    job_id = client.submit(5000, model="fake/latency:seconds=1")
    client.wait_for(job_id, lambda job: job["chunks_done"] >= 1)
    assert client.http.post(f"/v1/jobs/{job_id}/cancel").json()["status"] == "cancelling"
    cancelled = client.wait(job_id)
    assert cancelled["status"] == "cancelled" and cancelled["chunks_done"] < cancelled["chunks_total"]
    client.audit_until(job_id, _all_work_ended)
    calls_after_cancel = len(_requests_for(stack, job_id))
    _after_a_later_job(client)
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


def _written_at_the_llm(stack, job_id: str) -> set[int]:
    """Chunks of the job whose write the fake LLM has received."""
    return {int(chunk) for r in _requests_for(stack, job_id) if (chunk := r["chunk"].split(":")[1]).isdigit()}


def _reported_by_the_generator(database_url: str, job_id: str, *, published: bool = False) -> set[int]:
    """Chunks whose write handler has ended (written or stopped), from the generator's outbox (and
    published, if asked): the audit service drops a deleted job's events, so its log cannot say."""
    rows = fetch(database_url, "SELECT payload->'data'->>'chunk_index' AS chunk FROM generator.outbox"
                 " WHERE payload->>'job_id' = $1 AND type IN ('chunk.processed', 'job.chunk_stopped')"
                 f"{' AND published_at IS NOT NULL' if published else ''}", job_id)
    return {int(r["chunk"]) for r in rows}


def test_a_job_deleted_mid_write_leaves_nothing_behind(stack, client, database_url) -> None:
    job_id = client.submit(4000, model="fake/latency:seconds=1.5")
    # A write at the LLM (1.5 s each) and not reported: in flight.
    until(lambda: _written_at_the_llm(stack, job_id) - _reported_by_the_generator(database_url, job_id),
          "a write in flight at the LLM")
    in_flight = _written_at_the_llm(stack, job_id)
    assert client.http.delete(f"/v1/jobs/{job_id}").status_code == 202
    client.audit_until(None, lambda log: any(e["data"]["job_id"] == job_id for e in _of_type(log, "job.deleted")))
    # The calls that were in flight end and their handlers try to write; their late events reach
    # the audit service before a later job's.
    until(lambda: in_flight <= _reported_by_the_generator(database_url, job_id, published=True),
          f"the generator's reports of chunks {sorted(in_flight)}")
    _after_a_later_job(client)
    assert _rows_left(database_url, job_id) == {}
    assert client.http.get(f"/v1/jobs/{job_id}").status_code == 404
