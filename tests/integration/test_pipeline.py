"""One document job through all five services, on real NATS and Postgres, seen through the API."""

from collections import Counter

from contracts.wordcount import count_words
from services.generator.quality import paragraphs

SERVICES = {"gateway", "planner", "generator", "assembler", "audit"}


def test_generate_job_completes_with_at_least_the_target_words(client) -> None:
    job_id = client.submit(5000, title="Rivers")
    final = client.wait(job_id)
    assert final["status"] == "completed", final
    body = client.body(job_id)
    assert count_words(body) >= 5000
    assert final["words"] == count_words(body)
    assert final["chunks_done"] == final["chunks_total"] > 1


def test_delivered_text_repeats_no_paragraph(client) -> None:
    job_id = client.submit(3000)
    assert client.wait(job_id)["status"] == "completed"
    repeated = [p for p, n in Counter(paragraphs(client.body(job_id))).items() if n > 1]
    assert repeated == []


def test_audit_download_holds_events_of_all_five_services_in_seq_order(client) -> None:
    job_id = client.submit(2000)
    assert client.wait(job_id)["status"] == "completed"
    events = client.audit(job_id)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert {e["service"] for e in events} == SERVICES
    assert {e["job_id"] for e in events} == {job_id}
    types = [e["type"] for e in events]
    assert types.index("job.requested") < types.index("job.planned") < types.index("job.completed")
    assert {"db.query", "llm.call", "chunk.processed"} <= set(types)


def test_audit_log_holds_every_lifecycle_step_exactly_once(client) -> None:
    job_id = client.submit(4000)
    final = client.wait(job_id)
    assert final["status"] == "completed"
    counts = Counter(e["type"] for e in client.audit(job_id))
    chunks = final["chunks_total"]
    assert chunks > 1
    assert counts["job.requested"] == counts["job.planned"] == counts["job.completed"] == 1
    assert counts["chunk.write"] == counts["chunk.processed"] == chunks
    assert counts["llm.call"] >= chunks
    assert counts["document.assemble"] == counts["document.assembled"] == 1


def test_every_llm_call_is_audited_with_usage_and_a_link_to_the_stored_prompt(client) -> None:
    job_id = client.submit(1500)
    assert client.wait(job_id)["status"] == "completed"
    calls = [e["data"]["attributes"] for e in client.audit(job_id) if e["type"] == "llm.call"]
    # Each chunk's memory comes with its reply (the cooperative fake writes the tail): no summary call.
    assert {c["longform.purpose"] for c in calls} == {"outline", "write"}
    for call in calls:
        assert call["gen_ai.request.model"] == "fake-writer"
        assert call["gen_ai.usage.input_tokens"] > 0 and call["gen_ai.usage.output_tokens"] > 0
        assert call["longform.latency_ms"] > 0
        assert call["longform.stored_as"].startswith(("generator.llm_calls/", "planner.llm_calls/"))


def test_a_one_word_job_completes(client) -> None:
    job_id = client.submit(1)
    final = client.wait(job_id)
    assert final["status"] == "completed" and final["words"] >= 1
    assert final["chunks_total"] == 1
