"""Each service SIGKILLed at a random point of a multi-chunk job and started again: the job
completes at its length, every chunk is in the document exactly once, no event id appears twice,
no committed event is lost, and no chunk stored before the kill is sent to the LLM again."""

import random
import secrets

import pytest

TARGET_WORDS = 800  # about eight chunks of up to 100 words, two sections at a time


@pytest.mark.parametrize("service", ["gateway", "planner", "generator", "assembler", "audit"])
def test_a_service_killed_mid_job_loses_nothing_and_repeats_no_llm_call(chaos, user, service) -> None:
    seed = secrets.randbits(32)
    job_id = chaos.submit(user, TARGET_WORDS)
    before = chaos.crash_at_random_point(job_id, service, random.Random(seed))
    chaos.wait_until_ended(job_id)
    outcome = chaos.judge(job_id, [before])
    assert outcome.problems() == [], f"seed {seed}, killed {service} after chunks {sorted(before.chunks_done)}"
    assert outcome.words >= TARGET_WORDS and outcome.chunks_planned >= 6
    if service == "generator" and before.writing:  # the crash and the resume are in the job's log
        redelivered = chaos.redelivered(job_id, "chunk.write")
        assert redelivered and all(r["delivery"] >= 2 for r in redelivered)


def test_a_generator_killed_while_the_provider_ignores_every_format_loses_nothing(chaos, user) -> None:
    """Summaries degrade to prose and the outline to one made in code; a crash still loses and
    repeats nothing, and every chunk is folded into the memory once."""
    seed = secrets.randbits(32)
    job_id = chaos.submit(user, TARGET_WORDS, model="fake/ignore_formats+chatty+latency:seconds=0.3")
    before = chaos.crash_at_random_point(job_id, "generator", random.Random(seed))
    chaos.wait_until_ended(job_id)
    outcome = chaos.judge(job_id, [before])
    assert outcome.problems() == [], f"seed {seed}, killed after chunks {sorted(before.chunks_done)}"
    assert outcome.words >= TARGET_WORDS
    made = chaos.summaries(job_id, outcome.chunks_planned)
    assert sorted(made) == list(range(outcome.chunks_planned))
    # Each chunk's memory is a summary call's prose (its form ignored), or made in code saying why:
    # the plan's last chunk, and every chunk once the model has echoed the full write prompt in two
    # chunks of the process (written to with the lean prompt, it is not asked for summaries). A
    # chatty reply that happens to echo the prompt's SUMMARY:/LEDGER: lines reads as the asked form:
    # "llm" for that chunk.
    for index, (made_by, fallback) in made.items():
        assert (made_by == "prose" and "its prose was used" in fallback) or made_by == "llm" or (
            made_by == "code" and fallback), (index, made_by, fallback)
    assert "the plan's last chunk" in made[outcome.chunks_planned - 1][1]
