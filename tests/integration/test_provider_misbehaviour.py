"""Providers misbehave; the document is still at least as long as asked, or the job fails with a reason."""

def test_short_replies_are_continued_until_the_chunk_reaches_its_budget(client) -> None:
    job_id = client.submit(2000, model="fake/short:fraction=0.4")
    final = client.wait(job_id)
    assert final["status"] == "completed" and final["words"] >= 2000
    calls = [e for e in client.audit(job_id) if e["type"] == "llm.call"]
    assert len(calls) > final["chunks_total"]  # continuations happened


def test_truncated_replies_are_continued_from_their_last_sentence(client) -> None:
    job_id = client.submit(2000, model="fake/truncated:fraction=0.5")
    final = client.wait(job_id)
    assert final["status"] == "completed" and final["words"] >= 2000
    finish = {e["data"]["attributes"]["gen_ai.response.finish_reasons"]
              for e in client.audit(job_id) if e["type"] == "llm.call"}
    assert "length" in finish


def test_rate_limits_and_server_errors_are_retried(stack, client) -> None:
    control = stack.fake_llm.control()
    control.script({"kind": "rate_limit", "retry_after": 1}, {"kind": "server_error"})
    job_id = client.submit(300)
    final = client.wait(job_id)
    assert final["status"] == "completed" and final["words"] >= 300
    errors = [e["data"]["attributes"]["error.type"] for e in client.audit(job_id) if e["type"] == "llm.call"]
    assert any(err and "rate_limited" in err for err in errors)
    assert any(err and "server_error" in err for err in errors)


def test_a_provider_that_only_returns_empty_replies_fails_the_job_with_a_reason(client) -> None:
    job_id = client.submit(500, model="fake/empty")
    final = client.wait(job_id, timeout=180)
    assert final["status"] == "failed"
    assert "empty reply" in final["error"] and "0 of 500 words" in final["error"]
