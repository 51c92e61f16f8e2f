"""Events (past tense) and commands (imperative) of the job lifecycle.

Schemas evolve only by adding fields with defaults."""

import uuid
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from contracts.envelope import Message

MAX_TARGET_WORDS = 500_000


def _budget():
    """A chunk's share of the job's target. Sent as `target_words` before migration 0025: a message
    in flight or an event stored then still reads."""
    return Field(validation_alias=AliasChoices("budget_words", "target_words"))


Mode = Literal["generate", "rewrite", "analyze"]


class JobRequested(Message):
    TYPE = "job.requested"
    mode: Mode
    title: str
    instructions: str
    target_words: int = Field(ge=1, le=MAX_TARGET_WORDS)
    model: str | None = None
    source_words: int | None = None  # rewrite, analyze: the source waits in gateway.sources, keyed by job id
    headings: bool = True  # the plan's titles as the document's headings; false for flat prose
    review_plan: bool = False  # stop after planning for the owner to review (and edit) the outline


class JobQueued(Message):
    """The owner has `active_cap` jobs running: this one waits, `place`th in their queue, and
    starts (its job.requested is sent) when one of them ends (migrations/0038)."""

    TYPE = "job.queued"
    mode: Mode
    title: str
    target_words: int
    place: int
    active_cap: int


class JobPlanned(Message):
    """`outline_source`: "llm", "code" (made in code: `fallback` says what it replaced), "single"
    (a tiny target, one chunk) or "source" (a rewrite's passages)."""

    TYPE = "job.planned"
    sections: int
    chunks_total: int
    planned_words: int
    outline_source: str = ""
    fallback: str = ""


class WriteChunk(Message):
    TYPE = "chunk.write"
    KIND = "command"
    chunk_index: int
    section_index: int
    section_title: str
    brief: str
    budget_words: int = _budget()
    title: str
    instructions: str
    previous_chunk_index: int | None = None
    position: str = ""
    model: str | None = None
    mode: Mode = "generate"
    style: str = ""  # the style sheet: tone, tense, point of view, audience
    handoff_in: str = ""  # where the text before this section leaves off (from the plan)
    handoff_out: str = ""  # what the section after this one picks up
    source_text: str | None = None  # rewrite: the passage of the source this chunk reworks
    epoch: int = 0  # the plan's epoch at dispatch: a cancel stops every write of its epoch or before
    last: bool = False  # the plan's last chunk when dispatched: no chunk needs its memory unless the job is extended
    passage_first: int | None = None  # analyze: the source passages (numbered from 1) its section covers ...
    passage_last: int | None = None  # ... first to last, whose notes the chunk is written from
    passages_total: int | None = None  # analyze: how many passages the source has (citations beyond are cut)


class SourceDivided(Message):
    """analyze: the planner cut the source into passages (numbered from 1), stored in
    planner.passages; each is noted next (`passage.note`), a bounded number at a time."""

    TYPE = "job.source_divided"
    passages: int
    source_words: int


class NotePassage(Message):
    """analyze: take notes of one passage of the source (claims, names, quotes worth keeping)."""

    TYPE = "passage.note"
    KIND = "command"
    passage: int  # its number, from 1
    passages_total: int
    text: str
    title: str
    instructions: str
    model: str | None = None
    epoch: int = 0  # the plan's epoch at dispatch: a cancel stops the noting of its epoch


class PassageNoted(Message):
    """A passage's notes are stored (generator.passage_notes). `made_by`: `llm` (the reply,
    cleaned and bounded) or `code` (no usable reply: its first and last sentences and its
    capitalised names; `fallback` says what that replaced)."""

    TYPE = "passage.noted"
    passage: int
    notes_words: int
    made_by: Literal["llm", "code"]
    fallback: str = ""


class PlanReport(Message):
    """analyze: every passage is noted; plan the report from the notes (an outline whose
    sections say which passages they cover)."""

    TYPE = "report.plan"
    KIND = "command"
    passages: int


class ChunkProcessed(Message):
    TYPE = "chunk.processed"
    chunk_index: int
    budget_words: int = _budget()
    output_words: int
    input_words: int = 0
    passed: bool
    attempts: int
    reason: str = ""
    trimmed_words: int = 0  # words of kept replies cut past the budget or a truncation: paid, not delivered
    trimmed_tokens: int = 0  # ... and their output tokens, as the replies' share


class SummarizeChunk(Message):
    """Fold a stored chunk into the job's memory (rolling summary and ledger). Dispatched by the
    generator once the chunk is stored and the chunk before it (`previous_chunk_index`) has been
    folded in, so each section's memory is built in order and nothing waits for it."""

    TYPE = "chunk.summarize"
    KIND = "command"
    chunk_index: int
    previous_chunk_index: int | None = None
    model: str | None = None
    style: str = ""  # the plan's style sheet, carried into the first version of the memory
    epoch: int = 0  # the epoch the chunk was written in: a cancelled one is folded in code, not by the LLM
    last: bool = False  # the plan's last chunk: folded in code, since no chunk waits for its memory


class ChunkSummarized(Message):
    """A chunk was folded into the memory. `made_by` says how: `inline` (the summary written with
    the chunk, in its replies' memory tails: no call of its own), `llm` (the summariser's reply as
    asked), `prose` (a reply without the asked format, used as the summary) or `code` (no usable
    reply: built from the previous summary and the chunk's first and last sentences);
    `fallback` says what the fallback replaced, empty when none was needed."""

    TYPE = "chunk.summarized"
    chunk_index: int
    version: int
    summary_words: int
    ledger_entries: int
    made_by: Literal["inline", "llm", "prose", "code"]
    fallback: str = ""


class ChunkStarted(Message):
    """The generator begins writing a chunk; when it begins again (after a crash or a failure),
    `attempts_before` LLM calls were already made for it."""

    TYPE = "job.chunk_started"
    chunk_index: int
    budget_words: int = _budget()
    attempts_before: int = 0


class ChunkContinued(Message):
    """A chunk's kept text is still short of its target: the next call continues it."""

    TYPE = "job.chunk_continued"
    chunk_index: int
    words_so_far: int
    budget_words: int = _budget()
    round: int


class AssembleDocument(Message):
    TYPE = "document.assemble"
    KIND = "command"
    target_words: int
    round: int = 1
    headings: bool = True  # the job's option: the plan's titles as headings


class DocumentAssembled(Message):
    """`words` counts the body, what the target counts; `heading_words` the headings on top."""

    TYPE = "document.assembled"
    words: int
    chunks: int
    target_words: int
    round: int
    heading_count: int = 0
    heading_words: int = 0


class ExtendJob(Message):
    TYPE = "job.extend"
    KIND = "command"
    missing_words: int
    words: int
    round: int


class JobExtended(Message):
    TYPE = "job.extended"
    chunks_added: int
    words_added: int
    chunks_total: int
    round: int


class CompleteJob(Message):
    """The assembler found the document at its target: the planner completes the job (its plan,
    and `job.completed` in the same transaction, the job's last step)."""

    TYPE = "job.complete"
    KIND = "command"
    words: int  # body words, what the target counts
    target_words: int
    heading_words: int = 0  # the headings' words, on top


class JobCompleted(Message):
    TYPE = "job.completed"
    words: int  # body words, what the target counts
    target_words: int
    heading_words: int = 0  # the headings' words, on top


class JobFailed(Message):
    TYPE = "job.failed"
    reason: str
    words: int = 0


class ResumeJob(Message):
    TYPE = "job.resume_requested"


class JobResumed(Message):
    """The job is writing again: `crash_recovery` when a service picked it up on its start (the
    job was still `writing` in the database), `user` after POST /v1/jobs/{id}/resume. The envelope
    names the service; `consumer` is the durable consumer whose message resumed it, None when
    nothing came but the start itself. Both None in events recorded before they were kept."""

    TYPE = "job.resumed"
    chunks_reset: int
    reason: Literal["crash_recovery", "user"] | None = None
    consumer: str | None = None


class CancelJob(Message):
    """The owner asks to stop the job; everything written is kept, and resume continues it."""

    TYPE = "job.cancel_requested"


class PlanProposed(Message):
    """The job asked for review (`review_plan`): the plan is made and waits in `awaiting_review`
    for the owner to edit and approve it; nothing is written until then. Comes before the plan's
    `job.planned`, so the job never shows `writing` while it waits."""

    TYPE = "job.plan_proposed"
    sections: int = 0
    planned_words: int = 0


class EditPlan(Message):
    """The owner's edited outline (PUT /v1/jobs/{id}/plan), checked by the gateway: a tree of
    nodes with title, and for leaves brief, budget_words and `index` (absent: a new section)."""

    TYPE = "job.plan_edit_requested"
    outline: list[dict[str, Any]] = Field(default_factory=list)


class PlanEdited(Message):
    """The planner replaced the plan's sections and chunks with the owner's edit; `edits` says
    what changed (renamed, moved, added, removed sections, briefs and budgets), one line each."""

    TYPE = "job.plan_edited"
    sections: int = 0
    chunks_total: int = 0
    planned_words: int = 0
    edits: list[str] = Field(default_factory=list)


class ApprovePlan(Message):
    """The owner approves the plan under review (POST /v1/jobs/{id}/approve): writing starts."""

    TYPE = "job.approve_requested"


class JobApproved(Message):
    TYPE = "job.approved"
    chunks_total: int = 0
    planned_words: int = 0


class CommandRefused(Message):
    """The owner asked for what the job's status does not allow (contracts/jobstate.py), for
    example to cancel a completed job: refused with a 409, and kept in the job's log."""

    TYPE = "job.command_refused"
    command: str  # the command's event type, e.g. job.cancel_requested
    status: str  # the job's status when it was asked
    reason: str


class JobCancelled(Message):
    """The planner stopped the job: no chunk is dispatched any more, and the generator stops
    every write dispatched in `epoch` or before."""

    TYPE = "job.cancelled"
    epoch: int
    chunks_done: int
    words_written: int


class ChunkStopped(Message):
    """A write the generator abandoned because its job was cancelled or deleted; the text drafted
    so far is not kept (its LLM calls are stored), and a resume writes the chunk again."""

    TYPE = "job.chunk_stopped"
    chunk_index: int
    words_discarded: int
    reason: str


class DeleteJob(Message):
    """The owner's hard delete: every service removes the job's rows, the audit service its events."""

    TYPE = "job.delete_requested"


class JobDataDeleted(Message):
    """One service removed a deleted job's rows (in the account's log: the job's is erased)."""

    TYPE = "job.data_deleted"
    job_id: uuid.UUID
    rows: dict[str, int]


class RequestRefused(Message):
    """A request over its rate limit (services/gateway/limiter.py), in the account's log: the first
    few of a minute, each with the count of refusals in that minute so far."""

    TYPE = "request.refused"
    action: str
    client: str
    limit_per_minute: int
    refused_this_minute: int


class JobDeleted(Message):
    """The tombstone in the account's log: the job's events were erased, and how many."""

    TYPE = "job.deleted"
    job_id: uuid.UUID
    title: str
    events_erased: int
    request_event_id: uuid.UUID | None = None  # the owner's job.delete_requested that allowed it
    final_seq: int | None = None  # the erased log's last seq and chain head, so what was erased
    final_hash: str | None = None  # stays provable against a download taken before


class Redelivered(Message):
    """A message is handled again because its earlier delivery was never acknowledged: the
    handler crashed, failed or outlived its ack wait. Handling resumes from what was stored."""

    TYPE = "job.redelivered"
    message_type: str
    message_event_id: uuid.UUID
    delivery: int
    consumer: str


class LlmCalled(Message):
    """One attempt at an LLM call; keys follow the OpenTelemetry GenAI conventions."""

    TYPE = "llm.call"
    KIND = "record"
    attributes: dict[str, str | int | float | bool | None]


class SqlStatement(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    sql: str
    tables: dict[str, str]  # schema.table -> "read" or "write"
    rows: int | None
    duration_ms: float | None  # None only for the outbox write that carries this very event
    error: str | None = None
    executions: int = 1  # a statement run once per row of a batch (executemany) is one entry


RELAY_CONTEXT = "outbox relay"
BOOKKEEPING_CONTEXT = "bookkeeping"  # the audit service's own writes of a batch (the log keeping itself)
VIEWER_CONTEXT = "viewer reads"  # reads made to show a job to its viewer: the account's log, not the job's


class DbQueried(Message):
    """One transaction's statements, in the order they ran. `context` says what ran them when
    it is not a handler or a request: the outbox relay (RELAY_CONTEXT), the audit service
    storing a batch (BOOKKEEPING_CONTEXT), or the gateway reading a job to show it to its owner
    (VIEWER_CONTEXT, in the account's log, naming the job), so a reader can tell the log's upkeep
    and its readers from the job's work."""

    TYPE = "db.query"
    KIND = "record"
    statements: list[SqlStatement]
    context: str = ""
    viewed_job: uuid.UUID | None = None  # VIEWER_CONTEXT: the job these reads showed (who looked at what, when)


class RowInserted(Message):
    """A row a service inserted: its table, primary key and fields (long text as length, sha256
    and preview; secrets redacted), linked to the `db.query` event of its transaction."""

    TYPE = "db.row_inserted"
    table: str
    row_id: dict[str, Any]
    fields: dict[str, Any]
    query_event_id: uuid.UUID


class RowUpdated(Message):
    """A row a service updated: what changed, each column's old and new value (summarised the
    same way)."""

    TYPE = "db.row_updated"
    table: str
    row_id: dict[str, Any]
    changes: dict[str, Any]
    query_event_id: uuid.UUID


class ErrorRaised(Message):
    """A handler or an LLM call raised; logs written before this name were typed `error`."""

    TYPE = "error.raised"
    message: str
    traceback: str = ""
    context: str = ""


class UserCreated(Message):
    TYPE = "user.created"
    name: str


class RetentionPruned(Message):
    """The retention policy removed a finished job's intermediate working state."""

    TYPE = "job.retention_pruned"
    status: str  # completed or failed: which window applied
    older_than: str  # the window, e.g. "2 days, 0:00:00"
    rows: dict[str, int]  # table -> rows deleted
    rows_deleted: int  # their sum (the TXT log shows only flat fields)
    kept: str


ALL: tuple[type[Message], ...] = (
    JobRequested, JobQueued, JobPlanned, WriteChunk, ChunkStarted, ChunkContinued, ChunkProcessed, AssembleDocument,
    DocumentAssembled, ExtendJob, JobExtended, CompleteJob, JobCompleted, JobFailed,
    LlmCalled, DbQueried, RowInserted, RowUpdated, ErrorRaised, UserCreated, ResumeJob, JobResumed,
    Redelivered, CancelJob, JobCancelled, ChunkStopped, DeleteJob, JobDataDeleted, JobDeleted,
    RetentionPruned, SummarizeChunk, ChunkSummarized, RequestRefused, CommandRefused, SourceDivided, NotePassage,
    PassageNoted, PlanReport, PlanProposed, EditPlan, PlanEdited, ApprovePlan, JobApproved,
)
BY_TYPE: dict[str, type[Message]] = {m.TYPE: m for m in ALL}
