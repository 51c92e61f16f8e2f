"""The envelope every message on the bus travels in."""

import json
import uuid
from datetime import datetime, timezone
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from contracts.steps import current_step

SCHEMA_VERSION = 1
_ID_NAMESPACE = uuid.UUID("6f1c7d0e-1a8e-4d0b-9a55-3f6b2a1c9e10")


class Message(BaseModel):
    """A payload: an event (past tense), a command (imperative) or a record (llm.call, db.query).
    TYPE names it on the bus, following contracts/README.md; KIND says which of the three it is."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    TYPE: ClassVar[str]
    KIND: ClassVar[str] = "event"


M = TypeVar("M", bound=Message)


def derived_id(*parts: object) -> uuid.UUID:
    """A deterministic id, so a redelivered cause produces the very same effects."""
    return uuid.uuid5(_ID_NAMESPACE, json.dumps([str(p) for p in parts]))


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID
    job_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    type: str
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    service: str
    schema_version: int = SCHEMA_VERSION
    data: dict[str, Any] = Field(default_factory=dict)
    step: str | None = None  # the step of the job it belongs to (contracts/steps.py); None in older events

    @classmethod
    def wrap(
        cls,
        message: Message,
        *,
        service: str,
        job_id: uuid.UUID | None,
        user_id: uuid.UUID | None,
        event_id: uuid.UUID | None = None,
        step: str | None = None,
    ) -> "Envelope":
        """`step`: the one bound for the work in progress (contracts/steps.py) unless given. The
        message was validated when it was made, and its dump is JSON already: the envelope is not
        validated again unless an id came as something other than a UUID."""
        fields = dict(event_id=event_id or uuid.uuid4(), job_id=job_id, user_id=user_id, type=message.TYPE,
                      service=service, data=message.model_dump(mode="json"), step=step or current_step())
        if all(isinstance(v, uuid.UUID) or v is None for v in (event_id, job_id, user_id)):
            return cls.model_construct(**fields)
        return cls(**fields)

    def payload(self, model: type[M]) -> M:
        if model.TYPE != self.type:
            raise ValueError(f"envelope holds {self.type}, not {model.TYPE}")
        return model.model_validate(self.data)
