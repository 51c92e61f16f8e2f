"""Providers misbehave; the document is still at least as long as asked. The journey stays here: a
job whose every reply comes back short completes at its target. What the writer does with one
chunk's replies is tested on its handler (tests/handler/test_generator_handlers.py: short and
truncated replies continued, empty replies reported with a reason; tests/handler/test_writer_replies.py:
rate limits and server errors retried, a provider that never writes failing the job); the job that
fails on such a provider is a journey of test_length_guarantee.py."""

def test_short_replies_are_continued_until_the_chunk_reaches_its_budget(client) -> None:
    job_id = client.submit(2000, model="fake/short:fraction=0.4")
    final = client.wait(job_id)
    assert final["status"] == "completed" and final["words"] >= 2000
    calls = [e for e in client.audit(job_id) if e["type"] == "llm.call"]
    assert len(calls) > final["chunks_total"]  # continuations happened
