"""The audit log accounts for every row a job wrote, every read the gateway made for it, the
outbox writes and the relay's statements; what belongs to no job is in the account's log. The
journey is one whole job's log (the `finished` fixture), plus the gateway's reads and access
control. What one handler's transaction leaves in the log (a long text as length, hash and
preview; an update's old and new values; each chunk's report against the chunk stored) is tested
on the handlers: tests/handler/test_row_audit.py, tests/handler/test_writer_replies.py."""

import uuid

import pytest

from tests.integration.dbread import fetch


def _of_type(log: list[dict], event_type: str) -> list[dict]:
    return [e for e in log if e["type"] == event_type]


def _statements(log: list[dict], service: str | None = None) -> list[dict]:
    return [s for e in _of_type(log, "db.query") if service in (None, e["service"]) for s in e["data"]["statements"]]


RELAYS = {"gateway", "planner", "generator", "assembler"}  # every service that writes for a job

@pytest.fixture(scope="module")
def finished(stack):
    """One 2,500-word job run to completion, its log, and its owner's client."""
    client = stack.client()
    job_id = client.submit(2500, instructions="An essay on lighthouses and the people who kept them.")
    assert client.wait(job_id)["status"] == "completed"
    # Each service's relay publishes on its own time: its last report may reach the log after the
    # job completed, so the log is read once every service's report of the job is in.
    yield client, job_id, client.audit_until(job_id, lambda log: RELAYS <= {
        e["service"] for e in _of_type(log, "db.query") if e["data"]["context"] == "outbox relay"})
    client.close()


def _row_ids(log: list[dict], event_type: str, table: str) -> list[dict]:
    return [e["data"]["row_id"] for e in _of_type(log, event_type) if e["data"]["table"] == table]


@pytest.mark.parametrize("table, key, sql", [
    ("gateway.jobs", ("id",), "SELECT id FROM gateway.jobs WHERE id = $1"),
    ("planner.plans", ("job_id",), "SELECT job_id FROM planner.plans WHERE job_id = $1"),
    ("planner.sections", ("job_id", "section_index"),
     "SELECT job_id, section_index FROM planner.sections WHERE job_id = $1"),
    ("planner.chunks", ("job_id", "chunk_index"), "SELECT job_id, chunk_index FROM planner.chunks WHERE job_id = $1"),
    ("generator.chunks", ("job_id", "chunk_index"),
     "SELECT job_id, chunk_index FROM generator.chunks WHERE job_id = $1"),
    ("generator.coherence", ("job_id", "version"), "SELECT job_id, version FROM generator.coherence WHERE job_id = $1"),
    ("generator.llm_calls", ("id",), "SELECT id FROM generator.llm_calls WHERE job_id = $1"),
    ("planner.llm_calls", ("id",), "SELECT id FROM planner.llm_calls WHERE job_id = $1"),
    ("assembler.documents", ("job_id",), "SELECT job_id FROM assembler.documents WHERE job_id = $1"),
])
def test_every_row_the_job_inserted_is_in_its_log(finished, database_url, table, key, sql) -> None:
    _, job_id, log = finished
    stored = [{k: str(r[k]) if isinstance(r[k], uuid.UUID) else r[k] for k in key}
              for r in fetch(database_url, sql, uuid.UUID(job_id))]
    assert stored, f"the job wrote no row to {table}"
    logged = _row_ids(log, "db.row_inserted", table)
    assert sorted(map(repr, logged)) == sorted(map(repr, stored))


def test_every_row_event_points_at_the_statements_of_its_transaction(finished) -> None:
    _, _, log = finished
    queries = {e["event_id"]: e for e in _of_type(log, "db.query")}
    rows = _of_type(log, "db.row_inserted") + _of_type(log, "db.row_updated")
    assert rows
    for event in rows:
        query = queries[event["data"]["query_event_id"]]
        assert query["service"] == event["service"]
        assert any(event["data"]["table"] in s["tables"] and s["tables"][event["data"]["table"]] == "write"
                   for s in query["data"]["statements"])


def test_each_transaction_lists_the_outbox_write_that_carries_it(finished) -> None:
    _, _, log = finished
    for event in _of_type(log, "db.query"):
        if event["service"] == "audit":
            continue  # the audit service appends its record directly, not through an outbox
        last = event["data"]["statements"][-1]
        assert last["sql"].startswith(f"INSERT INTO {event['service']}.outbox ")
        assert last["rows"] >= 1 and last["duration_ms"] is None


def test_the_outbox_relay_reports_the_batches_that_carried_the_job(finished) -> None:
    _, _, log = finished
    relayed = [e for e in _of_type(log, "db.query") if e["data"]["context"] == "outbox relay"]
    assert {e["service"] for e in relayed} >= RELAYS
    for event in relayed:  # each names the batch it marked published, and the sweep for leftovers
        sql = [s["sql"] for s in event["data"]["statements"]]
        assert any(s.startswith("UPDATE") and "SET published_at" in s for s in sql)
        assert any(s.startswith("SELECT id, event_id, type") for s in sql)


def _viewed(log: list[dict], job_id: str) -> list[dict]:
    return [e for e in _of_type(log, "db.query") if e["data"].get("viewed_job") == job_id]


def test_reads_that_show_a_job_are_in_its_viewers_account_log_naming_it(finished) -> None:
    """Who looked at what, when: the owner's account log; the job's own log does not grow."""
    client, job_id, before = finished
    client.document(job_id)
    log = client.audit_until(None, lambda log: any(
        "FROM assembler.documents" in s["sql"] for e in _viewed(log, job_id) for s in e["data"]["statements"]))
    viewed = _viewed(log, job_id)
    assert {e["data"]["context"] for e in viewed} == {"viewer reads"} and all(e["job_id"] is None for e in viewed)
    reads = [s for e in viewed for s in e["data"]["statements"]]
    assert any(s["sql"].startswith("SELECT user_id FROM gateway.api_tokens WHERE token_hash") for s in reads)
    assert any("FROM audit.events_v2 WHERE stream_id" in s["sql"] for s in reads)
    assert all(s["tables"] and s["duration_ms"] is not None for s in reads if not s["sql"].startswith("INSERT"))
    in_job_log = [s["sql"] for e in _of_type(client.audit(job_id), "db.query") if e["service"] == "gateway"
                  for s in e["data"]["statements"]]
    assert not any("FROM assembler.documents" in sql or "FROM audit.events_v2" in sql for sql in in_job_log)


def test_watching_a_completed_job_adds_nothing_to_its_log(client) -> None:
    """The page's polls, reloads and downloads are the viewer's: in the job's log the gateway
    appears only for what it did to the job (its request), all before the job completed."""
    job_id = client.submit(1500)
    assert client.wait(job_id)["status"] == "completed"
    for _ in range(3):
        client.job(job_id), client.audit(job_id), client.document(job_id)
    client.audit_until(None, lambda log: len(_viewed(log, job_id)) >= 9)
    log = client.audit(job_id)
    types = [e["type"] for e in log]
    gateway = [e["seq"] for e in log if e["service"] == "gateway"]
    assert gateway and max(gateway) < log[types.index("job.completed")]["seq"]


def test_what_belongs_to_no_job_is_in_the_account_log(client) -> None:
    client.http.get("/v1/jobs").raise_for_status()
    log = client.audit_until(None, lambda log: any("FROM gateway.jobs j" in s["sql"] for s in _statements(log)))
    assert {e["user_id"] for e in log} == {log[0]["user_id"]} and all(e["job_id"] is None for e in log)
    user_rows = [e["data"] for e in _of_type(log, "db.row_inserted") if e["data"]["table"] == "gateway.users"]
    assert len(user_rows) == 1
    assert user_rows[0]["fields"]["token_hash"] == "[redacted]" and user_rows[0]["row_id"] == {"id": log[0]["user_id"]}
    assert _of_type(log, "user.created")


def test_another_users_job_reads_go_to_the_callers_account_not_the_job(client, stack) -> None:
    job_id = client.submit(20)
    other = stack.client()
    try:
        assert other.http.get(f"/v1/jobs/{job_id}").status_code == 404
        other.audit_until(None, lambda log: any(
            s["sql"].startswith("SELECT j.id") and not e["job_id"] for e in _of_type(log, "db.query")
            for s in e["data"]["statements"]))
    finally:
        other.close()
    assert client.wait(job_id)["status"] == "completed"
    owner = client.account_audit()[0]["user_id"]
    assert {e["user_id"] for e in client.audit(job_id)} == {owner}
