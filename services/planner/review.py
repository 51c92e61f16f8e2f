"""Review before writing (issue 17, part 3): a plan awaiting review is replaced by the owner's
edit, rechunked as planning chunks it (services/planner/plan.py), in one transaction; approving
it starts writing exactly as planning does for a job that did not ask for review."""

from contracts.envelope import Envelope
from contracts.jobstate import JobStatus
from contracts.messages import ApprovePlan, EditPlan, JobApproved, PlanEdited
from contracts.outline import edited_leaves
from services.common.db import Tx
from services.planner import store
from services.planner.edits import PATH, plan_changes
from services.planner.handlers import Decision, Ports, dispatch
from services.planner.plan import Section, chunks_of, with_handoffs


async def edit_plan(envelope: Envelope, ports: Ports) -> None:
    edit = envelope.payload(EditPlan)
    async with ports.db.transaction(job_id=envelope.job_id, user_id=envelope.user_id) as tx:
        if not await tx.claim(envelope.event_id):
            return
        plan = await store.lock_plan(tx, envelope.job_id)
        if plan is None or plan["state"] != JobStatus.AWAITING_REVIEW:
            return  # approved or cancelled since the gateway checked: the edit comes too late
        before = await _sections(tx, envelope.job_id)
        leaves = edited_leaves(edit.outline)
        known = {s["index"] for s in before}
        for leaf in leaves:  # an index the plan does not have is a section added
            if leaf["index"] not in known:
                leaf["index"] = None
        await _replace(tx, envelope.job_id, leaves, ports.settings.chunk_words)
        sections, chunks, words = await store.count_planned(tx, envelope.job_id)
        Decision(tx, envelope).emit(PlanEdited(sections=sections, chunks_total=chunks, planned_words=words,
                                               edits=plan_changes(before, leaves)))


async def _sections(tx: Tx, job_id) -> list[dict]:
    rows = await tx.fetch("SELECT section_index, titles, brief, budget_words FROM planner.sections"
                          " WHERE job_id = $1 ORDER BY section_index", job_id)
    # titled as GET /plan titles them (contracts/outline.py), so an untitled section kept as shown is not renamed
    return [{"index": r["section_index"], "titles": list(r["titles"]) or [f"Section {r['section_index'] + 1}"],
             "brief": r["brief"],
             "budget_words": r["budget_words"]} for r in rows]


async def _replace(tx: Tx, job_id, leaves: list[dict], chunk_words: int) -> None:
    """The plan's sections and chunks become the edit's (nothing is written yet under review)."""
    await tx.execute("DELETE FROM planner.chunks WHERE job_id = $1", job_id)
    await tx.execute("DELETE FROM planner.sections WHERE job_id = $1", job_id)
    sections = with_handoffs([Section(PATH.join(leaf["titles"]), leaf["brief"], leaf["budget_words"])
                              for leaf in leaves])
    await tx.executemany(
        "INSERT INTO planner.sections (job_id, section_index, path, titles, title_source, brief, budget_words,"
        " handoff_in, handoff_out) VALUES ($1,$2,$3,$4,'plan',$5,$6,$7,$8)",
        [(job_id, i, s.path, leaf["titles"], s.brief, s.budget_words, s.handoff_in, s.handoff_out)
         for i, (s, leaf) in enumerate(zip(sections, leaves))])
    await store.insert_chunks(tx, job_id, chunks_of(sections, chunk_words))


async def approve_plan(envelope: Envelope, ports: Ports) -> None:
    envelope.payload(ApprovePlan)
    async with ports.db.transaction(job_id=envelope.job_id, user_id=envelope.user_id) as tx:
        if not await tx.claim(envelope.event_id):
            return
        plan = await store.lock_plan(tx, envelope.job_id)
        if plan is None or plan["state"] != JobStatus.AWAITING_REVIEW:
            return
        await store.move(tx, envelope.job_id, JobStatus.WRITING)
        chunks = await tx.fetchval("SELECT count(*) FROM planner.chunks WHERE job_id = $1", envelope.job_id)
        Decision(tx, envelope).emit(JobApproved(chunks_total=chunks, planned_words=plan["planned_words"]))
        await dispatch(tx, envelope, await store.lock_plan(tx, envelope.job_id))
