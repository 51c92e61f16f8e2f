"""The audit service's handler on a real database: a batch of events is persisted in its order,
each job's with gapless seqs and the batch's own `db.query` after them, the job's state is folded
from them, each persisted line is fanned out live; a batch seen before (a redelivery) or an event
twice in one batch is stored once."""

import asyncio
import json

import nats
import pytest

from contracts.messages import ChunkProcessed, JobPlanned, JobRequested, WriteChunk
from contracts.subjects import Subjects
from contracts.auditlog import ChainCheck, event_line
from services.audit.chains import Chains, link
from services.audit.handlers import drafted, record_events
from tests.handler.effects import Job, off_the_bus


def journey(job: Job) -> list:
    """The first events of a job, as the services that own them emit them, taken off the bus."""
    write = WriteChunk(chunk_index=0, section_index=0, section_title="The Saltwater Meander", brief="A river.",
                       target_words=300, title="Imaginary rivers", instructions="A field guide.")
    return off_the_bus([
        job.envelope(JobRequested(mode="generate", title="Imaginary rivers", instructions="A field guide.",
                                  target_words=600), "gateway"),
        job.envelope(JobPlanned(sections=1, chunks_total=2, planned_words=600, outline_source="llm"), "planner"),
        job.envelope(write, "planner"),
        job.envelope(ChunkProcessed(chunk_index=0, target_words=300, output_words=310, passed=True, attempts=1),
                     "generator"),
    ])


async def stored(owner, job: Job) -> list:
    return await owner.fetch("SELECT seq, event_id, type, service FROM audit.events WHERE stream_id = $1"
                             " ORDER BY seq", str(job.job_id))


@pytest.fixture
async def live(nats_url, bus_prefix):
    """`await live(job)`: a subscription to the job's live lines, as the gateway's feed listens."""
    nc = await nats.connect(nats_url)

    async def listen(job: Job):
        return await nc.subscribe(Subjects(bus_prefix).live(str(job.job_id)))

    yield listen
    await nc.close()


async def test_a_batch_is_stored_in_order_with_its_own_statements_after_it_and_the_state_folded(audit, owner):
    job = Job()
    batch = journey(job)
    await record_events(batch, audit)

    rows = await stored(owner, job)
    assert [r["seq"] for r in rows] == list(range(1, len(batch) + 2))
    assert [str(r["event_id"]) for r in rows[:-1]] == [e.event_id for e in batch]
    assert (rows[-1]["type"], rows[-1]["service"]) == ("db.query", "audit")  # the batch's bookkeeping, in its log
    state = await owner.fetchrow("SELECT * FROM audit.job_state WHERE job_id = $1", job.job_id)
    assert {k: state[k] for k in ("status", "title", "target_words", "chunks_total", "chunks_done", "words",
                                  "last_seq")} == {
        "status": "writing", "title": "Imaginary rivers", "target_words": 600, "chunks_total": 2,
        "chunks_done": 1, "words": 310, "last_seq": len(batch) + 1}


async def test_each_persisted_line_is_fanned_out_live_in_seq_order(audit, owner, live):
    job = Job()
    listening = await live(job)
    await record_events(journey(job), audit)

    rows = await stored(owner, job)
    lines = []
    while len(lines) < len(rows):  # a batch's lines of a stream come in one message, one a row
        lines += [json.loads(line) for line in (await listening.next_msg(timeout=10)).data.split(b"\n")]
    assert [(line["seq"], line["event_id"]) for line in lines] == [(r["seq"], str(r["event_id"])) for r in rows]


async def test_a_redelivered_batch_is_stored_once(audit, owner):
    job = Job()
    batch = journey(job)
    await record_events(batch, audit)
    before = await stored(owner, job)
    await record_events(batch, audit)
    assert await stored(owner, job) == before
    assert await owner.fetchval("SELECT last_seq FROM audit.job_state WHERE job_id = $1", job.job_id) == len(before)


async def test_a_batch_holding_events_stored_before_and_new_ones_stores_each_once_in_order(audit, owner):
    """A relay's resend after the bus's duplicate window is delivered as new: the batch is taken
    for new, refused by the table's key, and written again with each event looked up."""
    job = Job()
    batch = journey(job)
    await record_events(batch[:2], audit)
    await record_events(batch, audit)
    rows = await stored(owner, job)
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    assert [str(r["event_id"]) for r in rows if r["service"] != "audit"] == [e.event_id for e in batch]
    assert [r["service"] for r in rows].count("audit") == 2  # each batch's bookkeeping, once
    assert await owner.fetchval("SELECT words FROM audit.job_state WHERE job_id = $1", job.job_id) == 310


async def test_an_event_twice_in_one_batch_is_stored_once_and_counted_once(audit, owner):
    job = Job()
    batch = journey(job)
    await record_events(batch + batch[-1:], audit)
    rows = await stored(owner, job)
    assert [str(r["event_id"]) for r in rows[:-1]] == [e.event_id for e in batch]
    assert await owner.fetchval("SELECT words FROM audit.job_state WHERE job_id = $1", job.job_id) == 310


async def test_a_batch_of_several_jobs_keeps_each_jobs_stream_gapless(audit, owner):
    first, second = Job(), Job()
    a, b = journey(first), journey(second)
    await record_events([e for pair in zip(a, b) for e in pair], audit)
    await record_events(journey(first)[3:], audit)  # a later chunk report of the first job
    assert [r["seq"] for r in await stored(owner, first)] == list(range(1, len(a) + 4))
    assert [r["seq"] for r in await stored(owner, second)] == list(range(1, len(b) + 2))


async def _chain_holds(owner, job: Job) -> bool:
    rows = await owner.fetch("SELECT * FROM audit.events WHERE stream_id = $1 ORDER BY seq", str(job.job_id))
    head = await owner.fetchrow("SELECT head, last_seq FROM audit.stream_heads WHERE stream_id = $1", str(job.job_id))
    check = ChainCheck()
    check.feed([event_line(r) for r in rows])
    return check.verdict(head["head"], head["last_seq"]).intact


async def test_a_batch_drafted_while_the_one_before_is_written_is_linked_to_it(audit, owner):
    job = Job()
    first, second = journey(job), journey(job)[2:]
    writing = asyncio.ensure_future(record_events(first, audit))
    await asyncio.sleep(0)  # one turn of the loop: the batch starts, as batches.py starts it before the pull ahead
    assert not audit.chains.settled.is_set()
    ahead = await drafted(second, audit.chains)  # waits until the first batch has made its lines
    await writing
    assert ahead.drafts[str(job.job_id)].first == len(first) + 2  # after the first batch and its bookkeeping
    await record_events(ahead.events, audit, ahead.drafts)
    assert [r["seq"] for r in await stored(owner, job)] == list(range(1, len(first) + len(second) + 3))
    assert await _chain_holds(owner, job)


async def test_a_batch_drafted_after_one_that_failed_is_linked_where_its_stream_stands(audit, owner):
    """The batch before made its lines, so the next was drafted to follow them, but it failed (or
    another writer took over): the stream stands before them, and the next batch's lines are
    made again from there."""
    job = Job()
    await record_events(journey(job), audit)
    failed = Chains()
    failed.made([link(str(job.job_id), 6, b"\x07" * 32, journey(job))])  # a batch never stored
    later = journey(job)[2:]
    stale = await drafted(later, failed)
    assert stale.drafts[str(job.job_id)].first == 10
    await record_events(stale.events, audit, stale.drafts)
    assert [r["seq"] for r in await stored(owner, job)] == list(range(1, len(later) + 7))
    assert await _chain_holds(owner, job)
