"""Every prompt and reply one click away: GET /v1/jobs/{id}/llm-calls/{seq}. A call is named by
the seq of its `llm.call` event in the job's log (what the panel shows on each line); the event
names the row its service stored (`longform.stored_as`: `generator.llm_calls/17`), read through
that service's published view (migrations/0030). Owner only, like every job route."""

import re
import uuid

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from pydantic import BaseModel, Field

from services.gateway import store
from services.gateway.auth import current_user, job_not_found
from services.gateway.recorded import reads_of
from services.gateway.schemas import Problem

router = APIRouter()
_STORED_AS = re.compile(r"^(planner|generator)\.llm_calls/(\d+)$")  # the services that call the LLM


class LlmCall(BaseModel):
    """One LLM call of the job, whole: what was sent, what came back, and what was done with it."""

    seq: int = Field(description="Its `llm.call` event's place in the job's log.")
    service: str
    purpose: str = Field(description="outline, write or summarize.")
    chunk_index: int | None
    attempt: int
    provider: str
    model: str
    system_prompt: str
    prompt: str
    reply: str = Field(description="The reply as received, before anything was cut.")
    cut: str = Field(description="What was cut from the reply before it was counted (chatter, echoes, headings),"
                     " as the event lists it; empty when nothing was.")
    cut_words: int
    decision: str = Field(description="kept, kept with a fallback (and which), rejected (and why), or failed.")
    words: int = Field(description="Words of the reply as received.")
    input_tokens: int | None
    output_tokens: int | None
    latency_ms: int | None
    first_token_ms: int | None
    finish_reason: str | None
    occurred_at: str


@router.get("/v1/jobs/{job_id}/llm-calls/{seq}", response_model=LlmCall,
            responses={401: {"model": Problem}, 404: {"model": Problem, "description": "No such job of the caller's,"
                                                     " or no LLM call at that seq of its log."}})
async def get_llm_call(request: Request, job_id: uuid.UUID, seq: int = Path(ge=1, le=2**62),
                       user_id: uuid.UUID = Depends(current_user)) -> LlmCall:
    """The full system prompt, prompt and reply of one call, what was cut from the reply, its tokens,
    latency and finish reason, and the decision (kept, rejected with the reason, fallback)."""
    reads = reads_of(request)
    if await store.job_view(reads, user_id, job_id) is None:
        raise job_not_found()
    event = await store.event_at(reads, str(job_id), seq)
    stored = _STORED_AS.match(((event or {}).get("data") or {}).get("attributes", {}).get("longform.stored_as", "")
                              if event and event["type"] == "llm.call" else "")
    row = await store.llm_call(reads, stored.group(1), int(stored.group(2)), job_id) if stored else None
    if row is None:
        raise HTTPException(404, f"no LLM call at seq {seq} of this job's log")
    return _call(seq, stored.group(1), event, row)


def _call(seq: int, service: str, event, row) -> LlmCall:
    notes = event["data"]["attributes"]
    return LlmCall(
        seq=seq, service=service, purpose=row["purpose"], chunk_index=row["chunk_index"], attempt=row["attempt"],
        provider=row["provider"], model=row["model"], system_prompt=row["system_prompt"], prompt=row["prompt"],
        reply=row["response"], cut=notes.get("longform.cut") or "", cut_words=notes.get("longform.cut_words") or 0,
        decision=_decision(row, notes), words=row["words"], input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"], latency_ms=row["latency_ms"], first_token_ms=row["first_token_ms"],
        finish_reason=row["finish_reason"], occurred_at=event["occurred_at"].isoformat(),
    )


def _decision(row, notes: dict) -> str:
    if row["kept"]:
        fallback = notes.get("longform.fallback")
        return f"kept, with a fallback: {fallback}" if fallback else "kept"
    if row["response"] or notes.get("gen_ai.response.finish_reasons"):
        return f"rejected: {row['error'] or 'not used'}"
    return f"failed: {row['error'] or 'no reply'}"
