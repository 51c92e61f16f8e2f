"""Job state as a pure fold of the job's events (the live projection and a rebuild share it)."""

import uuid
from dataclasses import replace
from functools import reduce

import pytest

from contracts.envelope import Envelope, Message
from contracts.messages import (
    AssembleDocument, CancelJob, ChunkProcessed, DocumentAssembled, ExtendJob, JobCancelled, JobCompleted,
    JobExtended, JobFailed, JobPlanned, JobQueued, JobRequested, JobResumed, LlmCalled, ResumeJob, WriteChunk,
)
from services.audit.projection import JobState, apply

JOB_ID = uuid.uuid4()
USER_ID = uuid.uuid4()


def _envelope(message: Message) -> Envelope:
    return Envelope.wrap(message, service="test", job_id=JOB_ID, user_id=USER_ID)


def _fold(messages: list[Message], state: JobState | None = None, first_seq: int = 1) -> JobState:
    steps = enumerate((_envelope(m) for m in messages), start=first_seq)
    return reduce(lambda s, step: apply(s, step[1], step[0]), steps, state)


def _chunk(index: int, words: int) -> ChunkProcessed:
    return ChunkProcessed(chunk_index=index, target_words=400, output_words=words, passed=words > 0, attempts=1)


REQUESTED = JobRequested(mode="generate", title="Harbour", instructions="A story.", target_words=1000)
PLANNED = JobPlanned(sections=1, chunks_total=3, planned_words=1000)


def test_a_completed_job_reports_its_final_words_and_every_chunk():
    state = _fold([
        REQUESTED, PLANNED, _chunk(0, 340), _chunk(1, 335), _chunk(2, 350),
        AssembleDocument(target_words=1000), DocumentAssembled(words=1024, chunks=3, target_words=1000, round=1),
        JobCompleted(words=1024, target_words=1000),
    ])
    assert replace(state, started_at=None, ended_at=None) == JobState(
        job_id=JOB_ID, user_id=USER_ID, status="completed", title="Harbour", mode="generate",
        target_words=1000, words=1024, chunks_done=3, chunks_total=3, error=None, last_seq=8,
    )
    assert state.started_at is not None and state.ended_at is not None and state.started_at <= state.ended_at


@pytest.mark.parametrize("events, status, words, chunks_done", [
    (1, "requested", 0, 0),
    (2, "writing", 0, 0),
    (3, "writing", 340, 1),
    (5, "writing", 1025, 3),
    (6, "assembling", 1025, 3),
    (7, "assembling", 1024, 3),
])
def test_status_words_and_chunks_follow_the_events_so_far(events, status, words, chunks_done):
    sequence = [
        REQUESTED, PLANNED, _chunk(0, 340), _chunk(1, 335), _chunk(2, 350),
        AssembleDocument(target_words=1000), DocumentAssembled(words=1024, chunks=3, target_words=1000, round=1),
    ]
    state = _fold(sequence[:events])
    assert (state.status, state.words, state.chunks_done, state.last_seq) == (status, words, chunks_done, events)


def test_first_event_creates_the_state_for_the_envelope_job_and_user():
    state = apply(None, _envelope(REQUESTED), 1)
    assert (state.job_id, state.user_id, state.title, state.mode, state.target_words) == (
        JOB_ID, USER_ID, "Harbour", "generate", 1000)


def test_a_chunk_processed_with_no_words_is_not_counted_as_done():
    state = _fold([REQUESTED, PLANNED, _chunk(0, 0)])
    assert (state.chunks_done, state.words) == (0, 0)


def test_a_failed_job_keeps_the_reason():
    reason = "chunk 2 of 3 could not be written: provider error 500; 340 of 1,000 words written"
    state = _fold([REQUESTED, PLANNED, _chunk(0, 340), _chunk(1, 0), JobFailed(reason=reason, words=340)])
    assert (state.status, state.error, state.words) == ("failed", reason, 340)


def test_an_extension_raises_the_chunk_total_and_returns_to_writing():
    state = _fold([
        REQUESTED, PLANNED, _chunk(0, 300), _chunk(1, 300), _chunk(2, 300),
        AssembleDocument(target_words=1000), DocumentAssembled(words=900, chunks=3, target_words=1000, round=1),
        ExtendJob(missing_words=100, words=900, round=1),
    ])
    assert state.status == "extending"
    state = _fold([JobExtended(chunks_added=1, words_added=110, chunks_total=4, round=1)], state, first_seq=9)
    assert (state.status, state.chunks_total, state.chunks_done, state.last_seq) == ("writing", 4, 3, 9)


def test_events_of_other_types_only_advance_the_sequence():
    before = _fold([REQUESTED, PLANNED, _chunk(0, 340)])
    unknown = Envelope(event_id=uuid.uuid4(), job_id=JOB_ID, user_id=USER_ID, type="job.someday", service="x",
                       data={"anything": 1})
    after = apply(before, unknown, 42)
    assert after == replace(before, last_seq=42)


def test_apply_leaves_the_previous_state_unchanged():
    before = _fold([REQUESTED])
    apply(before, _envelope(PLANNED), 2)
    assert (before.status, before.chunks_total, before.last_seq) == ("requested", 0, 1)


def _write(index: int, section_index: int, title: str) -> WriteChunk:
    return WriteChunk(chunk_index=index, section_index=section_index, section_title=title, brief="", target_words=400,
                      title="Harbour", instructions="A story.")


def _call(tokens_in: int | None, tokens_out: int | None) -> LlmCalled:
    return LlmCalled(attributes={"gen_ai.usage.input_tokens": tokens_in, "gen_ai.usage.output_tokens": tokens_out})


def test_progress_names_the_section_written_last_and_sums_the_tokens_reported():
    state = _fold([REQUESTED, PLANNED, _write(0, 0, "The quay"), _call(1200, 410), _write(1, 1, ""),
                   _call(None, None), _call(900, 380)])
    assert (state.section, state.tokens_in, state.tokens_out) == ("section 2", 2100, 790)


def _call_of(model: str | None, tokens_in: int | None, tokens_out: int | None, **more) -> LlmCalled:
    return LlmCalled(attributes={"gen_ai.request.model": model, "gen_ai.usage.input_tokens": tokens_in,
                                 "gen_ai.usage.output_tokens": tokens_out, **more})


def test_tokens_are_kept_per_model_asked_for_so_each_can_be_priced_apart():
    state = _fold([REQUESTED, PLANNED, _call_of("writer-1", 1200, 410), _call_of("summary-1", 800, 200),
                   _call_of("writer-1", 900, 380, **{"gen_ai.usage.cache_read.input_tokens": 600}),
                   _call_of("writer-1", None, None),  # a failed call: nothing spent
                   LlmCalled(attributes={"gen_ai.response.model": "answered-2", "gen_ai.usage.input_tokens": 5,
                                         "gen_ai.usage.output_tokens": 1})])
    assert state.tokens_by_model == {
        "writer-1": {"input": 2100, "output": 790, "cached_input": 600},
        "summary-1": {"input": 800, "output": 200, "cached_input": 0},
        "answered-2": {"input": 5, "output": 1, "cached_input": 0},
    }
    assert (state.tokens_in, state.tokens_out) == (2905, 991)


def test_a_job_starts_at_its_first_plan_and_ends_at_its_last_end_until_resumed():
    planned, failed, resumed, completed = (_envelope(m) for m in (
        PLANNED, JobFailed(reason="provider error", words=340), JobResumed(chunks_reset=1, reason="user"),
        JobCompleted(words=1000, target_words=1000)))
    state = reduce(lambda s, e: apply(s, e[1], e[0]), enumerate([_envelope(REQUESTED), planned, failed], 1), None)
    assert (state.started_at, state.ended_at) == (planned.occurred_at, failed.occurred_at)
    state = apply(state, resumed, 4)
    assert (state.started_at, state.ended_at) == (planned.occurred_at, None)
    state = apply(apply(state, _envelope(AssembleDocument(target_words=1000)), 5), completed, 6)
    assert (state.started_at, state.ended_at) == (planned.occurred_at, completed.occurred_at)


def test_a_completed_job_keeps_its_end_and_still_counts_a_late_calls_tokens():
    completed = _envelope(JobCompleted(words=1000, target_words=1000))
    state = apply(_fold([REQUESTED, PLANNED, _call(100, 50), AssembleDocument(target_words=1000)]), completed, 5)
    late = _fold([JobFailed(reason="late", words=0), _call(10, 5)], state, first_seq=6)
    assert (late.status, late.ended_at) == ("completed", completed.occurred_at)
    assert (late.tokens_in, late.tokens_out) == (110, 55)


@pytest.mark.parametrize("event_type, data, so_far", [
    ("chunk.write", {"chunk_index": 1}, 4),  # a command no handler could take: its section is missing
    ("llm.call", {"attributes": {"gen_ai.usage.input_tokens": "many"}}, 4),
    ("job.planned", {}, 1),
    ("job.requested", {"title": "x"}, 1),
    ("chunk.processed", {"output_words": None}, 4),
])
def test_a_malformed_event_changes_nothing_but_the_sequence(event_type, data, so_far):
    before = _fold([REQUESTED, PLANNED, _chunk(0, 340), _call(100, 50)][:so_far])
    malformed = Envelope(event_id=uuid.uuid4(), job_id=JOB_ID, user_id=USER_ID, type=event_type, service="x",
                         data=data)
    assert apply(before, malformed, 99) == replace(before, last_seq=99)


def test_events_stored_behind_the_completion_leave_a_completed_job_as_it_is():
    done = _fold([REQUESTED, PLANNED, _chunk(0, 1010), AssembleDocument(target_words=1000),
                  DocumentAssembled(words=1010, chunks=1, target_words=1000, round=1),
                  JobCompleted(words=1010, target_words=1000)])
    late = _fold([AssembleDocument(target_words=1000), DocumentAssembled(words=5, chunks=1, target_words=1000,
                  round=1), JobFailed(reason="late", words=0), CancelJob(), ResumeJob()], done, first_seq=7)
    assert late == replace(done, last_seq=11)


def test_a_cancel_that_comes_while_assembling_ends_in_whatever_the_assembler_decides():
    assembling = _fold([REQUESTED, PLANNED, _chunk(0, 1010), AssembleDocument(target_words=1000)])
    cancelling = _fold([CancelJob()], assembling, first_seq=5)
    assert cancelling.status == "cancelling"
    completed = _fold([DocumentAssembled(words=1010, chunks=1, target_words=1000, round=1),
                       JobCompleted(words=1010, target_words=1000)], cancelling, first_seq=6)
    assert (completed.status, completed.words) == ("completed", 1010)
    stopped = _fold([DocumentAssembled(words=900, chunks=1, target_words=1000, round=1),
                     ExtendJob(missing_words=100, words=900, round=1),
                     JobCancelled(epoch=0, chunks_done=1, words_written=900)], cancelling, first_seq=6)
    assert stopped.status == "cancelled"


def test_a_resume_is_not_a_status_until_the_planner_resumes():
    failed = _fold([REQUESTED, PLANNED, _chunk(0, 0), JobFailed(reason="provider error", words=0)])
    asked = _fold([ResumeJob()], failed, first_seq=5)
    assert asked.status == "failed"
    assert _fold([JobResumed(chunks_reset=1, reason="user")], asked, first_seq=6).status == "writing"


QUEUED = JobQueued(mode="generate", title="Harbour", target_words=1000, place=2, active_cap=3)


def test_a_queued_job_is_queued_until_its_request_and_runs_as_any_job_after():
    assert _fold([QUEUED]).status == "queued" and _fold([QUEUED]).title == "Harbour"
    started = _fold([QUEUED, REQUESTED, PLANNED])
    assert started.status == "writing" and started.started_at is not None


def test_a_queued_job_cancelled_ends_cancelled_without_having_started():
    state = _fold([QUEUED, CancelJob(), JobCancelled(epoch=0, chunks_done=0, words_written=0)])
    assert state.status == "cancelled" and state.started_at is None and state.ended_at is not None
