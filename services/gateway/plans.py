"""The plan while the job runs (issue 17): GET /v1/jobs/{id}/plan, the tree of its sections with
their progress, and GET /v1/jobs/{id}/sections/{index}, what one section has written so far; and
review before writing: PUT /v1/jobs/{id}/plan (the owner's edit) and POST .../approve.
Read through the planner's and generator's published views (planner.plans_v1,
planner.sections_v1, generator.chunks_v1, migration 0027), every read recorded like the other
routes' (services/gateway/recorded.py)."""

import uuid

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from contracts.messages import ApprovePlan, EditPlan
from contracts.outline import section_tree
from services.common.db import Reads
from services.gateway import store
from services.gateway.auth import current_user, job_not_found
from services.gateway.plan_edit import EditedPlan, checked_leaves
from services.gateway.recorded import reads_of
from services.gateway.routes import send_command
from services.gateway.schemas import AcceptedJob, FieldError, Problem

router = APIRouter()
_REFUSED = {401: {"model": Problem, "description": "Missing or invalid token (or session)."},
            404: {"model": Problem, "description": "No such job (or section) of the caller's."}}


class PlanView(BaseModel):
    job_id: uuid.UUID
    state: str | None = Field(description="The plan's status; null while the job is still being planned.")
    mode: str | None
    target_words: int
    planned_words: int | None
    headings: bool | None
    outline_source: str | None
    sections: list[dict] = Field(description="The tree: nodes with title, level, budget_words, words, chunks,"
                                 " chunks_done, status; leaves with index, brief, title_source; inner nodes"
                                 " with their `sections`.")


class SectionText(BaseModel):
    job_id: uuid.UUID
    index: int
    titles: list[str]
    status: str
    words: int
    chunks: int
    chunks_done: int
    text: str = Field(description="Its accepted chunks so far, in order, separated by blank lines.")


async def owned(request: Request, job_id: uuid.UUID, user_id: uuid.UUID):
    """The caller's job (its reads then go to the job's log), else 404 as for every job route."""
    job = await store.job_view(reads_of(request), user_id, job_id)
    if job is None:
        raise job_not_found()
    return job


_SECTIONS = ("SELECT section_index, titles, title_source, brief, budget_words, chunks, chunks_done, words,"
             " first_chunk, status FROM planner.sections_v1 WHERE job_id = $1")


async def plan_of(reads: Reads, job_id: uuid.UUID):
    rows = await reads.fetch("SELECT mode, state, target_words, planned_words, outline_source, headings"
                             " FROM planner.plans_v1 WHERE job_id = $1", job_id)
    return rows[0] if rows else None


@router.get("/v1/jobs/{job_id}/plan", response_model=PlanView, responses=_REFUSED)
async def get_plan(job_id: uuid.UUID, request: Request, user_id: uuid.UUID = Depends(current_user)) -> PlanView:
    """The plan as a tree of sections, each with its budget and what is written of it; before the
    plan is made, `state` is null and `sections` empty (the job is still being planned)."""
    job = await owned(request, job_id, user_id)
    reads = reads_of(request)
    plan = await plan_of(reads, job_id)
    if plan is None:
        return PlanView(job_id=job_id, state=None, mode=job["mode"], target_words=job["target_words"],
                        planned_words=None, headings=None, outline_source=None, sections=[])
    sections = await reads.fetch(_SECTIONS + " ORDER BY section_index", job_id)
    return PlanView(job_id=job_id, **dict(plan), sections=section_tree(sections))


@router.get("/v1/jobs/{job_id}/sections/{index}", response_model=SectionText, responses=_REFUSED)
async def get_section(job_id: uuid.UUID, index: int, request: Request,
                      user_id: uuid.UUID = Depends(current_user)) -> SectionText:
    """What one section (its `index` in the plan) has written so far: its accepted chunks' text in
    chunk order, as JSON (a section is a bounded share of the document)."""
    await owned(request, job_id, user_id)
    reads = reads_of(request)
    rows = await reads.fetch(_SECTIONS + " AND section_index = $2", job_id, index)
    if not rows:
        raise HTTPException(404, f"the job has no section {index} (GET /v1/jobs/{job_id}/plan lists them)")
    section = rows[0]
    texts = [] if section["first_chunk"] is None else await reads.fetch(
        "SELECT text FROM generator.chunks_v1 WHERE job_id = $1 AND chunk_index >= $2 AND chunk_index < $3"
        " ORDER BY chunk_index", job_id, section["first_chunk"], section["first_chunk"] + section["chunks"])
    return SectionText(job_id=job_id, index=index, titles=list(section["titles"]), status=section["status"],
                       words=section["words"], chunks=section["chunks"], chunks_done=section["chunks_done"],
                       text="\n\n".join(r["text"] for r in texts))


class PlanRefused(BaseModel):
    """An edit refused: a sentence naming the section (a budget, a title), or the body's fields in
    FastAPI's validation shape with their plain sentence."""

    detail: str | list[FieldError]
    message: str | None = None


_COMMAND_REFUSED = _REFUSED | {409: {"model": Problem, "description": "The job is not awaiting review."},
                               422: {"model": PlanRefused, "description": "The edit is not a valid plan: the"
                                     " message names the section."}}


@router.put("/v1/jobs/{job_id}/plan", status_code=202, response_model=AcceptedJob, responses=_COMMAND_REFUSED)
async def edit_plan(job_id: uuid.UUID, edited: EditedPlan, request: Request,
                    user_id: uuid.UUID = Depends(current_user)) -> AcceptedJob:
    """Replaces the outline of a job awaiting review (`review_plan`): rename, reorder, add (no
    `index`) and remove sections, change briefs and budgets. Each budget at least 1 word, their sum
    at least the target. The planner rechunks it and logs `job.plan_edited` with what changed."""
    job = await owned(request, job_id, user_id)
    checked_leaves(edited, job["target_words"])
    if job["mode"] == "rewrite" and job["status"] == "awaiting_review":
        raise HTTPException(409, "a rewrite's plan follows its source passages: it can be approved, not edited")
    await send_command(request, user_id, job, EditPlan(outline=edited.model_dump(exclude_none=True)["sections"]),
                       f"only a plan awaiting review can be edited: the job is {job['status']}")
    return AcceptedJob(id=job_id, status="editing")


@router.post("/v1/jobs/{job_id}/approve", status_code=202, response_model=AcceptedJob, responses=_COMMAND_REFUSED)
async def approve_plan(job_id: uuid.UUID, request: Request, user_id: uuid.UUID = Depends(current_user)) -> AcceptedJob:
    """Starts writing a job whose plan awaits review."""
    job = await owned(request, job_id, user_id)
    await send_command(request, user_id, job, ApprovePlan(),
                       f"only a plan awaiting review can be approved: the job is {job['status']}")
    return AcceptedJob(id=job_id, status="approved")
