"""Every lifecycle step is in the job's log: each chunk started and processed, and a redelivery
after a service died mid-chunk (the crash and the resume). A chunk's continuations for length are
the generator's alone: tests/handler/test_generator_handlers.py."""

from tests.waiting import until


def _of_type(log: list[dict], event_type: str) -> list[dict]:
    return [e for e in log if e["type"] == event_type]


def test_every_chunk_is_started_before_it_is_processed(client) -> None:
    job_id = client.submit(2500)
    assert client.wait(job_id)["status"] == "completed"
    log = client.audit(job_id)
    started = {e["data"]["chunk_index"]: e["seq"] for e in _of_type(log, "job.chunk_started")}
    processed = {e["data"]["chunk_index"]: e["seq"] for e in _of_type(log, "chunk.processed")}
    assert processed and set(started) == set(processed)
    assert all(started[i] < processed[i] for i in processed)
    assert [e["type"] for e in log if e["type"].startswith("job.")][:2] == ["job.requested", "job.planned"]
    assert _of_type(log, "job.completed")


def _writes_at_the_llm(stack, job_id: str) -> list[dict]:
    return [r for r in stack.fake_llm.control().requests()
            if (r.get("chunk") or "").startswith(f"{job_id}:") and r["chunk"].split(":")[1].isdigit()]


def test_a_generator_killed_mid_chunk_shows_the_redelivery_and_the_job_completes(stack, client) -> None:
    job_id = client.submit(600, model="fake/latency:seconds=4")
    until(lambda: _writes_at_the_llm(stack, job_id))  # a call in flight: each takes 4 s
    stack.supervisor.kill("generator")  # SIGKILL; the supervisor starts it again
    final = client.wait(job_id, timeout=180)
    assert final["status"] == "completed" and final["words"] >= 600
    log = client.audit(job_id)
    redelivered = [e["data"] for e in _of_type(log, "job.redelivered") if e["data"]["message_type"] == "chunk.write"]
    assert redelivered and all(r["delivery"] >= 2 and r["consumer"].endswith("chunk-write") for r in redelivered)
    restarted = {r["message_event_id"] for r in redelivered}
    writes = {e["event_id"] for e in _of_type(log, "chunk.write")}
    assert restarted <= writes
    starts = [e["data"]["chunk_index"] for e in _of_type(log, "job.chunk_started")]
    assert len(starts) > len(set(starts))  # a chunk started again after the crash
