"""`rewrite`: a real multi-page source reworked passage by passage, expanded or condensed to the
target: the journey, a whole job through every service. How the planner splits the source (at
paragraph boundaries from the database, nothing lost or reordered, targets summing to the job's)
and that each chunk's prompt carries its passage are tested on the handlers:
tests/handler/test_rewrite_handlers.py."""

from pathlib import Path

import pytest

from tests.reader import check_document

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
    """Every reader's check (tests/reader.py) holds; the rewrite has its source's headings, in order."""
    job_id = _rewrite(client, target, instructions)
    final = client.wait(job_id, timeout=300)
    assert final["status"] == "completed", final
    reads = check_document(client, query, job_id)
    assert reads["md"].body_words == final["words"] >= target
    source_headings = [line.lstrip("#").strip() for line in ESSAY.splitlines() if line.startswith("#")]
    assert [title for _, title in reads["md"].headings] == source_headings
