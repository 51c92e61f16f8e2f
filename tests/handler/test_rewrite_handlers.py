"""`rewrite` on the planner's and the generator's handlers (SPEC C1): the source is split into
passages at paragraph boundaries as it streams from the database, all of it and in order, with
targets summing to the job's; each chunk's prompt carries its passage. The job and its source are
stored by the gateway's own code, as its role, and its `job.requested` is what the planner handles."""

import uuid
from pathlib import Path

import pytest

from contracts.headings import SectionShape, headings
from services.gateway.accounts import create_account
from services.gateway.schemas import NewJob
from services.gateway.sources import parse_source
from services.gateway.store import create_job
from services.planner.handlers import plan_job
from tests.handler.effects import outbox
from tests.handler.pipeline import write_every_chunk

ESSAY = (Path(__file__).resolve().parents[1] / "data" / "source_essay.md").read_text()


async def requested_by_the_gateway(databases, owner, target: int, instructions: str):
    """The job and its source as the gateway stores them; its `job.requested` envelope."""
    gateway = await databases("gateway")
    user_id, _ = await create_account(gateway, name=f"rewriter-{uuid.uuid4().hex[:8]}")
    source = parse_source(ESSAY.encode(), field="source_text", filename=None, media_type="text/markdown")
    job_id, _ = await create_job(gateway, user_id, NewJob(mode="rewrite", title="Canals", instructions=instructions,
                                                       target_words=target), source)
    [requested] = await outbox(owner, "gateway", job_id, "job.requested")
    return requested


@pytest.mark.parametrize(("target", "instructions"), [
    (9000, "Expand this essay to more than twice its length, with more history and examples."),
    (1500, "Condense this essay to a brief overview."),
])
async def test_a_source_is_split_into_passages_whose_targets_sum_to_the_target(
        planner, databases, owner, target, instructions) -> None:
    """Moved from tests/integration/test_rewrite.py (its journey, the job completing at its
    target, stays there)."""
    requested = await requested_by_the_gateway(databases, owner, target, instructions)
    await plan_job(requested, await planner())

    passages = await owner.fetch("SELECT source_text, budget_words FROM planner.chunks WHERE job_id = $1"
                                 " AND source_text IS NOT NULL ORDER BY chunk_index", requested.job_id)
    text = [line for line in ESSAY.splitlines() if not line.startswith("#")]
    assert " ".join(p["source_text"] for p in passages).split() == " ".join(text).split()  # all of it, in order
    assert sum(p["budget_words"] for p in passages) == target
    sections = await owner.fetch("SELECT section_index, titles, title_source FROM planner.sections WHERE job_id = $1"
                                 " ORDER BY section_index", requested.job_id)
    found = headings(SectionShape(s["section_index"], tuple(s["titles"]), s["title_source"]) for s in sections)
    source_headings = [line.lstrip("#").strip() for line in ESSAY.splitlines() if line.startswith("#")]
    assert [h.title for h in found] == source_headings  # the rewrite keeps its source's headings, in order
    assert [h.level for h in found][:2] == [1, 2]
    [planned] = await outbox(owner, "planner", requested.job_id, "job.planned")
    assert (planned.data["outline_source"], planned.data["planned_words"]) == ("source", target)


async def test_each_chunk_prompt_carries_its_passage_of_the_source(planner, generator, databases, owner) -> None:
    """Moved from tests/integration/test_rewrite.py: every chunk the planner dispatches is written
    by the generator, and each first call's prompt holds that chunk's passage."""
    requested = await requested_by_the_gateway(databases, owner, 3000, "Rewrite this essay for schoolchildren.")
    planner_ports = await planner()
    await plan_job(requested, planner_ports)
    await write_every_chunk(owner, requested.job_id, planner_ports, await generator())

    rows = await owner.fetch(
        "SELECT c.source_text, l.prompt FROM planner.chunks c LEFT JOIN generator.llm_calls l ON l.job_id = c.job_id"
        " AND l.chunk_index = c.chunk_index AND l.purpose = 'write' AND l.attempt = 1"
        " WHERE c.job_id = $1 AND c.source_text IS NOT NULL", requested.job_id)
    assert len(rows) >= 3
    assert all(r["prompt"] and r["source_text"] in r["prompt"] for r in rows)
