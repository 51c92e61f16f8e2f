"""The plan while the job runs (issue 17, part 2): GET /v1/jobs/{id}/plan gives the tree of
sections with what is written of each, GET /v1/jobs/{id}/sections/{index} what one section has
so far; both only to the job's owner, through the real gateway, planner and generator."""

import uuid

import pytest

from contracts.outline import walk
from contracts.wordcount import count_words
from tests.waiting import until


@pytest.fixture
def stranger(stack):
    api = stack.client()
    yield api
    api.close()


def _plan(client, job_id: str) -> dict:
    answer = client.http.get(f"/v1/jobs/{job_id}/plan")
    assert answer.status_code == 200, answer.text
    return answer.json()


def _leaves(plan: dict) -> list[dict]:
    return [node for node in walk(plan["sections"]) if "index" in node]


def test_a_completed_jobs_plan_shows_every_section_written(client) -> None:
    job_id = client.submit(1_500)
    job = client.wait(job_id)
    assert job["status"] == "completed"
    plan = _plan(client, job_id)
    assert (plan["job_id"], plan["state"], plan["mode"], plan["target_words"]) == (job_id, "completed", "generate",
                                                                                   1_500)
    assert plan["planned_words"] >= 1_500 and plan["outline_source"]
    leaves = _leaves(plan)
    assert [leaf["index"] for leaf in leaves] == list(range(len(leaves))) and leaves
    assert all(n["status"] == "done" and n["chunks_done"] == n["chunks"] >= 1 for n in walk(plan["sections"]))
    assert sum(leaf["budget_words"] for leaf in leaves) == plan["planned_words"]
    assert sum(leaf["words"] for leaf in leaves) == job["words"]
    for leaf in leaves:
        assert leaf["title"] and leaf["level"] >= 1 and leaf["brief"] and leaf["title_source"]


def test_a_sections_text_is_its_chunks_so_far_in_order(client) -> None:
    job_id = client.submit(1_500)
    assert client.wait(job_id)["status"] == "completed"
    leaves = _leaves(_plan(client, job_id))
    texts = []
    for leaf in leaves:
        answer = client.http.get(f"/v1/jobs/{job_id}/sections/{leaf['index']}")
        assert answer.status_code == 200, answer.text
        section = answer.json()
        assert (section["index"], section["status"], section["chunks_done"]) == (leaf["index"], "done", leaf["chunks"])
        assert count_words(section["text"]) == leaf["words"] == section["words"]
        texts.append(section["text"])
    assert len(set(texts)) == len(texts)  # each section its own text
    body = client.document(job_id)
    assert all(text.split("\n\n")[0][:200] in body for text in texts)


def test_while_the_job_runs_the_plan_shows_sections_pending_and_written(client) -> None:
    job_id = client.submit(20_000, model="fake/latency:seconds=0.3")

    def done_and_pending():
        plan = _plan(client, job_id)
        statuses = {leaf["status"] for leaf in _leaves(plan)}
        return plan if plan["state"] == "writing" and {"done", "pending"} <= statuses else None

    seen = until(done_and_pending, "a section written while others wait", timeout=180, every=0.3)
    pending = next(leaf for leaf in _leaves(seen) if leaf["status"] == "pending")
    assert pending["words"] == pending["chunks_done"] == 0
    assert client.http.get(f"/v1/jobs/{job_id}/sections/{pending['index']}").json()["text"] == ""
    done = next(leaf for leaf in _leaves(seen) if leaf["status"] == "done")
    assert done["words"] >= done["budget_words"] > 0
    assert client.http.post(f"/v1/jobs/{job_id}/cancel").status_code == 202


def test_before_the_plan_is_made_it_is_empty_with_no_state(client) -> None:
    # The outline waits on the LLM's slow reply: the plan cannot be stored before it comes.
    job_id = client.submit(5_000, model="fake/latency:seconds=20")
    plan = _plan(client, job_id)
    assert (plan["state"], plan["sections"], plan["target_words"]) == (None, [], 5_000)
    assert client.http.delete(f"/v1/jobs/{job_id}").status_code == 202


def test_another_users_plan_and_sections_are_not_found(client, stranger) -> None:
    job_id = client.submit(300)
    assert client.wait(job_id)["status"] == "completed"
    for path in ("/plan", "/sections/0"):
        theirs = stranger.http.get(f"/v1/jobs/{job_id}{path}")
        unknown = stranger.http.get(f"/v1/jobs/{uuid.uuid4()}{path}")
        assert theirs.status_code == unknown.status_code == 404
        assert theirs.json() == unknown.json() == {"detail": "job not found"}
        assert client.http.get(f"/v1/jobs/{job_id}{path}").status_code == 200


def test_an_unknown_section_is_not_found_and_says_which(client) -> None:
    job_id = client.submit(300)
    assert client.wait(job_id)["status"] == "completed"
    answer = client.http.get(f"/v1/jobs/{job_id}/sections/999")
    assert answer.status_code == 404 and "no section 999" in answer.json()["detail"]
    assert client.http.get(f"/v1/jobs/{job_id}/sections/x").status_code == 422
