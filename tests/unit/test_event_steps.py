"""Steps (contracts/steps.py): what a handled message's work is called, how an envelope takes the
step bound for it, and a hash chain that holds with and without steps in its lines."""

import asyncio
import uuid
from datetime import datetime, timezone

from contracts.auditlog import ChainCheck, canonical, event_line, link, ZERO_HASH
from contracts.envelope import Envelope
from contracts.messages import ChunkProcessed, JobCompleted
from contracts.steps import bind_step, current_step, step_of
from services.gateway.recorded import request_step


def _processed() -> ChunkProcessed:
    return ChunkProcessed(chunk_index=3, budget_words=10, output_words=10, passed=True, attempts=1)


def test_a_message_names_the_step_of_the_work_it_asks_for() -> None:
    assert step_of("chunk.write", {"chunk_index": 12}) == "chunk:12"
    assert step_of("chunk.summarize", {"chunk_index": 12}) == "summary:12"
    assert step_of("passage.note", {"passage": 5}) == "passage:5"
    assert step_of("job.requested", {}, "request") == "plan"
    assert step_of("document.assemble", {}) == "assemble"
    assert step_of("job.something_new", {}, "chunk:2") == "chunk:2"  # else the step that sent it


def test_an_envelope_takes_the_step_bound_for_its_work_unless_given_one() -> None:
    async def in_a_task() -> tuple:
        bind_step("chunk:3")
        bound = Envelope.wrap(_processed(), service="generator", job_id=uuid.uuid4(), user_id=None)
        given = Envelope.wrap(JobCompleted(words=1, target_words=1), service="assembler", job_id=None,
                              user_id=None, step="assemble")
        return bound.step, given.step

    assert asyncio.run(in_a_task()) == ("chunk:3", "assemble")
    assert current_step() is None  # a task's binding stays in its task
    assert Envelope.wrap(_processed(), service="generator", job_id=None, user_id=None).step is None


def _row(seq: int, step: str | None) -> dict:
    return {"seq": seq, "event_id": uuid.uuid4(), "type": "db.query", "occurred_at": datetime.now(timezone.utc),
            "service": "planner", "job_id": None, "user_id": uuid.uuid4(), "data": {"statements": []}, "step": step}


def _chained(rows: list[dict]) -> list[dict]:
    previous, lines = ZERO_HASH, []
    for row in rows:
        line = event_line(row)
        previous = link(previous, line)
        lines.append({**line, "hash": previous.hex()})
    return lines


def test_a_line_has_a_step_only_when_its_event_has_one_and_the_chain_covers_it() -> None:
    old, new = _row(1, None), _row(2, "plan")
    assert "step" not in event_line(old)  # an event written before steps hashes as it did
    legacy = {k: v for k, v in old.items() if k != "step"}  # a row read from a table without the column
    assert canonical(event_line(old)) == canonical(event_line(legacy))
    lines = _chained([old, new])
    check = ChainCheck()
    check.feed(lines)
    assert check.verdict(None, None).intact
    tampered = ChainCheck()
    tampered.feed([lines[0], {**lines[1], "step": "chunk:1"}])
    assert tampered.verdict(None, None).first_bad_seq == 2


def test_a_gateway_request_is_the_step_its_command_is() -> None:
    job = "/v1/jobs/5b1e0d6e-2f0b-4f6a-9a53-0c1d2e3f4a5b"
    assert [request_step(m, p) for m, p in [
        ("POST", "/v1/jobs"), ("POST", f"{job}/cancel"), ("POST", f"{job}/resume"), ("DELETE", job),
        ("PUT", f"{job}/plan"), ("POST", f"{job}/approve"), ("GET", job), ("GET", f"{job}/plan"),
        ("POST", "/v1/users"), ("DELETE", "/v1/tokens/7"),
    ]] == ["request", "cancel", "resume", "delete", "review", "review", "view", "view", "account", "account"]
