"""At least once, idempotent: every message of a finished job delivered again (the same event ids,
as a redelivery or a publish repeated past JetStream's dedupe window would bring them) changes
nothing: no row of any service's state, no LLM call, no event but the record of the statements
that found each message handled before."""

import asyncio
import uuid

import nats

from contracts.subjects import Subjects
from tests.chaos import verdict

STATE = {  # what each service stored for the job, in a comparable form
    "plan": "SELECT state, epoch, extension_round FROM planner.plans WHERE job_id = $1",
    "planned": "SELECT chunk_index, status, words FROM planner.chunks WHERE job_id = $1 ORDER BY 1",
    "chunks": "SELECT chunk_index, md5(text) FROM generator.chunks WHERE job_id = $1 ORDER BY 1",
    "coherence": "SELECT version, caused_by_chunk FROM generator.coherence WHERE job_id = $1 ORDER BY 1",
    "document": "SELECT md5(body), words, round FROM assembler.documents WHERE job_id = $1",
    "job": "SELECT status, words, chunks_done, chunks_total FROM audit.job_state WHERE job_id = $1",
}


def _state(database_url: str, job_id: str) -> dict:
    job = uuid.UUID(job_id)

    async def read(conn):
        return {name: [tuple(r) for r in await conn.fetch(sql, job)] for name, sql in STATE.items()}

    return verdict.read_db(database_url, read)


def _messages(database_url: str, job_id: str) -> list[tuple[str, str, str]]:
    """(type, event id, payload) of every message the services committed for the job, but the
    audit records of statements and rows (only the audit service reads those)."""
    committed = " UNION ALL ".join(
        f"SELECT id, type, event_id::text, payload::text FROM {s}.outbox WHERE payload->>'job_id' = $1::uuid::text"
        f" AND type NOT LIKE 'db.%'" for s in verdict.OUTBOXES)
    rows = verdict.read_db(database_url, lambda conn: conn.fetch(committed, uuid.UUID(job_id)))
    return [(r["type"], r["event_id"], r["payload"]) for r in rows]


async def _deliver_again(nats_url: str, subjects: Subjects, messages: list[tuple[str, str, str]]) -> None:
    """Each message published again with the same event id; a fresh Nats-Msg-Id gets it past
    JetStream's dedupe, as a repeat after the duplicate window would; then waits until every
    consumer has acknowledged everything (with no messages: until the work under way is done,
    such as the last chunk's summary, which may finish after the job completed)."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for message_type, event_id, payload in messages:
            await js.publish(subjects.of(message_type), payload.encode(),
                             headers={"Nats-Msg-Id": f"again-{event_id}"})
        for _ in range(600):
            infos = await js.consumers_info(subjects.stream)
            if all(i.num_pending == 0 and i.num_ack_pending == 0 for i in infos):
                return
            await asyncio.sleep(0.1)
        raise TimeoutError("the consumers did not handle the repeated messages within 60 s")
    finally:
        await nc.close()


def test_every_message_of_a_job_delivered_twice_changes_nothing(chaos) -> None:
    http = chaos.user()
    job_id = chaos.submit(http, 600)
    assert chaos.wait_until_ended(job_id) == "completed"
    first = chaos.judge(job_id, [])
    assert first.problems() == []
    subjects = Subjects(chaos.config.bus_prefix)
    asyncio.run(_deliver_again(chaos.config.nats_url, subjects, []))
    before, mark = _state(chaos.database_url, job_id), verdict.llm_mark(chaos.llm_root)
    events_before = {e for e in verdict.event_ids(chaos.database_url, job_id)}
    messages = _messages(chaos.database_url, job_id)
    assert {"job.requested", "chunk.write", "chunk.processed", "document.assemble"} <= {m[0] for m in messages}

    asyncio.run(_deliver_again(chaos.config.nats_url, subjects, messages))

    after = chaos.judge(job_id, [])
    assert after.problems() == [] and after.events > first.events  # the repeats were handled and recorded
    assert _state(chaos.database_url, job_id) == before
    assert [r["chunk"] for r in verdict.llm_requests(chaos.llm_root, mark) if job_id in (r["chunk"] or "")] == []
    new_types = {t for e, t in verdict.event_ids(chaos.database_url, job_id).items() if e not in events_before}
    assert new_types <= {"db.query"}, new_types
    http.close()
