"""A real small open model (SPEC L6): Gemma 3 270M ignores the outline's and the summary's
formats, chats, echoes and writes short, and every job still completes at or above its target,
with no chunk failed, no scaffolding of the prompt in the document, and its tokens counted."""

import functools
from collections import Counter
from pathlib import Path

import pytest

from contracts.wordcount import count_words
from services.generator.quality import paragraphs
from tests.integration.dbread import fetch
from tests.reader import check_document
from tests.scaffolding import scaffolding_in

pytestmark = pytest.mark.timeout(2400)

ESSAY = (Path(__file__).resolve().parents[1] / "data" / "source_essay.md").read_text()
JOBS = {
    "newsletter": {"mode": "generate", "title": "Spring at the allotments", "target_words": 300,
                   "instructions": "A newsletter for the members of a village allotment society: the spring "
                                   "plant sale, the new water tanks, and thanks to the volunteers."},
    "guide": {"mode": "generate", "title": "Keeping chickens", "target_words": 1500,
              "instructions": "A practical guide for beginners to keeping a few chickens in a back garden."},
    "story": {"mode": "generate", "title": "The keeper", "target_words": 4000,
              "instructions": "A short story about a lighthouse keeper who finds a message in a bottle."},
    "condensed": {"mode": "rewrite", "title": "Canals, in brief", "target_words": 400,
                  "instructions": "Condense this essay into a short article for a newsletter.",
                  "source_text": "\n\n".join(ESSAY.split("\n\n")[:19])},
}


@pytest.fixture(scope="module")
def client(real_stack):
    api = real_stack.client()
    yield api
    api.close()


@pytest.fixture(scope="module")
def ids(client) -> dict[str, str]:
    """Every job submitted at once."""
    submitted = {}
    for name, body in JOBS.items():
        response = client.http.post("/v1/jobs", json=body)
        assert response.status_code == 202, response.text
        submitted[name] = response.json()["id"]
    return submitted


@pytest.fixture(scope="module")
def finished(client, ids) -> dict[str, tuple[dict, str, list[dict]]]:
    """Every job followed to its end: its state, document body and log."""
    results = {name: client.wait(job_id, timeout=1500) for name, job_id in ids.items()}
    return {name: (results[name], client.body(ids[name]) if results[name]["status"] == "completed" else "",
                   client.audit(ids[name])) for name in ids}


def test_the_source_for_the_rewrite_is_about_fifteen_hundred_words() -> None:
    assert 1300 <= count_words(JOBS["condensed"]["source_text"]) <= 1700


@pytest.mark.parametrize("name", list(JOBS))
def test_each_job_completes_at_or_above_its_target_with_no_chunk_failed(finished, name) -> None:
    state, document, log = finished[name]
    assert state["status"] == "completed", state
    assert count_words(document) == state["words"] >= JOBS[name]["target_words"]
    failed = [e["data"] for e in log if e["type"] == "chunk.processed" and e["data"]["output_words"] == 0]
    assert failed == [] and not [e for e in log if e["type"] == "job.failed"]


@pytest.mark.parametrize("name", list(JOBS))
def test_the_document_holds_no_prompt_scaffolding_and_no_repeated_paragraph(finished, name) -> None:
    _, document, _ = finished[name]
    assert document and scaffolding_in(document) == []
    assert [p for p, n in Counter(paragraphs(document)).items() if n > 1] == []


@pytest.mark.parametrize("name", list(JOBS))
def test_each_document_passes_a_readers_checks(real_stack, client, ids, finished, name) -> None:
    """Headings in plan order in md, docx and txt, one title per section, no paragraph twice, the
    same body words in every format. Not each section at its budget: on Gemma a section can end
    short (1,755 of 2,000 words, seen once) when its chunks give up after their last retry; the
    document still reaches its target through extension sections. Known, not yet mended (issue 17's
    closing note); the fake's journeys hold every section to its budget."""
    assert finished[name][0]["status"] == "completed"
    check_document(client, functools.partial(fetch, real_stack.config.database_url), ids[name],
                   section_budgets=False)


def test_tokens_are_counted_for_every_call(finished) -> None:
    for state, _, log in finished.values():
        calls = [e["data"]["attributes"] for e in log if e["type"] == "llm.call" and e["data"]["attributes"]
                 ["gen_ai.response.finish_reasons"] is not None]
        assert calls and all(c["gen_ai.usage.input_tokens"] and c["gen_ai.usage.output_tokens"] is not None
                             for c in calls)
        assert state["tokens_in"] > 0 and state["tokens_out"] > 0


def test_every_unusable_reply_degraded_to_a_logged_fallback(finished) -> None:
    """Outlines a weak model cannot give become outlines made in code; its summaries are prose or
    made in code: each says so in the log, and none held up the job."""
    for name, (_, _, log) in finished.items():
        (planned,) = [e["data"] for e in log if e["type"] == "job.planned"]
        assert planned["outline_source"] in ("llm", "code", "single", "source")
        assert planned["outline_source"] != "code" or planned["fallback"]
        made = [e["data"] for e in log if e["type"] == "chunk.summarized"]
        assert all(m["made_by"] in ("llm", "inline") or m["fallback"] for m in made), name
