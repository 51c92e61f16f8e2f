"""The document is never short (SPEC L1-L5): any target, providers that ignore length, truncate,
fail or refuse; a job that cannot get there fails with a reason and can be resumed. These are
journeys, whole jobs through every service; what the writer does with one chunk's replies (tiny
targets, a deterministic provider asked something else) is tested on its handler:
tests/handler/test_writer_replies.py."""

import statistics
import pytest

from contracts.wordcount import count_words
from tests.reader import check_document
from tests.scaffolding import scaffolding_in


def _assert_complete_and_clean(client, query, job_id: str, target: int) -> dict:
    """At its target, and every reader's check (tests/reader.py) on its md, docx and txt."""
    final = client.wait(job_id, timeout=300)
    assert final["status"] == "completed", final
    body = check_document(client, query, job_id)["md"].body
    assert count_words(body) == final["words"] >= target
    assert scaffolding_in(body) == []
    return final


@pytest.mark.parametrize("target", [1, 7, 999, 12_345])
def test_targets_from_one_word_up_complete_at_or_above_target(client, query, target) -> None:
    final = _assert_complete_and_clean(client, query, client.submit(target), target)
    assert final["words"] <= target * 1.05 + 5


def test_a_sixty_thousand_word_job_completes_at_or_above_target(client, query) -> None:
    final = _assert_complete_and_clean(client, query, client.submit(60_000), 60_000)
    assert final["chunks_total"] >= 60_000 // 800


@pytest.mark.parametrize("behaviour", [
    "random_length",
    "truncated:fraction=0.5",
    "empty:probability=0.3",
    "rate_limit:probability=0.3,retry_after=1",
    "refusal:probability=0.3",
    "ignore_formats+random_length",
    "ignore_formats+chatty+random_length+empty:probability=0.1+server_error:probability=0.1",
    "reject_formats+random_length",
    "no_usage+ignore_formats",
])
def test_misbehaving_providers_still_deliver_at_least_the_target(client, query, behaviour) -> None:
    _assert_complete_and_clean(client, query, client.submit(2500, model=f"fake/{behaviour}"), 2500)


def test_median_overshoot_stays_within_five_percent_when_replies_ignore_length(client, query) -> None:
    targets = [400, 1200, 2000, 3100, 4500]
    jobs = [(client.submit(t, model="fake/random_length"), t) for t in targets]
    overshoot = [(_assert_complete_and_clean(client, query, job, t)["words"] - t) / t for job, t in jobs]
    assert statistics.median(overshoot) <= 0.05, overshoot


def test_a_provider_that_never_writes_fails_the_job_with_a_reason_and_resume_advice(client) -> None:
    job_id = client.submit(900, model="fake/empty")
    final = client.wait(job_id, timeout=300)
    assert final["status"] == "failed"
    assert "provider returned an empty reply" in final["error"]
    assert "0 of 900 words written" in final["error"]
    assert f"POST /v1/jobs/{job_id}/resume" in final["error"]


def test_a_failed_job_resumes_from_its_first_incomplete_chunk(stack, client, query) -> None:
    control = stack.fake_llm.control()
    control.set_default({"kind": "empty"})
    try:
        job_id = client.submit(1500)
        assert client.wait(job_id, timeout=300)["status"] == "failed"
    finally:
        control.set_default({"kind": "normal"})
    response = client.http.post(f"/v1/jobs/{job_id}/resume")
    assert response.status_code == 202, response.text
    client.wait_for(job_id, lambda job: job["status"] != "failed")  # the audit log records the resume
    _assert_complete_and_clean(client, query, job_id, 1500)
    types = [e["type"] for e in client.audit(job_id)]
    assert types.index("job.failed") < types.index("job.resumed") < types.index("job.completed")


def test_only_a_failed_or_cancelled_job_can_be_resumed(client) -> None:
    job_id = client.submit(20)
    assert client.wait(job_id)["status"] == "completed"
    response = client.http.post(f"/v1/jobs/{job_id}/resume")
    assert response.status_code == 409
    assert "only a failed or cancelled job can be resumed: this one is completed" in response.json()["detail"]
