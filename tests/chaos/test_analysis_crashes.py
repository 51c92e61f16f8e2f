"""An analysis whose generator is SIGKILLed while the source's passages are being noted, and
started again: the job completes at its length, citing only passages that exist, and no passage is
noted twice: one kept `note` call each, and none for a passage whose notes were stored before the
kill."""

import random
import re
import secrets
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from tests.chaos import verdict

ESSAY = (Path(__file__).resolve().parents[1] / "data" / "source_essay.md").read_text()
TARGET_WORDS = 800
CITATION = re.compile(r"\(§(\d+)\)")


@pytest.fixture(scope="module")
def chaos_env() -> dict[str, str]:
    return {"LONGFORM_PASSAGE_WORDS": "150"}  # some thirty passages: the kill lands while they are noted


def _noted(database_url: str, job_id: str) -> set[int]:
    rows = verdict.read_db(database_url, lambda conn: conn.fetch(
        "SELECT passage FROM generator.passage_notes WHERE job_id = $1", uuid.UUID(job_id)))
    return {r[0] for r in rows}


def _last_call(database_url: str, job_id: str) -> int:
    """The id of the job's last stored LLM call: every note in `_noted` read before it was stored
    with its kept call, so a later id for such a passage is that passage asked again."""
    return verdict.read_db(database_url, lambda conn: conn.fetchval(
        "SELECT coalesce(max(id), 0) FROM generator.llm_calls WHERE job_id = $1", uuid.UUID(job_id)))


def _stored_id(call: dict) -> int:
    return int(call["longform.stored_as"].rsplit("/", 1)[1])


def _note_calls(database_url: str, job_id: str) -> list[dict]:
    return [e["attributes"] for e in verdict.events_of(database_url, job_id, "llm.call")
            if e["attributes"].get("longform.purpose") == "note"]


def test_a_generator_killed_while_passages_are_noted_notes_none_twice(chaos, user) -> None:
    rng = random.Random(seed := secrets.randbits(32))
    response = user.post("/v1/jobs", json={
        "mode": "analyze", "title": "On canals", "instructions": "A critical analysis of the essay's argument.",
        "target_words": TARGET_WORDS, "source_text": ESSAY, "model": "fake/latency:seconds=0.2"})
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    wanted = rng.randint(1, 20)
    deadline = time.monotonic() + 120
    while len(before := _noted(chaos.database_url, job_id)) < wanted and time.monotonic() < deadline:
        time.sleep(0.05)
    mark = _last_call(chaos.database_url, job_id)
    chaos.supervisor.crash("generator")

    assert chaos.wait_until_ended(job_id, timeout=240) == "completed", f"seed {seed}"
    calls = _note_calls(chaos.database_url, job_id)
    kept = Counter(c["longform.passage"] for c in calls if c["longform.kept"])
    total = verdict.read_db(chaos.database_url, lambda conn: conn.fetchval(
        "SELECT passages FROM planner.plans WHERE job_id = $1", uuid.UUID(job_id)))
    assert sorted(kept) == list(range(1, total + 1)) and set(kept.values()) == {1}, f"seed {seed}: {kept}"
    asked_again = {c["longform.passage"] for c in calls if _stored_id(c) > mark} & before
    assert not asked_again, f"seed {seed}: noted before the kill, asked again: {asked_again}"
    document = user.get(f"/v1/jobs/{job_id}/document").text
    assert {int(n) for n in CITATION.findall(document)} <= set(range(1, total + 1))
    assert user.get(f"/v1/jobs/{job_id}").json()["words"] >= TARGET_WORDS
