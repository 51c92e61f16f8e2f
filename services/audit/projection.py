"""Job state as a pure function of the job's events, applied in seq order. The live
projection and a rebuild from audit.events use this same function, so they cannot differ."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from contracts.envelope import Envelope
from contracts.jobstate import FINAL, JobStatus, after
from services.audit.arrivals import Arrived


@dataclass(frozen=True)
class JobState:
    job_id: uuid.UUID
    user_id: uuid.UUID | None
    status: JobStatus = JobStatus.REQUESTED
    title: str = ""
    mode: str = ""
    target_words: int = 0
    words: int = 0  # body words: what the target counts
    heading_words: int = 0  # the document's headings, on top of `words`
    chunks_done: int = 0
    chunks_total: int = 0
    error: str | None = None
    last_seq: int = 0
    section: str | None = None  # the section of the chunk dispatched last
    tokens_in: int = 0  # as the providers reported them, over every LLM call of the job
    tokens_out: int = 0
    started_at: datetime | None = None  # when the job was planned
    ended_at: datetime | None = None  # when it completed, failed or was cancelled; None again on resume
    passages_total: int = 0  # analyze: the passages the source was cut into ...
    passages_noted: int = 0  # ... and how many are noted (a passage noted again after a resume counts once)
    # {model: {"input", "output", "cached_input"}}: the gateway prices each model apart. Replaced, never mutated.
    tokens_by_model: dict = field(default_factory=dict)


def _copy(state: JobState) -> JobState:
    """`dataclasses.replace` without re-running `__init__`, for the fold's own copy, which it
    changes in place before anyone sees it (a copy per event was the largest cost of the
    audit's batch in issue 19's first profile, and a tenth of its time after)."""
    changed = object.__new__(JobState)
    changed.__dict__.update(state.__dict__)
    return changed


# Each rule gives what an event changes (its fields read, all of them, before anything changes).
def _requested(s: JobState, d: dict) -> dict:
    return {"title": d["title"], "mode": d["mode"], "target_words": d["target_words"]}


def _chunk_processed(s: JobState, d: dict) -> dict:
    """A completed job's words are its document's: a chunk stored late counts as done, no more."""
    written = d["output_words"] > 0
    words = s.words if s.status in FINAL else s.words + d["output_words"]
    return {"chunks_done": s.chunks_done + written, "words": words}


def _chunk_write(s: JobState, d: dict) -> dict:
    return {"section": d.get("section_title") or f"section {d['section_index'] + 1}"}


# OpenTelemetry's name for the input tokens a provider served from its prompt cache (counted
# within gen_ai.usage.input_tokens too), priced apart when the price table says how.
CACHED_INPUT = "gen_ai.usage.cache_read.input_tokens"


def _llm_call(s: JobState, d: dict) -> dict:
    usage = d.get("attributes") or {}
    spent = {"input": usage.get("gen_ai.usage.input_tokens") or 0,
             "output": usage.get("gen_ai.usage.output_tokens") or 0, "cached_input": usage.get(CACHED_INPUT) or 0}
    if not all(isinstance(n, int) for n in spent.values()):
        raise TypeError("token usage is not a whole number")
    return {"tokens_in": s.tokens_in + spent["input"], "tokens_out": s.tokens_out + spent["output"],
            "tokens_by_model": _added(s.tokens_by_model, _model_of(usage), spent)}


def _model_of(usage: dict) -> str:
    """The model asked for (what a price table names), else the one that answered."""
    return str(usage.get("gen_ai.request.model") or usage.get("gen_ai.response.model") or "unknown")


def _added(by_model: dict, model: str, spent: dict) -> dict:
    if not any(spent.values()):  # a failed call: nothing to price, no model to list
        return by_model
    before = by_model.get(model, {})
    return {**by_model, model: {k: before.get(k, 0) + n for k, n in spent.items()}}


# What each event changes besides the status; the status itself follows contracts/jobstate.py.
_RULES: dict[str, Callable[[JobState, dict], dict]] = {
    "job.requested": _requested,
    "job.queued": _requested,
    "job.planned": lambda s, d: {"chunks_total": d["chunks_total"]},
    "chunk.processed": _chunk_processed,
    "chunk.write": _chunk_write,
    "llm.call": _llm_call,
    "document.assembled": lambda s, d: {"words": d["words"], "heading_words": d.get("heading_words", 0)},
    "job.extended": lambda s, d: {"chunks_total": d["chunks_total"]},
    "job.plan_edited": lambda s, d: {"chunks_total": d["chunks_total"]},
    "job.approved": lambda s, d: {"chunks_total": d["chunks_total"]},
    "job.completed": lambda s, d: {"words": d["words"], "heading_words": d.get("heading_words", 0)},
    "job.failed": lambda s, d: {"error": d["reason"]},
    "job.resumed": lambda s, d: {"error": None},
    "job.source_divided": lambda s, d: {"passages_total": d["passages"]},
    "passage.noted": lambda s, d: {"passages_noted": min(s.passages_noted + 1, s.passages_total)},
}


_ENDS = ("job.completed", "job.failed", "job.cancelled")


def apply(state: JobState | None, envelope: Envelope | Arrived, seq: int) -> JobState:
    """The job's machine (contracts/jobstate.py) decides whether the event applies in the job's
    status and what the status becomes. An event that does not apply changes nothing: after a
    crash, seq is not always the order events happened in (a batch an audit process held when it
    died comes back after the AckWait, behind later events, so a `document.assemble` may be stored
    after the `job.completed` it led to), and a completed job stays completed with its words.
    A malformed event (a field missing or of the wrong type) is stored like any other but changes
    no state either: one that no handler could take must not fail the batch it came in."""
    return applied(state, [(seq, envelope)])


def applied(state: JobState | None, events: list[tuple[int, Envelope | Arrived]]) -> JobState:
    """`apply` of each (seq, event) in turn, the job's events in seq order: a new state, `state`
    left as it was (copied once, then changed in place event by event)."""
    state = _copy(state) if state else JobState(job_id=events[0][1].job_id, user_id=events[0][1].user_id)
    fields = state.__dict__
    for _, envelope in events:
        status = after(state.status, envelope.type)
        rule = _RULES.get(envelope.type)
        if status is not None and (rule or status != state.status or envelope.type in _ENDS):
            try:
                changes = rule(state, envelope.data) if rule else {}
            except (KeyError, TypeError, ValueError):
                continue
            fields.update(changes, **_timed(state, envelope), status=status)
    fields["last_seq"] = events[-1][0]
    return state


def _timed(s: JobState, envelope: Envelope | Arrived) -> dict:
    """When the job started (its first plan, or its approval for a job that waited for review)
    and ended, by the times the events happened."""
    starts = envelope.type == "job.approved" or (envelope.type == "job.planned" and s.status != "awaiting_review")
    if starts and s.started_at is None:
        return {"started_at": envelope.occurred_at}
    if envelope.type in _ENDS:
        return {"ended_at": envelope.occurred_at}
    if envelope.type == "job.resumed":
        return {"ended_at": None}
    return {}
