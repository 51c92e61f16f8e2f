"""An event as the audit service takes it off the bus: the envelope's fields and its line's
canonical text but for the seq (`contracts.auditlog.line_halves`), made while the batch before
is in Postgres (services/common/batches.py decodes the next batch meanwhile), so that numbering,
linking and storing a batch only joins each line's halves around its seq and hashes it.

A message as the services write it (an envelope's JSON dump: exactly its keys, ids and the
time in the form `str(uuid)` and pydantic write them) is read with orjson and checked field by
field; anything else is read by the envelope model itself, so it is accepted, refused and
normalised exactly as before (issue 19: pydantic's validation was 14 us of the audit's
44 us an event, the line 19 us more)."""

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from pydantic import ValidationError

from contracts.auditlog import line_halves, line_time, stream_id
from contracts.envelope import Envelope

_KEYS = frozenset(Envelope.model_fields)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_UTC_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z\Z")
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_NINETEEN_DIGITS = b"0" * 19  # 2**63 has 19 digits; a regex search took 10 times as long


@dataclass(slots=True)
class Arrived:
    """Not changed once made (a frozen dataclass's __init__ cost 3.5 % of the audit's time). Its
    id is kept as its line writes it (asyncpg takes it so for a uuid; a UUID made of each cost
    2.5 %)."""
    event_id: str
    job_id: uuid.UUID | None
    user_id: uuid.UUID | None
    type: str
    service: str
    occurred_at: datetime
    data: dict[str, Any]
    step: str | None
    stream: str
    halves: tuple[bytes, bytes]

    @classmethod
    def made(cls, event_id: uuid.UUID | str, job_id: uuid.UUID | None, user_id: uuid.UUID | None, type: str,
             service: str, occurred_at: datetime, data: dict[str, Any], step: str | None) -> "Arrived":
        """An event made or validated here (the audit's own, a message read by the model)."""
        event_id = str(event_id)
        halves = line_halves(data=data, event_id=event_id, job_id=str(job_id) if job_id else None,
                             service=service, ts=line_time(occurred_at), type=type,
                             user_id=str(user_id) if user_id else None, step=step)
        return cls(event_id, job_id, user_id, type, service, occurred_at, data, step, stream_id(job_id, user_id),
                   halves)

    @classmethod
    def of(cls, e: Envelope) -> "Arrived":
        return cls.made(e.event_id, e.job_id, e.user_id, e.type, e.service, e.occurred_at, e.data, e.step)


def arrived(raw: bytes) -> Arrived | None:
    """The message as an event, or None if it is not an envelope."""
    try:
        if raw.translate(_DIGITS_AS_ZERO).find(_NINETEEN_DIGITS) >= 0:
            raise _NotAsWritten  # perhaps an integer past 64 bits, which orjson reads as a float
        return _as_written(orjson.loads(raw))
    except (orjson.JSONDecodeError, _NotAsWritten):
        try:
            return Arrived.of(Envelope.model_validate_json(raw))
        except ValidationError:
            return None


class _NotAsWritten(Exception):
    """Valid or not, the message is not as the services write one: the envelope model reads it."""


def _as_written(d: Any) -> Arrived:
    if type(d) is not dict or d.keys() != _KEYS:
        raise _NotAsWritten
    event_id, job_id, user_id, ts = d["event_id"], d["job_id"], d["user_id"], d["occurred_at"]
    kind, service, data, step = d["type"], d["service"], d["data"], d["step"]
    if not (type(event_id) is str and _UUID.match(event_id) and _is_id(job_id) and _is_id(user_id)
            and type(ts) is str and _UTC_TIME.match(ts) and type(kind) is str and type(service) is str
            and type(data) is dict and (step is None or type(step) is str) and type(d["schema_version"]) is int):
        raise _NotAsWritten
    try:
        occurred_at = datetime.fromisoformat(ts)
    except ValueError:  # a date that does not exist: the model says so
        raise _NotAsWritten from None
    # `line_time(occurred_at)` of a time written so: the same digits, "+00:00" for "Z"
    halves = line_halves(data=data, event_id=event_id, job_id=job_id, service=service, ts=ts[:-1] + "+00:00",
                         type=kind, user_id=user_id, step=step)
    return Arrived(event_id, _known_id(job_id), _known_id(user_id), kind, service, occurred_at, data,
                   step, stream_id(job_id, user_id), halves)


def _is_id(value: Any) -> bool:
    """None, or an id as `str(uuid)` writes it (a job's or an account's: the same few recur in
    every batch, so each is checked once)."""
    return value is None or (type(value) is str and _known_id(value) is not None)


@lru_cache(maxsize=65536)
def _known_id(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value and _UUID.match(value) else None
