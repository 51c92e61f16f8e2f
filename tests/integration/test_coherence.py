"""Coherence lives in the database (SPEC C1-C3). The journey stays here: sections of a whole job
are written at the same time. What each handler does with that state is tested on its handler:
the plan stored before the first chunk is dispatched (tests/handler/test_plan_before_writing.py);
a new version of the memory per chunk, each prompt built from the stored summary, ledger, style
sheet and previous tail, prompts that stay flat as the document grows
(tests/handler/test_memory_handlers.py)."""


def test_parallel_sections_are_written_at_the_same_time(client) -> None:
    job_id = client.submit(9000)
    assert client.wait(job_id)["status"] == "completed"
    in_flight, most = set(), 0
    for event in client.audit(job_id):
        if event["type"] == "chunk.write":
            in_flight.add(event["data"]["chunk_index"])
        elif event["type"] == "chunk.processed":
            in_flight.discard(event["data"]["chunk_index"])
        most = max(most, len(in_flight))
    assert most >= 2
