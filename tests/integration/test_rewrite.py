"""`rewrite`: a real multi-page source reworked passage by passage, expanded or condensed to the
target; the source is split at paragraph boundaries from the database, nothing lost or reordered."""

import uuid
from collections import Counter
from pathlib import Path

import pytest

from contracts.wordcount import count_words
from services.generator.quality import paragraphs

ESSAY = (Path(__file__).resolve().parents[1] / "data" / "source_essay.md").read_text()


def _rewrite(client, target: int, instructions: str) -> str:
    response = client.http.post("/v1/jobs", json={
        "mode": "rewrite", "title": "Canals", "instructions": instructions, "target_words": target,
        "source_text": ESSAY})
    assert response.status_code == 202, response.text
    return response.json()["id"]


@pytest.mark.parametrize(("target", "instructions"), [
    (9000, "Expand this essay to more than twice its length, with more history and examples."),
    (1500, "Condense this essay to a brief overview."),
])
def test_a_source_is_reworked_to_at_least_the_target(client, query, target, instructions) -> None:
    job_id = _rewrite(client, target, instructions)
    final = client.wait(job_id, timeout=300)
    assert final["status"] == "completed", final
    document = client.document(job_id)
    assert count_words(document) == final["words"] >= target
    assert [p for p, n in Counter(paragraphs(document)).items() if n > 1] == []
    passages = query("SELECT source_text, budget_words FROM planner.chunks WHERE job_id = $1 AND source_text"
                     " IS NOT NULL ORDER BY chunk_index", uuid.UUID(job_id))
    assert " ".join(p["source_text"] for p in passages).split() == ESSAY.split()  # all of it, in order
    assert sum(p["budget_words"] for p in passages) == target


def test_each_chunk_prompt_carries_its_passage_of_the_source(client, query) -> None:
    job_id = _rewrite(client, 3000, "Rewrite this essay for schoolchildren.")
    assert client.wait(job_id, timeout=300)["status"] == "completed"
    rows = query("SELECT c.source_text, l.prompt FROM planner.chunks c JOIN generator.llm_calls l"
                 " ON l.job_id = c.job_id AND l.chunk_index = c.chunk_index AND l.purpose = 'write' AND l.attempt = 1"
                 " WHERE c.job_id = $1 AND c.source_text IS NOT NULL", uuid.UUID(job_id))
    assert len(rows) >= 3
    assert all(r["source_text"] in r["prompt"] for r in rows)
