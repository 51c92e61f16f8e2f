"""The planner's side of review before writing: a `review_plan` job is planned in
`awaiting_review` with nothing dispatched; an edit replaces the sections and chunks in one go
(rechunked by chunk_words) and is applied once however often it is delivered; approving
dispatches as planning does; an edit or approval outside review changes nothing."""

from contracts.messages import ApprovePlan, CancelJob, EditPlan
from services.planner.handlers import cancel_job, plan_job
from services.planner.review import approve_plan, edit_plan
from tests.handler.effects import Job, effects, outbox
from tests.handler.test_planner_handlers import plan_state, planned_chunks, requested


async def _in_review(planner, owner, target: int = 600):
    ports, job = await planner(chunk_words=200), Job()
    await plan_job(job.envelope(requested(target, review_plan=True), "gateway"), ports)
    return ports, job


async def test_a_plan_for_review_waits_with_nothing_dispatched(planner, owner):
    ports, job = await _in_review(planner, owner)
    assert (await plan_state(owner, job))["state"] == "awaiting_review"
    assert await outbox(owner, "planner", job.job_id, "chunk.write") == []
    types = [e.type for e in await outbox(owner, "planner", job.job_id, "job.plan_proposed", "job.planned")]
    assert types == ["job.plan_proposed", "job.planned"]


async def test_an_edit_replaces_the_sections_and_rechunks_them_once(planner, owner):
    ports, job = await _in_review(planner, owner)
    edit = job.envelope(EditPlan(outline=[
        {"title": "Part", "sections": [{"title": "Marsh", "brief": "salt", "budget_words": 450}]},
        {"title": "Tides", "brief": "water", "budget_words": 150, "index": 0}]), "gateway")
    await edit_plan(edit, ports)
    sections = await owner.fetch("SELECT section_index, titles, path, brief, budget_words FROM planner.sections"
                                 " WHERE job_id = $1 ORDER BY section_index", job.job_id)
    assert [(s["titles"], s["path"], s["budget_words"]) for s in sections] == [
        (["Part", "Marsh"], "Part › Marsh", 450), (["Tides"], "Tides", 150)]
    chunks = await planned_chunks(owner, job)
    assert [(c["section_index"], c["budget_words"]) for c in chunks] == [(0, 150), (0, 150), (0, 150), (1, 150)]
    [edited] = await outbox(owner, "planner", job.job_id, "job.plan_edited")
    assert (edited.data["sections"], edited.data["chunks_total"], edited.data["planned_words"]) == (2, 4, 600)
    assert "added “Part › Marsh” at position 1 (450 words)" in edited.data["edits"]

    before = await effects(owner, "planner", job.job_id)
    await edit_plan(edit, ports)  # delivered again: claimed already
    assert await effects(owner, "planner", job.job_id) == before


async def test_approval_dispatches_and_a_late_edit_or_approval_changes_nothing(planner, owner):
    ports, job = await _in_review(planner, owner)
    await approve_plan(job.envelope(ApprovePlan(), "gateway"), ports)
    assert (await plan_state(owner, job))["state"] == "writing"
    assert len(await outbox(owner, "planner", job.job_id, "job.approved")) == 1
    assert await outbox(owner, "planner", job.job_id, "chunk.write")
    chunks = await planned_chunks(owner, job)
    before = await effects(owner, "planner", job.job_id)
    await edit_plan(job.envelope(EditPlan(outline=[{"title": "Late", "budget_words": 600}]), "gateway"), ports)
    await approve_plan(job.envelope(ApprovePlan(), "gateway"), ports)
    assert await planned_chunks(owner, job) == chunks
    assert [e.type for e in await effects(owner, "planner", job.job_id) if e not in before
            and e.type.startswith("job.")] == []


async def test_a_plan_in_review_is_cancelled_at_once(planner, owner):
    ports, job = await _in_review(planner, owner)
    await cancel_job(job.envelope(CancelJob(), "gateway"), ports)
    assert (await plan_state(owner, job))["state"] == "cancelled"
    assert len(await outbox(owner, "planner", job.job_id, "job.cancelled")) == 1
