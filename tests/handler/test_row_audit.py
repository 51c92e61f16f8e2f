"""What a handler's transaction leaves in the audit trail of its rows (SPEC A1, A4): an inserted long
text as its length, hash and preview; an update as each changed column's old and new value; token
counts and timings in the clear; and, in the row audit's SQL, exactly the columns named as secrets
masked (contracts/redact.py SECRET_NAMES, the same list in longform_meta.audit_value)."""

import hashlib

from contracts.messages import ChunkProcessed, JobRequested, WriteChunk
from contracts.redact import MASK, SECRET_NAMES
from services.generator.handlers import write_chunk
from services.planner.handlers import chunk_processed, plan_job
from tests.handler.effects import Job, outbox

AUDITED = ("gateway", "planner", "generator", "assembler")  # the audit schema's own writes are not watched


def rows_of(events, table: str) -> list[dict]:
    return [e.data for e in events if e.data["table"] == table]


async def test_every_audited_column_is_redacted_exactly_when_it_is_named_as_a_secret(owner) -> None:
    """Moved from tests/integration/test_redaction.py, which started the whole stack for a query."""
    columns = await owner.fetch(
        "SELECT table_schema || '.' || table_name AS t, column_name AS c,"
        " longform_meta.audit_value(column_name, to_jsonb('the river'::text)) #>> '{}' AS shown"
        " FROM information_schema.columns WHERE table_schema = ANY($1::text[])", list(AUDITED))
    hidden = {(r["t"], r["c"]) for r in columns if r["shown"] == MASK}
    assert hidden == {(r["t"], r["c"]) for r in columns if r["c"].lower() in SECRET_NAMES}
    assert {c for _, c in hidden} >= {"password_hash", "secret_hash", "token_hash"}
    visible = {r["c"] for r in columns if r["shown"] == "the river"}
    assert {"input_tokens", "output_tokens", "first_token_ms", "latency_ms"} <= visible


async def test_the_sql_list_of_secret_names_is_the_python_one(owner) -> None:
    """Moved from tests/integration/test_redaction.py."""
    names = sorted(SECRET_NAMES) + [n.upper() for n in SECRET_NAMES] + ["input_tokens", "tokens", "secrets"]
    shown = await owner.fetch("SELECT n, longform_meta.audit_value(n, to_jsonb(1)) #>> '{}' AS v"
                              " FROM unnest($1::text[]) n", names)
    assert {r["n"] for r in shown if r["v"] == MASK} == {n for n in names if n.lower() in SECRET_NAMES}


async def test_a_chunks_calls_are_logged_with_their_token_counts_and_timings(generator, owner) -> None:
    """Moved from tests/integration/test_redaction.py (the account's half, a password hash never
    shown, stays there: it is the gateway's sign-up)."""
    ports, job = await generator(), Job()
    await write_chunk(job.envelope(WriteChunk(
        chunk_index=0, section_index=0, section_title="The Saltwater Meander", brief="A river that runs uphill.",
        budget_words=300, title="Imaginary rivers", instructions="A field guide."), "planner"), ports)

    rows = [r["fields"] for r in rows_of(await outbox(owner, "generator", job.job_id, "db.row_inserted"),
                                         "generator.llm_calls")]
    assert rows and all(isinstance(r["input_tokens"], int) and isinstance(r["output_tokens"], int) for r in rows)
    assert all(isinstance(r["latency_ms"], int) for r in rows)
    calls = [e.data["attributes"] for e in await outbox(owner, "generator", job.job_id, "llm.call")]
    assert len(calls) == len(rows) and all(isinstance(c["gen_ai.usage.output_tokens"], int) for c in calls)


async def test_long_text_is_logged_as_length_hash_and_preview(generator, owner) -> None:
    """Moved from tests/integration/test_audit_completeness.py."""
    ports, job = await generator(), Job()
    await write_chunk(job.envelope(WriteChunk(
        chunk_index=0, section_index=0, section_title="The Saltwater Meander", brief="A river that runs uphill.",
        budget_words=400, title="Imaginary rivers", instructions="A field guide."), "planner"), ports)

    text = await owner.fetchval("SELECT text FROM generator.chunks WHERE job_id = $1", job.job_id)
    [inserted] = rows_of(await outbox(owner, "generator", job.job_id, "db.row_inserted"), "generator.chunks")
    assert len(text) > 200
    assert inserted["fields"]["text"] == {"length": len(text), "sha256": hashlib.sha256(text.encode()).hexdigest(),
                                          "preview": text[:200]}


async def test_an_update_says_what_changed_old_and_new(planner, owner) -> None:
    """Moved from tests/integration/test_audit_completeness.py: the planner marks a chunk done."""
    ports, job = await planner(chunk_words=200), Job()
    await plan_job(job.envelope(JobRequested(mode="generate", title="Imaginary rivers", instructions="A field guide.",
                                             target_words=1000), "gateway"), ports)
    [write] = await outbox(owner, "planner", job.job_id, "chunk.write")
    budget = write.data["budget_words"]
    await chunk_processed(job.envelope(ChunkProcessed(chunk_index=0, budget_words=budget, output_words=budget + 7,
                                                      passed=True, attempts=1), "generator"), ports)

    updates = rows_of(await outbox(owner, "planner", job.job_id, "db.row_updated"), "planner.chunks")
    [finished] = [u for u in updates if u["changes"].get("status", {}).get("new") == "done"]
    assert finished["row_id"] == {"job_id": str(job.job_id), "chunk_index": 0}
    assert finished["changes"]["status"] == {"old": "dispatched", "new": "done"}
    assert finished["changes"]["words"] == {"old": None, "new": budget + 7}  # no words before it was written
