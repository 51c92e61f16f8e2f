"""The estimate of a dry run (contracts/estimate.py) counts the calls the planner's own rules make,
and the gateway prices each purpose by the model that would answer it (services/gateway/costs.py)."""

import asyncio
import math

import pytest

from contracts.budgets import passage_words
from contracts.estimate import Assumptions, PlanShape, Request, estimate
from services.gateway.config import GatewaySettings
from services.generator.config import GeneratorSettings
from services.gateway.costs import dry_run
from services.gateway.prices import parse_prices
from services.gateway.schemas import NewJob
from services.planner.plan import chunks_of, fallback_sections
from services.planner.source import passages

SHAPE = PlanShape()
SPLIT = PlanShape(request_share=0.75)  # LONGFORM_REQUEST_SHARE=0.75: a chunk's first call asks 3/4 of it


def _by_purpose(job: Request, shape: PlanShape = SHAPE, **assumed) -> dict:
    return {c.purpose: c for c in estimate(job, shape, Assumptions(**assumed))}


@pytest.mark.parametrize("target", [801, 2_401, 10_000, 90_000, 500_000])
def test_a_generate_job_writes_as_many_chunks_as_the_planner_cuts_its_outline_into(target):
    section_words = SHAPE.chunk_words * SHAPE.chunks_per_section
    planned = chunks_of(fallback_sections(target, section_words), SHAPE.chunk_words)
    calls = _by_purpose(Request("generate", target, 10))
    # One call a chunk asks its whole budget; its memory comes with its reply, so no chunk is
    # summarised by a call of its own.
    assert calls["write"].calls == len(planned)
    assert "summarize" not in calls
    assert calls["outline"].calls == 1
    # Asked in two (the first call three quarters), a chunk from 240 words takes a second call.
    split = _by_purpose(Request("generate", target, 10), SPLIT)
    assert split["write"].calls == sum(1 if c.budget_words < 4 * SPLIT.min_request_words else 2 for c in planned)


def test_each_chunks_output_is_its_budget_and_the_memory_tail_of_every_chunk_but_the_last():
    calls = _by_purpose(Request("generate", 2_400, 10), tokens_per_word=1.0)
    assert calls["write"].calls == 3  # three chunks of 800
    assert calls["write"].output_tokens == 2_400 + 2 * Assumptions().memory_tail_words
    split = _by_purpose(Request("generate", 2_400, 10), SPLIT, tokens_per_word=1.0)
    assert split["write"].calls == 6  # 600 words asked, then 200
    assert split["write"].output_tokens == 2_400 + 2 * Assumptions().memory_tail_words


@pytest.mark.parametrize("target", [1, 50, 51, 800])
def test_a_target_of_one_chunk_is_one_call_with_no_outline_and_no_summary(target):
    calls = _by_purpose(Request("generate", target, 5))
    assert list(calls) == ["write"] and calls["write"].calls == 1
    assert "outline" in _by_purpose(Request("generate", SHAPE.chunk_words + 1, 5))


async def _source_passages(text: str, size: int) -> int:
    async def slices():
        yield text
    return len([p async for p in passages(slices(), size)])


@pytest.mark.parametrize("source_words, target", [(4_000, 5_000), (4_000, 1_000), (12_000, 12_000), (300, 20)])
def test_a_rewrite_writes_a_chunk_per_passage_of_its_source(source_words, target):
    paragraph = " ".join(["word"] * 10) + "."
    source = "\n\n".join([paragraph] * (source_words // 10))
    size = passage_words(source_words, target, SHAPE.chunk_words)
    calls = _by_purpose(Request("rewrite", target, 10, source_words))
    chunks = asyncio.run(_source_passages(source, size))
    assert chunks <= calls["write"].calls <= 2 * chunks  # a chunk's first call and, from 240 words, a second
    assert "outline" not in calls


def test_an_analysis_notes_every_passage_then_outlines_its_report_once():
    calls = _by_purpose(Request("analyze", 2_000, 10, 4_182))
    assert calls["note"].calls == math.ceil(4_182 / SHAPE.passage_words)
    assert calls["outline"].calls == 1
    assert calls["write"].calls == 3  # three chunks


def test_output_tokens_are_the_target_in_tokens_and_every_count_follows_tokens_per_word():
    job = Request("generate", 10_000, 12)
    plain, dense = _by_purpose(job, tokens_per_word=1.0), _by_purpose(job, tokens_per_word=2.0)
    chunks = plain["write"].calls
    assert plain["write"].output_tokens == 10_000 + (chunks - 1) * Assumptions().memory_tail_words
    for purpose in plain:
        assert dense[purpose].input_tokens == pytest.approx(2 * plain[purpose].input_tokens, abs=1)
        assert dense[purpose].output_tokens == pytest.approx(2 * plain[purpose].output_tokens, abs=1)


def test_longer_instructions_cost_input_tokens_on_every_call():
    short, long = _by_purpose(Request("generate", 5_000, 10)), _by_purpose(Request("generate", 5_000, 1_010))
    extra = (long["write"].input_tokens - short["write"].input_tokens) / Assumptions().tokens_per_word
    assert extra == pytest.approx(1_000 * long["write"].calls, rel=0.01)


def _dry_run(job: dict, **settings):
    prices = parse_prices({"big": {"input": 10, "output": 30}, "small-*": {"input": 0.1, "output": 0.4}})
    return dry_run(NewJob(**job), None, GatewaySettings(database_url="postgresql://unused/unused", **settings), prices)


def test_each_purpose_is_priced_by_the_model_that_would_answer_it():
    job = {"mode": "generate", "instructions": "An essay about rivers.", "target_words": 5_000}
    estimate = _dry_run(job, llm_model="big", llm_summary_model="small-1")
    models = {row.purpose: row.model for row in estimate.by_purpose}
    assert models == {"outline": "big", "write": "big"}  # the summaries come with the chunks
    assert estimate.cost_usd == pytest.approx(sum(row.cost_usd for row in estimate.by_purpose))
    asked = {row.purpose: row.model for row in _dry_run(job | {"model": "small-2"}, llm_model="big").by_purpose}
    assert asked == {"outline": "small-2", "write": "small-2"}  # the job's model


def test_an_estimate_with_a_model_the_table_does_not_price_has_an_unknown_cost():
    job = {"mode": "generate", "instructions": "An essay about rivers.", "target_words": 5_000}
    estimate = _dry_run(job, llm_model="big", llm_writer_model="mystery")
    assert estimate.cost_usd is None
    assert {row.purpose: row.cost_usd is None for row in estimate.by_purpose} == {"outline": False, "write": True}


def test_the_dry_run_asks_as_the_generators_are_told_to():
    """LONGFORM_REQUEST_SHARE is one setting the generator writes by and the gateway estimates by."""
    job = {"mode": "generate", "instructions": "An essay about rivers.", "target_words": 5_000}
    calls = {share: {row.purpose: row.calls for row in _dry_run(job, request_share=share).by_purpose}["write"]
             for share in (1.0, 0.75)}
    assert calls == {1.0: 9, 0.75: 18}  # nine chunks of about 556 words: one call each, or two
    assert GeneratorSettings(database_url="postgresql://unused/unused", request_share=0.75).request_share == 0.75
