"""Coherence lives in the database (SPEC C1-C3): the plan is stored before writing, each chunk's
prompt is built from the stored summary, ledger, style sheet and previous tail, and each update
of that state is a new version linked to the chunk that caused it."""

import uuid


def test_the_plan_is_stored_before_the_first_chunk_is_written(client, query) -> None:
    job_id = client.submit(6000)
    assert client.wait(job_id)["status"] == "completed"
    types = [e["type"] for e in client.audit(job_id)]
    assert types.index("job.planned") < types.index("chunk.write")
    (plan,) = query("SELECT outline_source, planned_words, style FROM planner.plans WHERE job_id = $1",
                    uuid.UUID(job_id))
    assert plan["outline_source"] == "llm" and plan["planned_words"] == 6000 and plan["style"]
    sections = query("SELECT path, brief, handoff_in, handoff_out FROM planner.sections WHERE job_id = $1"
                     " ORDER BY section_index", uuid.UUID(job_id))
    assert len(sections) >= 2
    assert sections[0]["handoff_in"] == "" and sections[-1]["handoff_out"] == ""
    assert all(s["handoff_in"] for s in sections[1:])


def test_each_chunk_leaves_a_new_version_of_the_coherence_state(client, query) -> None:
    job_id = client.submit(4000)
    final = client.wait(job_id)
    # The last chunk's memory may be folded in after job.completed: wait for each chunk's.
    client.audit_until(job_id, lambda log: sum(e["type"] == "chunk.summarized" for e in log) >= final["chunks_total"])
    versions = query("SELECT version, caused_by_chunk, summary, ledger FROM generator.coherence"
                     " WHERE job_id = $1 ORDER BY version", uuid.UUID(job_id))
    assert [v["version"] for v in versions] == list(range(1, final["chunks_total"] + 1))
    assert sorted(v["caused_by_chunk"] for v in versions) == list(range(final["chunks_total"]))
    assert all(v["summary"] and v["ledger"] for v in versions)


def test_each_chunk_prompt_carries_the_summary_and_ledger_written_before_it(client, query) -> None:
    job_id = client.submit(9000)
    assert client.wait(job_id)["status"] == "completed"
    job = uuid.UUID(job_id)
    prompts = {r["chunk_index"]: r["prompt"] for r in query(
        "SELECT chunk_index, prompt FROM generator.llm_calls WHERE job_id = $1 AND purpose = 'write'"
        " AND attempt = 1", job)}
    section = {r["chunk_index"]: r["section_index"] for r in query(
        "SELECT chunk_index, section_index FROM planner.chunks WHERE job_id = $1", job)}
    versions = {r["caused_by_chunk"]: r for r in query(
        "SELECT caused_by_chunk, summary, ledger FROM generator.coherence WHERE job_id = $1", job)}
    # The summary of a chunk is made while the next one is written: a chunk that follows two others
    # of its section starts after the first of them was folded into the stored state.
    followers = [i for i in prompts if i > 1 and section[i] == section[i - 1] == section[i - 2]]
    assert followers, "a 9,000-word job has sections of three chunks or more"
    for i in followers:
        stored = [v for v in versions.values() if v["summary"] in prompts[i]]
        assert stored, f"chunk {i}'s prompt carries no stored summary"
        assert any(line in prompts[i] for line in stored[0]["ledger"].splitlines())


def test_summaries_keep_prompts_flat_as_the_document_grows(client, query) -> None:
    job_id = client.submit(12_000)
    assert client.wait(job_id, timeout=300)["status"] == "completed"
    sizes = [r["input_tokens"] for r in query(
        "SELECT input_tokens FROM generator.llm_calls WHERE job_id = $1 AND purpose = 'write' AND attempt = 1"
        " ORDER BY chunk_index", uuid.UUID(job_id))]
    assert len(sizes) >= 10
    # Bounded by the summary (375 words), the ledger (60 entries), the tail and the template, never
    # by what was written: about 2,000 tokens whatever the document's length.
    assert max(sizes) <= 2500, sizes


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
