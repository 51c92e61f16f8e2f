"""After a crash of the audit service, events can be stored out of the order they happened in (a
batch the dead process held comes back after the AckWait, behind later events). The job state
folded from them must not go back: a completed job stays completed with its document's words."""

import uuid

from contracts.envelope import Envelope
from services.audit.projection import apply

JOB, USER = uuid.uuid4(), uuid.uuid4()


def _event(event_type: str, **data) -> Envelope:
    return Envelope(event_id=uuid.uuid4(), job_id=JOB, user_id=USER, type=event_type, service="test", data=data)


def test_events_stored_after_the_completion_they_led_to_do_not_move_the_job_back() -> None:
    stored = [
        _event("job.requested", title="T", mode="generate", target_words=200),
        _event("job.planned", sections=1, chunks_total=2, planned_words=200),
        _event("chunk.processed", chunk_index=0, output_words=100),
        _event("document.assembled", words=210),
        _event("job.completed", words=210, target_words=200),
        _event("chunk.processed", chunk_index=1, output_words=110),  # held in a dead audit's batch
        _event("document.assemble", target_words=200, round=1),
    ]
    state = None
    for seq, envelope in enumerate(stored, start=1):
        state = apply(state, envelope, seq)
    assert (state.status, state.words, state.chunks_done, state.last_seq) == ("completed", 210, 2, 7)


def test_a_failed_job_is_still_resumed() -> None:
    state = None
    for seq, envelope in enumerate([_event("job.requested", title="T", mode="generate", target_words=200),
                                    _event("job.failed", reason="short"), _event("job.resumed", chunks_reset=1)],
                                   start=1):
        state = apply(state, envelope, seq)
    assert state.status == "writing" and state.error is None
