"""How the generator's writer handles the replies a provider gives, one `chunk.write` at a time on
a real database (SPEC L1, L4, L6, L7): a tiny chunk ends at most three words past its budget
however long the replies run; after an unusable reply a provider at temperature 0 is asked
something else; rate limits and server errors are retried; a provider that never writes fails the
job with a reason; each chunk's report says what was stored. The fake LLM's misbehaviour is picked
per call by the command's model (`fake/<spec>`), or scripted on the fake's control API."""

from collections import Counter

import pytest

from contracts.messages import JobRequested, WriteChunk
from contracts.wordcount import count_words
from services.generator.handlers import write_chunk
from services.generator.quality import paragraphs
from services.planner.handlers import chunk_processed, plan_job
from tests.handler.effects import Job, outbox
from tests.handler.pipeline import write_every_chunk
from tests.scaffolding import scaffolding_in

TITLE = "Imaginary rivers"
INSTRUCTIONS = "A field guide to imaginary rivers, one river per section."


def whole_text(budget: int, model: str) -> WriteChunk:
    """The planner's one chunk of a tiny target (no outline): the whole text, last of its plan."""
    return WriteChunk(chunk_index=0, section_index=0, section_title=TITLE, brief="The whole text.",
                      budget_words=budget, title=TITLE, instructions=INSTRUCTIONS, position="chunk 1 of 1",
                      model=model, last=True)


def section_chunk(index: int, budget: int, model: str | None = None) -> WriteChunk:
    return WriteChunk(chunk_index=index, section_index=index, section_title=f"River {index + 1}",
                      brief=f"The river numbered {index + 1} in the guide, where it rises and where it ends.",
                      budget_words=budget, title=TITLE, instructions=INSTRUCTIONS,
                      position=f"chunk {index + 1} of 6", model=model)


async def stored_text(owner, job: Job, index: int = 0) -> str:
    return await owner.fetchval("SELECT text FROM generator.chunks WHERE job_id = $1 AND chunk_index = $2",
                                job.job_id, index)


def repeated_paragraphs(text: str) -> list[str]:
    return [p for p, n in Counter(paragraphs(text)).items() if n > 1]


@pytest.mark.parametrize("target", [1, 2, 7, 23, 50])
async def test_tiny_targets_end_at_most_three_words_over_even_when_replies_run_long(generator, owner, target) -> None:
    """Moved from tests/integration/test_length_guarantee.py (one whole job per target): a target
    of at most 50 words is one chunk, so the job's words are that chunk's."""
    ports, job = await generator(), Job()
    await write_chunk(job.envelope(whole_text(target, "fake/ignore_formats+chatty+random_length:min=2,max=4"),
                                   "planner"), ports)
    [processed] = await outbox(owner, "generator", job.job_id, "chunk.processed")
    text = await stored_text(owner, job)
    assert target <= processed.data["output_words"] <= target + 3, text
    assert processed.data["passed"] and count_words(text) == processed.data["output_words"]
    assert repeated_paragraphs(text) == [] and scaffolding_in(text) == []


async def test_after_an_unusable_reply_a_deterministic_provider_is_asked_something_else(generator, owner) -> None:
    """Moved from tests/integration/test_length_guarantee.py. At temperature 0 the same prompt
    brings the same unusable reply: asking it again is futile."""
    ports, job = await generator(), Job()
    for index in range(6):  # the fake echoes half the prompts it is sent, drawn by the prompt alone
        await write_chunk(job.envelope(section_chunk(index, 300, "fake/deterministic+echo:probability=0.5"),
                                       "planner"), ports)
    calls = await owner.fetch("SELECT chunk_index, attempt, kept, error, prompt FROM generator.llm_calls"
                              " WHERE job_id = $1 AND purpose = 'write' ORDER BY chunk_index, attempt", job.job_id)
    retried = [(a, b) for a, b in zip(calls, calls[1:])
               if a["chunk_index"] == b["chunk_index"] and not a["kept"] and a["error"]]
    assert retried, "no write reply was rejected: the test proves nothing"
    assert [a["attempt"] for a, b in retried if a["prompt"] == b["prompt"]] == []
    for index in range(6):
        assert count_words(await stored_text(owner, job, index)) >= 300


async def test_rate_limits_and_server_errors_are_retried(generator, owner, handler_fake_llm) -> None:
    """Moved from tests/integration/test_provider_misbehaviour.py: the fake's next two answers
    are a 429 (retry-after 1 s) and a 500; the writer retries each and the chunk is written."""
    ports, job, control = await generator(), Job(), handler_fake_llm.control()
    control.script({"kind": "rate_limit", "retry_after": 1}, {"kind": "server_error"})
    try:
        await write_chunk(job.envelope(section_chunk(0, 300), "planner"), ports)
    finally:
        control.reset()  # nothing scripted is left for the next test, whatever happened here
        control.close()

    errors = [e.data["attributes"]["error.type"] for e in await outbox(owner, "generator", job.job_id, "llm.call")]
    assert [bool(err and "rate_limited" in err) for err in errors[:2]] == [True, False]
    assert "server_error" in errors[1]
    assert errors[2:] and not any(errors[2:])
    [processed] = await outbox(owner, "generator", job.job_id, "chunk.processed")
    assert processed.data["passed"] and processed.data["output_words"] >= 300
    assert processed.data["attempts"] == len(errors)


async def test_a_provider_that_only_returns_empty_replies_fails_the_job_with_a_reason(
        planner, generator, owner) -> None:
    """Moved from tests/integration/test_provider_misbehaviour.py (the whole journey stays in
    test_length_guarantee.py): the generator's report of a chunk it could not write, handed to the
    planner, fails the job with the provider's error and the words written."""
    planner_ports, generator_ports, job = await planner(), await generator(), Job()
    await plan_job(job.envelope(JobRequested(mode="generate", title=TITLE, instructions=INSTRUCTIONS,
                                             target_words=500, model="fake/empty"), "gateway"), planner_ports)
    [write] = await outbox(owner, "planner", job.job_id, "chunk.write")
    await write_chunk(write, generator_ports)
    [report] = await outbox(owner, "generator", job.job_id, "chunk.processed")
    await chunk_processed(report, planner_ports)

    [failed] = await outbox(owner, "planner", job.job_id, "job.failed")
    assert "empty reply" in failed.data["reason"] and "0 of 500 words" in failed.data["reason"]
    assert failed.data["reason"].endswith(f"resume with POST /v1/jobs/{job.job_id}/resume")


async def test_chunk_processed_events_match_the_chunks_stored(planner, generator, owner) -> None:
    """Moved from tests/integration/test_audit_completeness.py: each chunk of a job's plan, written
    by the generator, is reported with the words stored and the budget planned."""
    planner_ports, generator_ports, job = await planner(chunk_words=300), await generator(), Job()
    await plan_job(job.envelope(JobRequested(mode="generate", title=TITLE, instructions=INSTRUCTIONS,
                                             target_words=2500, model="fake/random_length"), "gateway"), planner_ports)
    await write_every_chunk(owner, job.job_id, planner_ports, generator_ports)

    stored = {r["chunk_index"]: r for r in await owner.fetch(
        "SELECT g.chunk_index, g.words, p.budget_words FROM generator.chunks g JOIN planner.chunks p"
        " USING (job_id, chunk_index) WHERE g.job_id = $1", job.job_id)}
    reported = {e.data["chunk_index"]: e.data for e in await outbox(owner, "generator", job.job_id, "chunk.processed")}
    planned = await owner.fetchval("SELECT count(*) FROM planner.chunks WHERE job_id = $1", job.job_id)
    assert len(stored) == planned >= 8 and set(reported) == set(stored)
    for index, row in stored.items():
        event = reported[index]
        assert (event["output_words"], event["budget_words"]) == (row["words"], row["budget_words"])
        assert event["passed"] == (row["words"] >= row["budget_words"]) and event["input_words"] > 0


@pytest.mark.parametrize("scripted", [
    [{"kind": "loop", "delay": 3}],  # a slow small model stuck in a loop, twice: given up both times
    [{"kind": "loop", "delay": 3}, {"kind": "loop", "delay": 3}],
])
async def test_a_reply_that_goes_round_in_a_loop_is_given_up_while_it_streams(
        generator, owner, handler_fake_llm, scripted) -> None:
    """A reply that loops is rejected as mostly echo or repetition as it would be whole, but
    stopped while it streams: the connection is closed after a few of its events, so the provider
    stops writing it, and the chunk is written by the next calls."""
    ports, job, control = await generator(), Job(), handler_fake_llm.control()
    control.script(*scripted)
    try:
        await write_chunk(job.envelope(section_chunk(0, 300), "planner"), ports)
        sent = [r for r in control.requests() if r["chunk"] == f"{job.job_id}:0"]
    finally:
        control.reset()
        control.close()

    calls = [e.data["attributes"] for e in await outbox(owner, "generator", job.job_id, "llm.call")]
    given_up = calls[:len(scripted)]
    for call, request in zip(given_up, sent):
        assert request["behaviour"]["kind"] == "loop" and request["events_total"] > 100
        assert request["events_sent"] < request["events_total"] / 2, request  # the provider stopped writing it
        assert call["gen_ai.response.finish_reasons"] == "given_up" and call["longform.kept"] is False
        assert call["error.type"] == "reply is mostly echo or repetition"
        assert "went round in a loop" in call["longform.given_up"]
        assert call["gen_ai.usage.output_tokens"] < call["gen_ai.request.max_tokens"] / 2
    assert [c["longform.kept"] for c in calls[len(scripted):]][-1] is True
    assert not any("longform.given_up" in c for c in calls[len(scripted):])
    [processed] = await outbox(owner, "generator", job.job_id, "chunk.processed")
    assert processed.data["passed"] and processed.data["output_words"] >= 300


async def test_a_reply_in_a_loop_is_read_whole_once_its_remnant_would_be_kept(generator, owner) -> None:
    """After the chunk's echo retries are spent, what is left of a mostly-echo reply is kept (the
    prose before the loop): such a reply is read whole, since what comes later could be kept too.
    One that leaves nothing of its own is still given up."""
    ports, job = await generator(), Job()
    await write_chunk(job.envelope(section_chunk(0, 300, "fake/loop:prose=20"), "planner"), ports)
    calls = [e.data["attributes"] for e in await outbox(owner, "generator", job.job_id, "llm.call")]
    reasons = [c["gen_ai.response.finish_reasons"] for c in calls]
    assert reasons[:2] == ["given_up", "given_up"] and "given_up" not in reasons[2:], reasons
    assert [c["longform.kept"] for c in calls[:2]] == [False, False]
    assert calls[2]["longform.kept"] and "mostly echo or repetition 3 times" in calls[2]["longform.fallback"]
    assert calls[2]["longform.output_words"] > 2 * calls[0]["longform.output_words"]  # read to its end

    job = Job()
    await write_chunk(job.envelope(section_chunk(0, 300, "fake/loop"), "planner"), ports)
    calls = [e.data["attributes"] for e in await outbox(owner, "generator", job.job_id, "llm.call")]
    assert len(calls) > 3 and {c["gen_ai.response.finish_reasons"] for c in calls} == {"given_up"}
    assert not any(c["longform.kept"] for c in calls)
