"""Drafting a batch's lines before the batch before it commits (services/audit/chains.py): a
draft is taken only where it starts at the seq and links to the hash its stream really has; it
links its lines as the whole-line rule does."""

import json
import uuid

from contracts.auditlog import ZERO_HASH, ChainCheck, linked, numbered
from contracts.envelope import Envelope
from contracts.messages import UserCreated
from services.audit.arrivals import Arrived
from services.audit.chains import Chains, link, taken


def _events(n: int, job: uuid.UUID | None = None) -> list[Arrived]:
    user = uuid.uuid4()
    return [Arrived.of(Envelope.wrap(UserCreated(name=f"user {i}"), service="gateway", job_id=job or uuid.uuid4(),
                                     user_id=user)) for i in range(n)]


def _lines(chain) -> list[dict]:
    return [json.loads(line) for _, line in chain.lines()]


def test_linked_lines_verify_as_a_download_does_from_the_streams_head():
    job = uuid.uuid4()
    first = link(str(job), 1, ZERO_HASH, _events(3, job))
    second = link(str(job), 4, first.hashes[-1], _events(2, job))
    check = ChainCheck()
    check.feed(_lines(first) + _lines(second))
    assert check.verdict(second.hashes[-1], 5).intact
    assert [line["seq"] for line in _lines(second)] == [4, 5]
    assert second.hashes[0] == linked(first.hashes[-1], numbered(second.events[0].halves, 4))


def test_a_draft_starting_where_the_stream_stands_is_taken_and_one_that_does_not_is_made_again():
    job = uuid.uuid4()
    chains = Chains()
    before = link(str(job), 1, ZERO_HASH, _events(2, job))
    chains.made([before])
    events = _events(3, job)
    draft = chains.draft({str(job): events})[str(job)]
    assert (draft.first, draft.before) == (3, before.hashes[-1])
    assert taken(draft, 3, before.hashes[-1], events) is draft
    elsewhere = taken(draft, 7, b"\x01" * 32, events)  # the stream stood elsewhere (another writer, a failure)
    assert elsewhere is not draft and (elsewhere.first, elsewhere.before) == (7, b"\x01" * 32)
    assert elsewhere.hashes[0] == linked(b"\x01" * 32, numbered(events[0].halves, 7))
    assert taken(draft, 3, before.hashes[-1], events[:2]) is not draft  # other events: made again
    assert taken(None, 3, before.hashes[-1], events).hashes == draft.hashes


def test_a_stream_not_known_is_drafted_as_new_and_a_failed_batch_forgets_what_it_would_have_left():
    job = uuid.uuid4()
    chains = Chains()
    assert chains.draft({str(job): _events(1, job)})[str(job)].first == 1
    chains.made([link(str(job), 1, ZERO_HASH, _events(4, job))])
    assert chains.draft({str(job): _events(1, job)})[str(job)].first == 5
    chains.forget()
    assert chains.draft({str(job): _events(1, job)})[str(job)].first == 1
