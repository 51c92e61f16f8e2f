"""A job's one state machine: its statuses, and the events that move it, as data.

The audit projection (services/audit/projection.py) applies `JOB_MOVES` to the job's events to
derive the status users see. The planner keeps the same statuses for its plan, on the subset of
moves it makes itself (`PLAN_MOVES`), each move with the events the job's log sees for it, so a
test can replay them through `JOB_MOVES` and prove the two cannot disagree. The gateway asks
`allows` before it accepts a command, and refuses (409) what the table does not allow. The
migrations hold the same statuses as CHECK constraints, and the plan's moves as a table a trigger
enforces; tests compare both with this module. docs/architecture.md's diagrams are drawn from it
(`mermaid`).
"""

from enum import StrEnum


class JobStatus(StrEnum):
    QUEUED = "queued"  # accepted; waits for one of its owner's running jobs to end (a per-user cap)
    REQUESTED = "requested"  # accepted, not planned yet
    NOTING = "noting"  # analyze: the source's passages being noted, before the report is planned
    AWAITING_REVIEW = "awaiting_review"  # planned; the owner reviews (edits) the outline, then approves
    WRITING = "writing"  # chunks being written
    ASSEMBLING = "assembling"  # every chunk written; the document being put together and counted
    EXTENDING = "extending"  # assembled short: sections being added
    CANCELLING = "cancelling"  # a cancel asked for, not yet carried out
    COMPLETED = "completed"  # the document is at least the target: final
    FAILED = "failed"  # stopped with a reason; a resume continues it
    CANCELLED = "cancelled"  # stopped by its owner; a resume continues it


S = JobStatus
FINAL = frozenset({S.COMPLETED})
ENDED = frozenset({S.COMPLETED, S.FAILED, S.CANCELLED})  # nothing is being done for the job

# Events that change counters (tokens) in whatever status they come: an LLM call made before a
# cancel or a failure is still paid for.
ANY_STATUS = frozenset({"llm.call"})

# status -> {event type: status after it}. An event not listed for the status the job is in
# changes nothing. After a crash, a batch of events can be stored behind later ones (the
# `document.assemble` a dead audit process held comes back after the `job.completed` it led to),
# so `job.completed`, the proof (the assembler's count, said by the planner) that the document is
# at its target, applies in every status, and a completed job stays completed: later events count
# (a late chunk, tokens) but move nothing and change no words.
_MOVES: dict[JobStatus, dict[str, JobStatus]] = {
    S.QUEUED: {
        # job.queued is a queued job's first event; its job.requested, sent when its turn comes, starts it.
        "job.queued": S.QUEUED, "job.requested": S.REQUESTED, "job.cancel_requested": S.CANCELLING,
        "job.cancelled": S.CANCELLED,
    },
    S.REQUESTED: {
        "job.queued": S.QUEUED,
        "job.requested": S.REQUESTED, "job.planned": S.WRITING, "job.cancel_requested": S.CANCELLING,
        "job.cancelled": S.CANCELLED, "job.failed": S.FAILED, "job.source_divided": S.NOTING,
        "job.plan_proposed": S.AWAITING_REVIEW,
    },
    S.NOTING: {
        "passage.note": S.NOTING, "passage.noted": S.NOTING, "report.plan": S.NOTING, "job.planned": S.WRITING,
        "job.failed": S.FAILED, "job.cancel_requested": S.CANCELLING, "job.cancelled": S.CANCELLED,
    },
    S.AWAITING_REVIEW: {
        # The plan's own job.planned comes after it proposed the plan: counted, the job stays.
        "job.planned": S.AWAITING_REVIEW, "job.plan_edit_requested": S.AWAITING_REVIEW,
        "job.plan_edited": S.AWAITING_REVIEW, "job.approve_requested": S.AWAITING_REVIEW,
        "job.approved": S.WRITING, "job.cancel_requested": S.CANCELLING, "job.cancelled": S.CANCELLED,
        "job.failed": S.FAILED,
    },
    S.WRITING: {
        "chunk.write": S.WRITING, "chunk.processed": S.WRITING, "job.resumed": S.WRITING,
        "passage.note": S.NOTING,  # a resumed analysis whose passages were not all noted goes back to noting
        "document.assemble": S.ASSEMBLING, "job.failed": S.FAILED, "job.cancel_requested": S.CANCELLING,
        "job.cancelled": S.CANCELLED,
    },
    S.ASSEMBLING: {
        "chunk.processed": S.ASSEMBLING, "document.assembled": S.ASSEMBLING, "job.extend": S.EXTENDING,
        "job.complete": S.ASSEMBLING,
        "job.failed": S.FAILED, "job.cancel_requested": S.CANCELLING,
    },
    S.EXTENDING: {
        "job.extended": S.WRITING, "job.failed": S.FAILED, "job.cancel_requested": S.CANCELLING,
    },
    S.CANCELLING: {
        # What was under way when the cancel was asked for reaches its end first.
        "job.planned": S.CANCELLING, "job.plan_proposed": S.CANCELLING, "chunk.write": S.CANCELLING, "chunk.processed": S.CANCELLING,
        "job.resumed": S.CANCELLING, "document.assemble": S.CANCELLING, "document.assembled": S.CANCELLING,
        "job.extend": S.CANCELLING, "job.extended": S.CANCELLING, "job.cancel_requested": S.CANCELLING,
        "job.source_divided": S.CANCELLING, "passage.note": S.CANCELLING, "passage.noted": S.CANCELLING,
        "report.plan": S.CANCELLING, "job.complete": S.CANCELLING, "job.cancelled": S.CANCELLED,
        "job.failed": S.FAILED,
    },
    S.COMPLETED: {"chunk.processed": S.COMPLETED},
    S.FAILED: {
        "chunk.processed": S.FAILED, "passage.noted": S.FAILED, "job.resume_requested": S.FAILED,
        "job.resumed": S.WRITING,
    },
    S.CANCELLED: {
        "chunk.processed": S.CANCELLED, "passage.noted": S.CANCELLED, "job.resume_requested": S.CANCELLED,
        "job.resumed": S.WRITING,
    },
}
JOB_MOVES: dict[JobStatus, dict[str, JobStatus]] = {
    status: moves | ({} if status in FINAL else {"job.completed": S.COMPLETED}) for status, moves in _MOVES.items()
}

# The plan's moves, made by the planner: (from, to) -> the events of that move as the job's log
# holds them, in order (the event the planner handled, then what it emitted with the move).
PLAN_MOVES: dict[tuple[JobStatus, JobStatus], tuple[str, ...]] = {
    (S.NOTING, S.WRITING): ("report.plan", "job.planned"),  # analyze: every passage noted, the report planned
    (S.NOTING, S.FAILED): ("job.failed",),
    (S.NOTING, S.CANCELLED): ("job.cancel_requested", "job.cancelled"),
    (S.AWAITING_REVIEW, S.AWAITING_REVIEW): ("job.plan_edit_requested", "job.plan_edited"),
    (S.AWAITING_REVIEW, S.WRITING): ("job.approve_requested", "job.approved"),
    (S.AWAITING_REVIEW, S.CANCELLED): ("job.cancel_requested", "job.cancelled"),
    (S.WRITING, S.ASSEMBLING): ("chunk.processed", "document.assemble"),
    (S.WRITING, S.FAILED): ("chunk.processed", "job.failed"),
    (S.WRITING, S.CANCELLED): ("job.cancel_requested", "job.cancelled"),
    (S.ASSEMBLING, S.WRITING): ("job.extend", "job.extended"),
    (S.ASSEMBLING, S.COMPLETED): ("job.complete", "job.completed"),
    (S.ASSEMBLING, S.FAILED): ("job.failed",),
    (S.ASSEMBLING, S.CANCELLING): ("job.cancel_requested",),  # carried out at the assembler's verdict
    (S.CANCELLING, S.COMPLETED): ("job.complete", "job.completed"),  # the document made it: the cancel came too late
    (S.CANCELLING, S.CANCELLED): ("job.extend", "job.cancelled"),  # short: stop instead of extending
    (S.CANCELLING, S.FAILED): ("job.failed",),
    (S.FAILED, S.WRITING): ("job.resume_requested", "job.resumed"),
    (S.CANCELLED, S.WRITING): ("job.resume_requested", "job.resumed"),
    (S.FAILED, S.NOTING): ("job.resume_requested", "job.resumed", "passage.note"),  # stopped while noting
    (S.CANCELLED, S.NOTING): ("job.resume_requested", "job.resumed", "passage.note"),
}
PLAN_STATUSES = frozenset(s for move in PLAN_MOVES for s in move)
PLAN_FIRST = S.WRITING  # a plan is made writing (or, when a cancel came first, cancelled at once) ...
PLAN_FIRST_ANALYZE = S.NOTING  # ... an analysis's noting its passages
PLAN_FOR_REVIEW = S.AWAITING_REVIEW  # ... and, for a job that asked to review it, awaiting review


class IllegalMove(RuntimeError):
    """A move the table does not allow was asked of the planner's store: a bug, not bad input."""


def after(status: JobStatus, event_type: str) -> JobStatus | None:
    """The status once `event_type` is applied, or None when the event does not apply in `status`."""
    if event_type in ANY_STATUS:
        return status
    return JOB_MOVES[status].get(event_type)


def allows(status: str, command_type: str) -> bool:
    """Whether a command (`job.cancel_requested`, `job.resume_requested`, `job.plan_edit_requested`,
    `job.approve_requested`) may be asked in `status`."""
    return command_type in JOB_MOVES[JobStatus(status)]


def plan_sources(target: JobStatus) -> list[JobStatus]:
    """The plan statuses from which the planner may move to `target`."""
    return sorted(s for s, t in PLAN_MOVES if t == target)


def mermaid(moves: dict[tuple[JobStatus, JobStatus], str]) -> str:
    """A stateDiagram-v2 of the moves, each edge labelled (docs/architecture.md)."""
    lines = ["stateDiagram-v2"]
    lines += [f"    {a.value} --> {b.value}: {label}" for (a, b), label in moves.items()]
    return "\n".join(lines)


def job_diagram() -> str:
    """The job's machine without its self-loops (events that change counters, not the status)."""
    edges: dict[tuple[JobStatus, JobStatus], list[str]] = {}
    for status, moves in JOB_MOVES.items():
        for event_type, target in moves.items():
            if target != status:
                edges.setdefault((status, target), []).append(event_type)
    return mermaid({edge: ", ".join(events) for edge, events in edges.items()})


def plan_diagram() -> str:
    return mermaid({edge: " then ".join(events) for edge, events in PLAN_MOVES.items()})


if __name__ == "__main__":  # the diagrams docs/architecture.md holds: python -m contracts.jobstate
    print(f"```mermaid\n{job_diagram()}\n```\n\n```mermaid\n{plan_diagram()}\n```")
