"""`analyze`: a report about a real multi-page source, through every service: the passages are
noted (the job says how many of how many while it is `noting`), the report reaches its target and
cites only passages that exist, with a cooperative provider and with one that ignores formats,
chats and now and then answers nothing. How the planner cuts and digests and how the generator
notes are tested on the handlers: tests/handler/test_analyze_handlers.py."""

import re
from pathlib import Path

import pytest

from contracts.wordcount import count_words
from tests.reader import check_document

ESSAY = (Path(__file__).resolve().parents[1] / "data" / "source_essay.md").read_text()
CITATION = re.compile(r"\(§(\d+)\)")


def _analyze(client, target: int, **fields) -> str:
    response = client.http.post("/v1/jobs", json={
        "mode": "analyze", "title": "On canals", "instructions": "A critical analysis of the essay's argument.",
        "target_words": target, "source_text": ESSAY} | fields)
    assert response.status_code == 202, response.text
    return response.json()["id"]


@pytest.mark.parametrize("model", [None, "fake/ignore_formats+chatty+empty:probability=0.3"])
def test_an_analysis_reaches_its_target_citing_only_passages_that_exist(client, query, model) -> None:
    """And passes every reader's check (tests/reader.py): its headings are its plan's, in md, docx
    and txt alike, each section at its budget, no paragraph twice."""
    job_id = _analyze(client, 2500, **({"model": model} if model else {}))
    final = client.wait(job_id, timeout=300)
    assert final["status"] == "completed", final
    assert final["passages_total"] >= 4 and final["passages_noted"] == final["passages_total"]
    reads = check_document(client, query, job_id)
    document = reads["md"].body
    assert count_words(document) == final["words"] >= 2500 and reads["md"].headings
    cited = {int(n) for n in CITATION.findall(document)}
    assert cited and cited <= set(range(1, final["passages_total"] + 1))
    noted = [e["data"]["passage"] for e in client.audit(job_id) if e["type"] == "passage.noted"]
    assert sorted(noted) == list(range(1, final["passages_total"] + 1))  # each passage noted once


def test_an_analysis_without_a_source_is_refused_naming_the_field(client) -> None:
    response = client.http.post("/v1/jobs", json={
        "mode": "analyze", "title": "Nothing", "instructions": "A study guide.", "target_words": 500})
    assert response.status_code == 422
    assert "mode analyze needs a source" in response.text
