"""The audit service reads a message as the services write it without the envelope model, and
makes its line's halves ahead of its seq (services/audit/arrivals.py). Whatever the message, the
event and its line must be what the model and the whole-line rule (`chained(event_line(...))`)
give: the same fields, the same bytes hashed, the same messages refused."""

import json
import uuid
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.auditlog import chained, event_line, numbered
from contracts.envelope import Envelope
from services.audit.arrivals import arrived

_scalars = (st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
            | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([-0.0, 1e16, 2.5e-7, 1e-5, 1e22])
            | st.text(alphabet=st.characters(blacklist_categories=("Cs",))) | st.sampled_from(["e+5", "1e-07", ".00001"]))
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                             max_size=4), max_leaves=12)
_times = st.builds(lambda t, hours, whole: (t.replace(microsecond=0) if whole else t).replace(
    tzinfo=timezone(timedelta(hours=hours))), st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)),
    st.sampled_from([0, 0, 2, -5]), st.booleans())
_envelopes = st.builds(
    Envelope, event_id=st.uuids(), job_id=st.none() | st.uuids(), user_id=st.none() | st.uuids(),
    type=st.text(min_size=1, max_size=20), service=st.sampled_from(["gateway", "planner", "générateur"]),
    occurred_at=_times, data=st.dictionaries(st.text(max_size=10), _json, max_size=5),
    step=st.none() | st.text(max_size=12))


def _line_by_the_model(envelope: Envelope, seq: int) -> bytes:
    return chained(event_line({"seq": seq, "event_id": envelope.event_id, "job_id": envelope.job_id,
                               "user_id": envelope.user_id, "type": envelope.type, "service": envelope.service,
                               "occurred_at": envelope.occurred_at, "data": envelope.data, "step": envelope.step}))


def _read_both(raw: bytes, seq: int) -> tuple[tuple | None, tuple | None]:
    """What the audit reads of a message, and what the model and the whole-line rule read of it: each is
    the event's fields and its line numbered `seq`, or None where the message is refused."""
    event = arrived(raw)
    ours = None if event is None else (
        event.event_id, event.job_id, event.user_id, event.type, event.service, event.data, event.step,
        event.occurred_at, numbered(event.halves, seq))
    try:
        envelope = Envelope.model_validate_json(raw)
    except ValueError:
        return ours, None
    return ours, (str(envelope.event_id), envelope.job_id, envelope.user_id, envelope.type, envelope.service,
                  envelope.data, envelope.step, envelope.occurred_at, _line_by_the_model(envelope, seq))


@settings(max_examples=400, deadline=None)
@given(_envelopes, st.integers(min_value=1, max_value=10**12))
def test_an_envelope_as_the_services_write_it_gives_the_models_event_and_line(envelope, seq):
    ours, model = _read_both(envelope.model_dump_json().encode(), seq)
    assert model is not None
    assert ours == model


def _written(**changes) -> bytes:
    fields = json.loads(Envelope(event_id=uuid.uuid4(), job_id=uuid.uuid4(), user_id=uuid.uuid4(), type="chunk.write",
                                 service="planner", data={"n": 1.5}, step="chunk:0").model_dump_json())
    fields.update(changes)
    return json.dumps({k: v for k, v in fields.items() if v is not _ABSENT}).encode()


_ABSENT = object()
_OTHERWISE_WRITTEN = [
    _written(event_id="6F1C7D0E-1A8E-4D0B-9A55-3F6B2A1C9E10"),  # upper case: the model takes it
    _written(job_id="6f1c7d0e1a8e4d0b9a553f6b2a1c9e10"),  # no hyphens
    _written(occurred_at="2026-12-05T07:19:03.317260+02:00"),  # another offset
    _written(occurred_at="2026-12-05T05:19:03Z"),  # no fraction
    _written(occurred_at="2026-02-30T05:19:03.000001Z"),  # no such day: refused
    _written(occurred_at=1764912000),  # a number of seconds
    _written(step=_ABSENT),  # a key left out, its default taken
    _written(schema_version="1"),
    _written(schema_version=True),
    _written(extra="no"),  # refused
    _written(type=5),  # refused
    _written(data=[1, 2]),  # refused
    _written(data={"big": 2**80, "tiny": 1e-7}),
    _written(user_id="not an id"),  # refused
    b'{"event_id": "6f1c7d0e-1a8e-4d0b-9a55-3f6b2a1c9e10", "type": "a", "service": "b",'
    b' "occurred_at": "2026-12-05T05:19:03.317260Z"}',  # the rest defaulted
    b'[1, 2, 3]', b'not json', b'',
    _written(data={"s": "\\ud800 alone"}).replace(b"\\\\ud800", b"\\ud800"),  # a lone surrogate
    _written(type="a\ud800b", step="\udfff"),  # lone surrogates where the line has strings only
    _written(type="b").replace(b'"type": "b"', b'"type": "a", "type": "b"'),  # a key twice
]


def test_a_message_written_otherwise_is_read_accepted_and_refused_as_the_model_reads_it():
    read = [_read_both(raw, 7) for raw in _OTHERWISE_WRITTEN]
    for ours, model in read:
        assert ours == model
    assert sum(model is None for _, model in read) >= 8  # the refusals above are refused
