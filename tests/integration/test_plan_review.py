"""Review the outline before writing (issue 17, part 3): a `review_plan` job stops planned in
`awaiting_review`; its owner edits the tree (PUT /v1/jobs/{id}/plan: the planner rechunks it and
logs what changed) and approves it (POST .../approve), and it is written to its target. Every
refusal is a clear 4xx that changes nothing; a job in review is never pruned."""

import copy
import uuid

import pytest

from contracts.outline import walk
from contracts.wordcount import count_words
from tests.integration.dbread import fetch

TARGET = 1_500


@pytest.fixture
def stranger(stack):
    api = stack.client()
    yield api
    api.close()


def _in_review(client, target: int = TARGET) -> str:
    job_id = client.submit(target, review_plan=True)
    assert client.wait_for(job_id, lambda s: s["status"] in ("awaiting_review", "completed", "failed"))[
        "status"] == "awaiting_review"
    return job_id


def _plan(client, job_id: str) -> dict:
    answer = client.http.get(f"/v1/jobs/{job_id}/plan")
    assert answer.status_code == 200, answer.text
    return answer.json()


def _leaves(plan: dict) -> list[dict]:
    return [n for n in walk(plan["sections"]) if "index" in n]


def _types(client, job_id: str) -> list[str]:
    return [e["type"] for e in client.audit(job_id)]


def test_a_job_asking_for_review_waits_planned_and_writes_nothing(client) -> None:
    job_id = _in_review(client)
    plan = _plan(client, job_id)
    assert plan["state"] == "awaiting_review" and plan["planned_words"] >= TARGET
    assert all(leaf["status"] == "pending" and leaf["chunks"] >= 1 for leaf in _leaves(plan))
    log = client.audit_until(job_id, lambda log: "job.planned" in [e["type"] for e in log])
    types = [e["type"] for e in log]
    assert types.index("job.plan_proposed") < types.index("job.planned") and "chunk.write" not in types
    job = client.job(job_id)
    assert job["chunks_total"] == sum(leaf["chunks"] for leaf in _leaves(plan)) and job["started_at"] is None


def test_the_owner_edits_the_outline_then_approves_and_the_edit_is_written(client) -> None:
    job_id = _in_review(client, 6_000)
    leaves = _leaves(_plan(client, job_id))
    assert len(leaves) >= 3
    first, second, removed = leaves[0], leaves[1], leaves[-1]
    added = removed["budget_words"]  # what is removed goes to the section added: the sum stays at the target
    edited = [
        {"index": second["index"], "title": second["title"], "brief": second["brief"],
         "budget_words": second["budget_words"]},
        {"title": "The Delta Towns", "brief": "The towns at the river's mouth.", "budget_words": added},
        {"title": "Part Two", "sections": [
            {"index": first["index"], "title": "Springs and Sources", "brief": first["brief"],
             "budget_words": first["budget_words"] + 50},
        ] + [{"index": leaf["index"], "title": leaf["title"], "brief": leaf["brief"],
              "budget_words": leaf["budget_words"]} for leaf in leaves[2:-1]]},
    ]
    answer = client.http.put(f"/v1/jobs/{job_id}/plan", json={"sections": edited})
    assert answer.status_code == 202, answer.text
    log = client.audit_until(job_id, lambda log: any(e["type"] == "job.plan_edited" for e in log))
    edits = next(e for e in log if e["type"] == "job.plan_edited")["data"]["edits"]
    assert any(line.startswith(f"removed section {removed['index'] + 1}") for line in edits), edits
    assert f"added “The Delta Towns” at position 2 ({added:,} words)" in edits, edits
    assert any(line.startswith(f"renamed section {first['index'] + 1}") and "Part Two › Springs and Sources" in line
               for line in edits), edits
    assert any(line.startswith(f"budget of section {first['index'] + 1}") for line in edits), edits
    assert any(line.startswith(f"moved section {second['index'] + 1} “") and line.endswith("to position 1")
               for line in edits), edits
    assert not any(line.startswith(f"renamed section {second['index'] + 1} ") for line in edits), edits

    plan = _plan(client, job_id)
    shown = [(n["title"], n["level"]) for n in walk(plan["sections"])]
    assert shown[:4] == [(second["title"], 1), ("The Delta Towns", 1), ("Part Two", 1), ("Springs and Sources", 2)]
    assert [leaf["index"] for leaf in _leaves(plan)] == list(range(len(leaves) - 1 + 1))
    assert _leaves(plan)[1]["budget_words"] == added and _leaves(plan)[1]["chunks"] == -(-added // 800)
    assert plan["state"] == "awaiting_review"

    assert client.http.post(f"/v1/jobs/{job_id}/approve").status_code == 202
    done = client.wait(job_id)
    assert done["status"] == "completed" and done["words"] >= 6_000 and done["started_at"]
    types = _types(client, job_id)
    assert types.index("job.approved") < types.index("chunk.write")
    written = client.http.get(f"/v1/jobs/{job_id}/sections/1").json()
    assert written["titles"] == ["The Delta Towns"] and count_words(written["text"]) >= added


def test_refused_edits_say_which_section_and_change_nothing(client) -> None:
    job_id = _in_review(client, 4_000)
    before = _plan(client, job_id)
    leaves = _leaves(before)
    tree = [{"index": n["index"], "title": n["title"], "brief": n["brief"], "budget_words": n["budget_words"]}
            for n in leaves]

    def refused(body, status: int = 422, **kwargs) -> str:
        answer = client.http.put(f"/v1/jobs/{job_id}/plan", json=body, **kwargs) if body is not None else \
            client.http.put(f"/v1/jobs/{job_id}/plan", **kwargs)
        assert answer.status_code == status, answer.text
        return str(answer.json()["detail"])

    short = copy.deepcopy(tree)
    short[0]["budget_words"] = 1
    assert "short of the target" in refused({"sections": short})
    zero = copy.deepcopy(tree)
    zero[1]["budget_words"] = 0
    assert f"section 2 “{tree[1]['title']}”: its budget must be at least 1 word" in refused({"sections": zero})
    untitled = copy.deepcopy(tree)
    untitled[0]["title"] = "  "
    assert "section 1 has an empty title" in refused({"sections": untitled})
    part = [{"title": "", "sections": tree}]
    assert "part 1 has an empty title" in refused({"sections": part})
    assert "budget_words" in refused({"sections": [dict(tree[0], budget_words="many")] + tree[1:]})
    assert refused(None, content=b"{not json", headers={"Content-Type": "application/json"})
    assert refused({"sections": []})
    twice = copy.deepcopy(tree) + [dict(tree[0])]
    assert "given twice" in refused({"sections": twice})
    assert _plan(client, job_id) == before
    assert "job.plan_edit_requested" not in _types(client, job_id)


def test_edit_and_approve_only_in_review_and_only_by_the_owner(client, stranger) -> None:
    job_id = client.submit(300)
    assert client.wait(job_id)["status"] == "completed"
    tree = [{"index": n["index"], "title": n["title"], "brief": n["brief"], "budget_words": n["budget_words"]}
            for n in _leaves(_plan(client, job_id))]
    for method, path, body in (("PUT", "/plan", {"sections": tree}), ("POST", "/approve", None)):
        answer = client.http.request(method, f"/v1/jobs/{job_id}{path}", json=body)
        assert answer.status_code == 409 and "the job is completed" in answer.json()["detail"], answer.text
        command = "job.plan_edit_requested" if path == "/plan" else "job.approve_requested"
        log = client.audit_until(job_id, lambda log, c=command: any(
            e["type"] == "job.command_refused" and e["data"]["command"] == c for e in log))
        assert command not in [e["type"] for e in log]
        theirs = stranger.http.request(method, f"/v1/jobs/{job_id}{path}", json=body)
        unknown = stranger.http.request(method, f"/v1/jobs/{uuid.uuid4()}{path}", json=body)
        assert theirs.status_code == unknown.status_code == 404 and theirs.json() == {"detail": "job not found"}
    assert client.job(job_id)["status"] == "completed"


def test_a_job_in_review_is_cancelled_resumed_and_never_due_for_retention(client, stack) -> None:
    job_id = _in_review(client, 400)

    def due() -> list:
        return fetch(stack.config.database_url, "SELECT job_id FROM audit.jobs_due_for_retention_v1('0', '0', $1)",
                     uuid.UUID(job_id))

    assert due() == []  # not even with windows of zero
    assert client.http.post(f"/v1/jobs/{job_id}/cancel").status_code == 202
    assert client.wait(job_id)["status"] == "cancelled"
    assert client.http.post(f"/v1/jobs/{job_id}/resume").status_code == 202  # writes the plan as it stands
    assert client.wait_for(job_id, lambda s: s["status"] in ("completed", "failed"))["status"] == "completed"
    assert len(due()) == 1  # the same windows find the job once it is completed
