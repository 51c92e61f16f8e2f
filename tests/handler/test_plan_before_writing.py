"""The plan is stored before any chunk is written (SPEC C1): the planner's handler stores the
outline, its style sheet and its sections' hand-offs in the transaction that dispatches the first
chunks, and logs `job.planned` before them."""

from contracts.messages import JobRequested
from services.planner.handlers import plan_job
from tests.handler.effects import Job, outbox


async def test_the_plan_is_stored_before_the_first_chunk_is_written(planner, owner) -> None:
    """Moved from tests/integration/test_coherence.py."""
    ports, job = await planner(), Job()
    await plan_job(job.envelope(JobRequested(mode="generate", title="Imaginary rivers", target_words=6000,
                                             instructions="A field guide to imaginary rivers."), "gateway"), ports)

    types = [e.type for e in await outbox(owner, "planner", job.job_id, "job.planned", "chunk.write")]
    assert types[0] == "job.planned" and "chunk.write" in types[1:]
    plan = await owner.fetchrow("SELECT outline_source, planned_words, style FROM planner.plans WHERE job_id = $1",
                                job.job_id)
    assert plan["outline_source"] == "llm" and plan["planned_words"] == 6000 and plan["style"]
    sections = await owner.fetch("SELECT path, brief, handoff_in, handoff_out FROM planner.sections WHERE job_id = $1"
                                 " ORDER BY section_index", job.job_id)
    assert len(sections) >= 2
    assert sections[0]["handoff_in"] == "" and sections[-1]["handoff_out"] == ""
    assert all(s["handoff_in"] for s in sections[1:])
    assert all(s["brief"] for s in sections)
