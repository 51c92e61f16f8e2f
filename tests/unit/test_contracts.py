"""The envelope and the messages: the language every service speaks on the bus."""

import uuid

import pydantic
import pytest

from contracts.envelope import SCHEMA_VERSION, Envelope, derived_id
from contracts.messages import ALL, BY_TYPE, MAX_TARGET_WORDS, ChunkProcessed, JobPlanned, JobRequested


def _request(**changes) -> JobRequested:
    fields = dict(mode="generate", title="Harbour", instructions="A story.", target_words=1000)
    return JobRequested(**{**fields, **changes})


def _wrapped(message=None) -> Envelope:
    return Envelope.wrap(message or _request(), service="gateway", job_id=uuid.uuid4(), user_id=uuid.uuid4())


def test_envelope_round_trips_through_json():
    envelope = _wrapped()
    again = Envelope.model_validate_json(envelope.model_dump_json())
    assert again == envelope
    assert again.occurred_at.tzinfo is not None


def test_wrapping_records_the_type_service_ids_and_schema_version():
    job_id, user_id, event_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    envelope = Envelope.wrap(_request(), service="gateway", job_id=job_id, user_id=user_id, event_id=event_id)
    assert (envelope.type, envelope.service, envelope.event_id, envelope.job_id, envelope.user_id) == (
        "job.requested", "gateway", event_id, job_id, user_id)
    assert envelope.schema_version == SCHEMA_VERSION
    assert envelope.data["target_words"] == 1000


def test_wrapping_without_an_event_id_gives_a_fresh_one():
    assert _wrapped().event_id != _wrapped().event_id


def test_payload_gives_back_the_wrapped_message():
    message = _request(model="some-model")
    assert _wrapped(message).payload(JobRequested) == message


def test_payload_refuses_a_model_of_another_type():
    with pytest.raises(ValueError, match="job.requested"):
        _wrapped().payload(JobPlanned)


def test_envelope_is_frozen_and_forbids_extra_fields():
    envelope = _wrapped()
    with pytest.raises(pydantic.ValidationError):
        envelope.type = "job.failed"
    with pytest.raises(pydantic.ValidationError):
        Envelope(event_id=uuid.uuid4(), type="x", service="y", surprise=1)


@pytest.mark.parametrize("message_class", ALL, ids=lambda m: m.__name__)
def test_every_message_is_frozen_and_forbids_extra_fields(message_class):
    assert message_class.model_config["frozen"] is True
    assert message_class.model_config["extra"] == "forbid"


def test_a_message_cannot_be_changed_after_creation():
    message = _request()
    with pytest.raises(pydantic.ValidationError):
        message.target_words = 5


def test_a_message_with_an_unknown_field_is_rejected():
    with pytest.raises(pydantic.ValidationError, match="extra"):
        _request(colour="blue")
    with pytest.raises(pydantic.ValidationError):
        ChunkProcessed(chunk_index=0, target_words=1, output_words=1, passed=True, attempts=1, bonus=True)


@pytest.mark.parametrize("target", [0, -1, MAX_TARGET_WORDS + 1, 2.5])
def test_job_request_rejects_targets_outside_one_to_five_hundred_thousand_or_fractional(target):
    with pytest.raises(pydantic.ValidationError):
        _request(target_words=target)


@pytest.mark.parametrize("target", [1, 500_000])
def test_job_request_accepts_the_limits_of_the_target_range(target):
    assert _request(target_words=target).target_words == target


def test_job_request_rejects_an_unknown_mode():
    with pytest.raises(pydantic.ValidationError):
        _request(mode="summarise")


def test_derived_id_is_the_same_for_the_same_parts():
    cause = uuid.uuid4()
    assert derived_id(cause, "chunk.write", 3) == derived_id(cause, "chunk.write", 3)
    assert isinstance(derived_id(cause), uuid.UUID) and derived_id(cause).version == 5


def test_derived_id_differs_for_different_parts_or_order():
    cause = uuid.uuid4()
    ids = {
        derived_id(cause, "chunk.write", 3), derived_id(cause, "chunk.write", 4),
        derived_id(cause, "job.planned", 3), derived_id(uuid.uuid4(), "chunk.write", 3),
        derived_id("chunk.write", cause, 3), derived_id(cause, "chunk.write"), derived_id(cause, "chunk.write", ""),
    }
    assert len(ids) == 7


def test_derived_id_differs_when_a_separator_moves_between_parts():
    assert derived_id("a/b", "c") != derived_id("a", "b/c")


def test_every_message_type_is_unique():
    types = [m.TYPE for m in ALL]
    assert len(types) == len(set(types))
    assert BY_TYPE == {m.TYPE: m for m in ALL}
    assert len(BY_TYPE) == len(ALL)
