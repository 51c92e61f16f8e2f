"""Every event names the step of its job it belongs to (contracts/steps.py), so the panel's story
view is rebuilt from the log alone (issue 18): a whole job's events each carry one, and the
statements, row events and LLM calls of a chunk's work carry that chunk's step."""

import json
import uuid

from tests.integration.dbread import fetch


def _stored(stack, job_id: str) -> list[dict]:
    rows = fetch(stack.config.database_url,
                 "SELECT seq, event_id, type, step, data FROM audit.events WHERE stream_id = $1 ORDER BY seq", job_id)
    return [{**r, "data": json.loads(r["data"])} for r in rows]


def test_every_event_of_a_job_names_its_step(stack, client) -> None:
    job_id = client.submit(2500)
    assert client.wait(job_id)["status"] == "completed"
    stored = _stored(stack, job_id)
    assert [e["seq"] for e in stored if not e["step"]] == []
    steps = [e["step"] for e in stored]
    assert steps[0] == "request"  # the gateway's transaction: its statements, then job.requested
    assert [e["step"] for e in stored if e["type"] == "job.requested"] == ["request"]
    assert {"plan", "assemble", "bookkeeping", "relay"} <= set(steps)
    assert {e["step"] for e in stored if e["type"] == "job.completed"} <= {"assemble", "lifecycle"}
    downloaded = [e["step"] for e in client.audit(job_id)]  # the log as downloaded says the same
    assert downloaded[: len(steps)] == steps  # (the relay's last reports may have come since)


def test_a_chunks_statements_rows_and_calls_carry_its_step(stack, client) -> None:
    job_id = client.submit(2500)
    assert client.wait(job_id)["status"] == "completed"
    stored = _stored(stack, job_id)
    by_id = {e["event_id"]: e for e in stored}
    stored_chunks = [e for e in stored if e["type"] == "db.row_inserted" and e["data"]["table"] == "generator.chunks"]
    assert stored_chunks
    for row in stored_chunks:  # the row of a chunk's text, and the transaction that wrote it
        step = f"chunk:{row['data']['row_id']['chunk_index']}"
        query = by_id[uuid.UUID(row["data"]["query_event_id"])]
        assert (row["step"], query["type"], query["step"]) == (step, "db.query", step)
    for event in stored:
        data = event["data"]
        if event["type"] == "chunk.processed":
            assert event["step"] == f"chunk:{data['chunk_index']}"
        if event["type"] == "llm.call" and data["attributes"]["longform.purpose"] == "write":
            assert event["step"] == f"chunk:{data['attributes']['longform.chunk_index']}"
        if event["type"] == "chunk.summarized":
            assert event["step"] == f"summary:{data['chunk_index']}"
