"""Retention (SPEC S1): off by default; when an operator turns it on, the generator prunes the
superseded coherence versions of finished jobs on its schedule, keeps the document and every
event, and records each prune in the job's log."""

import asyncio
import secrets
import uuid

import pytest

from services.common.db import Database
from services.common.migrations import migrate
from services.generator.retention import RetentionSettings, prune_job, sweep
from tests.conftest import fresh_database
from tests.integration.conftest import API_KEY, start_stack
from tests.integration.dbread import fetch


@pytest.fixture(scope="module")
def retention_stack(database_server_url, nats_url, fake_llm_server, tmp_path_factory):
    """A stack of its own whose generator prunes completed jobs a second after they finish."""
    llm_env = {"LONGFORM_LLM_PROVIDER": "openai-compatible", "LONGFORM_LLM_BASE_URL": fake_llm_server.openai_base_url,
               "LONGFORM_LLM_MODEL": "fake-writer", "OPENAI_API_KEY": API_KEY,
               "LONGFORM_RETENTION_COMPLETED_HOURS": "0.0003", "LONGFORM_RETENTION_INTERVAL_SECONDS": "1",
               "LONGFORM_CHUNK_WORDS": "200"}
    with fresh_database(database_server_url) as url:
        yield from start_stack(tmp_path_factory.mktemp("retention"), url, nats_url, f"lf{secrets.token_hex(4)}",
                               llm_env)


def _versions(url: str, job_id: str) -> list:
    return fetch(url, "SELECT version, caused_by_chunk FROM generator.coherence WHERE job_id = $1 ORDER BY version",
                 uuid.UUID(job_id))


def _coherence_inserts(log: list[dict]) -> int:
    return sum(1 for e in log if e["type"] == "db.row_inserted" and e["data"]["table"] == "generator.coherence")


def _expected_kept(versions: list, last_chunk: int) -> set[int]:
    """What a completed job keeps: its latest version and the one its last chunk caused."""
    return {versions[-1]["version"]} | {v["version"] for v in versions if v["caused_by_chunk"] == last_chunk}


def test_a_completed_job_loses_only_its_superseded_working_state_and_the_prune_is_audited(retention_stack):
    client = retention_stack.client()
    url = retention_stack.config.database_url
    job_id = client.submit(1200)
    final = client.wait(job_id)
    assert final["status"] == "completed"
    document = client.document(job_id)
    last_chunk = final["chunks_total"] - 1

    def settled(log: list[dict]) -> bool:
        """Every chunk's version written (the last may land after completion) and pruned down."""
        versions = _versions(url, job_id)
        return (_coherence_inserts(log) == final["chunks_total"]
                and any(e["type"] == "job.retention_pruned" for e in log)
                and {v["version"] for v in versions} == _expected_kept(versions, last_chunk))

    try:
        log = client.audit_until(job_id, settled, timeout=60)
    except AssertionError as exc:
        log = client.audit(job_id)
        raise AssertionError(f"{exc}: {final['chunks_total']} chunks, {_coherence_inserts(log)} versions written, "
                             f"{[dict(v) for v in _versions(url, job_id)]} kept, "
                             f"{[e['data'] for e in log if e['type'] == 'job.retention_pruned']} pruned") from exc
    pruned = [e for e in log if e["type"] == "job.retention_pruned"]
    written, kept = _coherence_inserts(log), _versions(url, job_id)
    assert written >= 3 and len(kept) < written
    assert all(e["service"] == "generator" and e["data"]["status"] == "completed" for e in pruned)
    assert sum(e["data"]["rows"]["generator.coherence"] for e in pruned) == written - len(kept)
    # The DELETE itself is in the job's log, in the same transaction's db.query.
    assert any(e["type"] == "db.query" and e["service"] == "generator"
               and any(s["sql"].startswith("WITH due AS") and "DELETE FROM generator.coherence" in s["sql"]
                       for s in e["data"]["statements"]) for e in log)
    # Kept: every event (seq gapless from 1), the document, the chunks, every LLM call.
    types = [e["type"] for e in log]
    assert [e["seq"] for e in log] == list(range(1, len(log) + 1))
    assert types.index("job.completed") < types.index("job.retention_pruned") and "document.assembled" in types
    assert client.document(job_id) == document and document.strip()
    chunks = fetch(url, "SELECT count(*) AS n FROM generator.chunks WHERE job_id = $1", uuid.UUID(job_id))[0]["n"]
    assert chunks == final["chunks_total"]
    calls = fetch(url, "SELECT count(*) AS n FROM generator.llm_calls WHERE job_id = $1", uuid.UUID(job_id))[0]["n"]
    assert calls == sum(1 for e in log if e["type"] == "llm.call" and e["service"] == "generator")
    client.close()


def test_with_the_policy_off_nothing_is_pruned(stack, client, monkeypatch):
    for name in ("LONGFORM_RETENTION_COMPLETED_HOURS", "LONGFORM_RETENTION_FAILED_DAYS"):
        monkeypatch.delenv(name, raising=False)
    url = stack.config.database_url
    job_id = client.submit(3000)
    final = client.wait(job_id)
    assert final["status"] == "completed" and final["chunks_total"] >= 3
    log = client.audit_until(job_id, lambda log: _coherence_inserts(log) == final["chunks_total"])
    written = len(_versions(url, job_id))
    off = RetentionSettings()
    assert not off.on
    job, user_id = uuid.UUID(job_id), uuid.UUID(log[0]["user_id"])

    async def scenario():
        db = await Database.connect(url, "generator")
        versions = lambda: db.read("SELECT version FROM generator.coherence WHERE job_id = $1", job)  # noqa: E731
        try:
            assert await sweep(db, off) == []
            assert len(await versions()) == written == _coherence_inserts(log)
            # The same job is prunable once a window is set, so "nothing" above is the policy's doing.
            assert not await prune_job(db, job, user_id, (None, None))
            failed_only = RetentionSettings(retention_failed_days=0)
            assert not await prune_job(db, job, user_id, (failed_only.completed_after, failed_only.failed_after))
            assert len(await versions()) == written
            completed_only = RetentionSettings(retention_completed_hours=0)
            assert await prune_job(db, job, user_id, (completed_only.completed_after, completed_only.failed_after))
            assert len(await versions()) < written
        finally:
            await db.close()

    asyncio.run(scenario())
    assert not any(e["type"] == "job.retention_pruned" for e in log)


@pytest.fixture
def finished_job_database(database_server_url):
    """A migrated database of its own (synthetic rows must not reach the stack's projections)."""
    with fresh_database(database_server_url) as url:
        asyncio.run(migrate(url))
        yield url


async def _finished_job(db: Database, status: str, accepted: list[int]) -> uuid.UUID:
    """A job in `status` whose chunks `accepted` were written, each folded into a coherence version."""
    job = uuid.uuid4()
    async with db.pool.acquire() as conn:
        await conn.execute("INSERT INTO audit.job_state (job_id, user_id, status, last_seq) VALUES ($1, $2, $3, 1)",
                           job, uuid.uuid4(), status)
        await conn.execute("INSERT INTO audit.events (stream_id, seq, event_id, job_id, type, service, occurred_at,"
                           " data) VALUES ($1::uuid::text, 1, $2, $1::uuid, $3, 'test', now(), '{}')",
                           job, uuid.uuid4(), f"job.{status}")
        for version, chunk in enumerate(accepted, start=1):
            await conn.execute("INSERT INTO generator.chunks (job_id, chunk_index, text, words, budget_words)"
                               " VALUES ($1, $2, 'text', 1, 1)", job, chunk)
            await conn.execute("INSERT INTO generator.coherence (job_id, version, caused_by_chunk, summary)"
                               " VALUES ($1, $2, $3, 's')", job, version, chunk)
    return job


def test_a_failed_job_keeps_the_version_its_resume_builds_on(finished_job_database):
    async def scenario():
        db = await Database.connect(finished_job_database, "generator")
        try:
            job = await _finished_job(db, "failed", [0, 1, 2, 4])  # chunk 3 failed: its resume waits for 2's version
            assert await sweep(db, RetentionSettings(retention_completed_hours=0)) == []  # a completed window only
            assert await sweep(db, RetentionSettings(retention_failed_days=0)) == [job]
            kept = await db.read("SELECT caused_by_chunk FROM generator.coherence WHERE job_id = $1 ORDER BY 1", job)
            outbox = await db.read("SELECT type, payload FROM generator.outbox ORDER BY id")
            return [r["caused_by_chunk"] for r in kept], outbox
        finally:
            await db.close()

    kept, outbox = asyncio.run(scenario())
    assert kept == [2, 4]
    pruned = [r["payload"] for r in outbox if r["type"] == "job.retention_pruned"]
    assert len(pruned) == 1 and pruned[0]["data"]["rows"] == {"generator.coherence": 2}
    assert pruned[0]["data"]["status"] == "failed"
    statements = [s["sql"] for r in outbox if r["type"] == "db.query" for s in r["payload"]["data"]["statements"]]
    assert any("DELETE FROM generator.coherence" in sql for sql in statements)


def test_two_replicas_sweeping_at_once_prune_a_job_once(finished_job_database):
    async def scenario():
        replicas = [await Database.connect(finished_job_database, "generator") for _ in range(2)]
        try:
            job = await _finished_job(replicas[0], "completed", list(range(6)))
            settings = RetentionSettings(retention_completed_hours=0)
            results = await asyncio.gather(*(sweep(db, settings) for db in replicas))
            events = await replicas[0].read("SELECT payload FROM generator.outbox WHERE type = 'job.retention_pruned'")
            kept = await replicas[0].read("SELECT version FROM generator.coherence WHERE job_id = $1", job)
            return job, results, events, kept
        finally:
            for db in replicas:
                await db.close()

    job, results, events, kept = asyncio.run(scenario())
    assert sorted(results, key=len) == [[], [job]]
    assert len(events) == 1 and events[0]["payload"]["data"]["rows"] == {"generator.coherence": 5}
    assert [r["version"] for r in kept] == [6]
