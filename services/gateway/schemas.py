"""What the API accepts and returns."""

import uuid
from base64 import urlsafe_b64decode, urlsafe_b64encode
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator, model_validator

from contracts.headings import title_from_text
from contracts.messages import MAX_TARGET_WORDS, Mode


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\x00) characters")
    return value


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="", max_length=200)

    _check = field_validator("name")(_no_nul)


class CreatedUser(BaseModel):
    id: uuid.UUID
    token: str


class NewJob(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Mode = Field(
        description="`generate` writes from instructions alone; `rewrite` reworks a source to the target length;"
        " `analyze` writes a report (a critique, a study guide, a risk review) about a source, citing its passages."
    )
    title: str = Field(default="", max_length=300, description="Left empty, the job is named from the first"
                       " sentence of its instructions (at most 10 words).")
    instructions: str = Field(min_length=1, max_length=100_000)
    target_words: StrictInt = Field(ge=1, le=MAX_TARGET_WORDS, description="1 to 500,000 words.")
    model: str | None = Field(default=None, max_length=200)
    headings: StrictBool = Field(
        default=True, description="The plan's section titles as the document's headings (md levels, docx"
        " Heading styles and a table of contents, numbered txt lines); false for flat prose such as a story or a"
        " letter. Headings come on top of the target, which counts body words.")
    review_plan: StrictBool = Field(
        default=False, description="Stop after planning in `awaiting_review`: the owner edits the outline"
        " (PUT /v1/jobs/{id}/plan) and approves it (POST .../approve).")
    source_text: str | None = Field(
        default=None,
        description="rewrite and analyze only: the source as UTF-8 text, at most max_source_bytes (8 MiB by default) and"
        " 500,000 words. Or send the job as multipart/form-data with the source as the file part `source`.",
    )

    @field_validator("instructions")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty or only whitespace")
        return _no_nul(value)

    _titles = field_validator("title", "model")(lambda v: _no_nul(v) if v else v)

    @model_validator(mode="after")
    def _named(self) -> "NewJob":
        """A job without a title is named from its instructions, never a silent "Untitled"."""
        if not self.title.strip():
            self.title = title_from_text(self.instructions, "Untitled")
        return self


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where: `body` and the field's name.")
    msg: str
    type: str


class Refused(BaseModel):
    """How a job's body is refused, whatever the status: FastAPI's own validation error shape, and
    one plain sentence for people (services/gateway/plain.py)."""

    detail: list[FieldError]
    message: str = Field(description="What is wrong and what to do, in a sentence, e.g. \"The source is over"
                         " this server's limit of 8 MB. Split it or condense it first.\"")


class Problem(BaseModel):
    """Every other refusal (401, 403, 404, 409): one human-readable sentence."""

    detail: str


class AcceptedJob(BaseModel):
    id: uuid.UUID
    status: str
    queue_place: int | None = Field(default=None, description="status `queued`: its place in its owner's queue"
                                    " (1: it starts next, when one of the owner's running jobs ends).")


class ModelTokens(BaseModel):
    model: str = Field(description="The model asked for (`gen_ai.request.model` of its `llm.call` events).")
    tokens_in: int
    tokens_out: int
    cached_tokens_in: int = Field(description="Input tokens the provider served from its prompt cache (within"
                                  " `tokens_in`), when it said so.")
    cost_usd: float | None = Field(description="Null when the price table has no price for this model.")


class JobView(BaseModel):
    id: uuid.UUID
    mode: str
    title: str
    model: str | None
    status: str
    target_words: int
    words: int = Field(description="Body words written: what the target counts.")
    heading_words: int = Field(description="Words of the document's headings, on top of `words` (0 until assembled).")
    chunks_done: int
    chunks_total: int
    error: str | None
    queue_place: int | None = Field(default=None, description="While `queued`: its place in its owner's queue"
                                    " (1: next to start); null otherwise.")
    created_at: str = Field(description="When the job was accepted.")
    updated_at: str | None = Field(description="When the job's log last grew (reads of the job are logged too).")
    started_at: str | None = Field(description="When it was planned and writing began; null before.")
    ended_at: str | None = Field(
        description="When it last completed, failed or was cancelled; null while it runs (after a"
        " resume too). Elapsed time is `ended_at` (or now) minus `created_at`.")
    last_seq: int = Field(description="How far the job's audit log reaches: the seq of its last event applied"
                          " to this state (0 before the first).")


class JobDetail(JobView):
    """One job with its progress: what GET /v1/jobs/{job_id} returns."""

    section: str | None = Field(description="The section of the chunk dispatched last: the one being"
                                " written, or where the job stopped. Null before the first chunk.")
    tokens_in: int = Field(description="Input tokens of all the job's LLM calls, as the providers reported.")
    tokens_out: int = Field(description="Output tokens of all the job's LLM calls.")
    passages_total: int = Field(default=0, description="analyze: the passages the source was cut into (0 otherwise).")
    passages_noted: int = Field(default=0, description="analyze: passages noted so far (status `noting` until all are).")
    cost_usd: float | None = Field(
        default=None, description="Estimated cost in USD of all the job's tokens, by the server's price table"
        " (LONGFORM_PRICES), priced when asked. Null when unknown: no price table, or a model without a price.")
    tokens_by_model: list[ModelTokens] = Field(
        default_factory=list, description="The tokens of each model the job's calls used, each with its cost.")


class JobPage(BaseModel):
    jobs: list[JobView]
    next_before: str | None = Field(description="An opaque cursor: pass it as `before` to get the next (older)"
                                    " page; null on the last page.")


_NOT_A_CURSOR = "not a cursor this API made: pass `next_before` of the previous page as is"


def page_cursor(created_at: datetime, job_id: uuid.UUID) -> str:
    """Job History's cursor: the last job of a page, (created_at, id), in a form clients pass back as is."""
    return urlsafe_b64encode(f"{created_at.isoformat()}|{job_id}".encode()).decode().rstrip("=")


def read_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The (created_at, id) of a cursor made by page_cursor; ValueError for anything else."""
    try:
        created_at, job_id = urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|")
        moment, job = datetime.fromisoformat(created_at), uuid.UUID(job_id)
    except ValueError as exc:  # bad base64 and bad UTF-8 are ValueErrors too
        raise ValueError(_NOT_A_CURSOR) from exc
    if moment.tzinfo is None:
        raise ValueError(_NOT_A_CURSOR)
    return moment, job


Cursor = Annotated[str, AfterValidator(read_cursor)]


class AuditVerdict(BaseModel):
    """A job's log checked against its hash chain (GET /v1/jobs/{job_id}/audit/verify)."""

    intact: bool = Field(description="Every event links to the one before, and the last to the stream's head.")
    events: int = Field(description="Events checked.")
    head: str = Field(description="The chain head reached, hex: compare it with one noted earlier (a download,"
                                  " the job page, the anchor published on NATS when the job completed).")
    head_seq: int | None = Field(description="The seq of the stream's head row, as the database keeps it.")
    first_bad_seq: int | None = Field(description="The first seq that breaks the chain; null when intact.")
    reason: str = Field(description="What is wrong there; empty when intact.")


class EstimatedCalls(BaseModel):
    purpose: str = Field(description="outline, note (analyze), write or summarize.")
    model: str = Field(description="The model that would answer them, by this server's settings and the job's `model`.")
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None = Field(description="Null when the price table has no price for the model.")


class JobEstimate(BaseModel):
    """What POST /v1/jobs?dry_run=true answers: the job as it would be planned, nothing stored."""

    dry_run: bool = True
    mode: str
    target_words: int
    source_words: int | None = Field(description="rewrite, analyze: the source's words, as counted on submit.")
    calls: int = Field(description="LLM calls of the plan when every reply is usable at once.")
    input_tokens: int
    output_tokens: int
    cost_usd: float | None = Field(description="Null when unknown: no price table, or a model without a price.")
    by_purpose: list[EstimatedCalls]
    assumptions: dict[str, float] = Field(
        description="The planner's settings and the token assumptions the estimate was made by: tokens per word,"
        " words of each prompt's fixed part and of each reply (contracts/estimate.py).")
    not_counted: str = Field(description="What comes on top of the estimate.")
