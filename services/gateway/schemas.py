"""What the API accepts and returns."""

import uuid

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

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
        description="`generate` writes from instructions alone; `rewrite` reworks a source to the target length."
    )
    title: str = Field(default="Untitled", max_length=300)
    instructions: str = Field(min_length=1, max_length=100_000)
    target_words: StrictInt = Field(ge=1, le=MAX_TARGET_WORDS, description="1 to 500,000 words.")
    model: str | None = Field(default=None, max_length=200)
    source_text: str | None = Field(
        default=None,
        description="rewrite only: the source as UTF-8 text, at most max_source_bytes (8 MiB by default) and"
        " 500,000 words. Or send the job as multipart/form-data with the source as the file part `source`.",
    )

    @field_validator("instructions")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty or only whitespace")
        return _no_nul(value)

    _titles = field_validator("title", "model")(lambda v: _no_nul(v) if v else v)


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where: `body` and the field's name.")
    msg: str
    type: str


class Refused(BaseModel):
    """How a job's body is refused, whatever the status: FastAPI's own validation error shape."""

    detail: list[FieldError]


class Problem(BaseModel):
    """Every other refusal (401, 403, 404, 409): one human-readable sentence."""

    detail: str


class AcceptedJob(BaseModel):
    id: uuid.UUID
    status: str


class JobView(BaseModel):
    id: uuid.UUID
    mode: str
    title: str
    model: str | None
    status: str
    target_words: int
    words: int
    chunks_done: int
    chunks_total: int
    error: str | None
    created_at: str
    updated_at: str | None


class JobPage(BaseModel):
    jobs: list[JobView]
    next_before: str | None = Field(description="Pass as `before` to get the next (older) page.")
