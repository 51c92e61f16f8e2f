"""Which step of a job an event belongs to: `plan`, `chunk:12`, `summary:12`, `passage:5`,
`assemble`, `extend`, `review`, `request`, `cancel`, ... Every event carries its step
(`Envelope.step`), so the panel can tell a job's story from its log alone, live or replayed.

A step is bound once per unit of work (a handled message, a gateway request) and every event
made while it runs takes it: the handler's own events, the `db.query` and row events of its
transactions and its `llm.call`s. A context variable carries it, so no port has to."""

import contextvars
from typing import Any, Mapping

# The steps of no piece of the job's work: the outbox relay's and the audit service's reports of
# their own statements, made for many steps at once.
RELAY_STEP = "relay"
BOOKKEEPING_STEP = "bookkeeping"

_step: contextvars.ContextVar[str | None] = contextvars.ContextVar("longform_step", default=None)

# The step a handled message's work belongs to, when its type alone says it.
_BY_TYPE = {
    "job.requested": "plan",
    "report.plan": "plan",
    "job.plan_edit_requested": "review",
    "job.approve_requested": "review",
    "document.assemble": "assemble",
    "job.extend": "extend",
    "job.resume_requested": "resume",
    "job.cancel_requested": "cancel",
    "job.cancelled": "cancel",
    "job.delete_requested": "delete",
    "job.completed": "lifecycle",
    "job.failed": "lifecycle",
}
# ... and when its payload names the chunk or passage it is about.
_BY_PAYLOAD = {
    "chunk.write": ("chunk", "chunk_index"),
    "chunk.processed": ("chunk", "chunk_index"),
    "chunk.summarize": ("summary", "chunk_index"),
    "passage.note": ("passage", "passage"),
    "passage.noted": ("passage", "passage"),
}


def bind_step(step: str | None) -> None:
    """Every event made from now on in this task (and the tasks it starts) belongs to `step`."""
    _step.set(step)


def current_step() -> str | None:
    return _step.get()


def step_of(message_type: str, data: Mapping[str, Any], carried: str | None = None) -> str | None:
    """The step in which a handler does the work a message asks for: by its type and payload,
    else the step of the work that sent it (`carried`, the envelope's own step)."""
    if message_type in _BY_PAYLOAD:
        kind, field = _BY_PAYLOAD[message_type]
        if data.get(field) is not None:
            return f"{kind}:{data[field]}"
    return _BY_TYPE.get(message_type, carried)
