"""audit.events is partitioned by hash of stream_id (migrations/0040, docs/scaling.md): a job's
log is in one partition, and the gateway's log page and live replay read only that one, whether
the stream id is a literal or a parameter (the gateway's prepared statements); the partitions
keep the log's guards (no TRUNCATE, no grant to any service role)."""

import re
import uuid

import asyncpg
import pytest

from services.audit.store import SEEN
from tests.chaos.verdict import read_db

PARTITIONS = 64
# The gateway's read of a log page and of the live replay (services/gateway/store.py, events_after).
LOG_PAGE = ("SELECT seq, event_id, job_id, user_id, type, service, occurred_at, data, hash, step FROM audit.events_v2"
            " WHERE stream_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")


@pytest.fixture(scope="module")
def finished(stack):
    client = stack.client()
    job_id = client.submit(600)
    assert client.wait(job_id)["status"] == "completed"
    return job_id


def _scanned(plan: str) -> set[str]:
    return set(re.findall(r"\bon (events_p\d\d)\b", plan))


def test_audit_events_is_partitioned_by_hash_of_stream_id(database_url, stack) -> None:
    async def read(conn):
        strategy = await conn.fetchval(
            "SELECT partstrat::text FROM pg_partitioned_table WHERE partrelid = 'audit.events'::regclass")
        key = await conn.fetchval(
            "SELECT a.attname FROM pg_partitioned_table p JOIN pg_attribute a"
            " ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] WHERE p.partrelid = 'audit.events'::regclass")
        count = await conn.fetchval("SELECT count(*) FROM pg_inherits WHERE inhparent = 'audit.events'::regclass")
        return strategy, key, count
    assert read_db(database_url, read) == ("h", "stream_id", PARTITIONS)


def test_a_jobs_log_is_in_one_partition_and_its_page_reads_only_that_one(database_url, finished) -> None:
    stream = str(finished)

    async def read(conn):
        holders = await conn.fetch("SELECT DISTINCT tableoid::regclass::text AS p FROM audit.events WHERE stream_id = $1",
                                   stream)
        literal = "\n".join(r[0] for r in await conn.fetch(
            "EXPLAIN (COSTS OFF) " + LOG_PAGE.replace("$1", f"'{stream}'").replace("$2", "0").replace("$3", "500")))
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        await conn.execute(f"PREPARE page(text, bigint, int) AS {LOG_PAGE}")
        generic = "\n".join(r[0] for r in await conn.fetch(
            f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE page('{stream}', 0, 500)"))
        return [r["p"] for r in holders], literal, generic

    holders, literal, generic = read_db(database_url, read)
    assert len(holders) == 1, holders
    partition = holders[0].removeprefix("audit.")
    assert _scanned(literal) == {partition}, literal
    # A parameter is pruned at execution: the plan keeps every partition and removes the others.
    assert f"Subplans Removed: {PARTITIONS - 1}" in generic, generic
    assert [line for line in generic.splitlines() if "never executed" not in line and partition in line], generic


def test_the_audit_services_redelivery_check_probes_only_each_events_partition(database_url, finished) -> None:
    """Every batch asks which of its events are stored already: one probe per event, in its own
    stream's partition, not a read of all 64 indexes (bench/audit_throughput.py: 4x the Postgres CPU)."""
    stream = str(finished)

    async def read(conn):
        stored = await conn.fetchval("SELECT event_id FROM audit.events WHERE stream_id = $1 AND seq = 1", stream)
        await conn.execute(f"PREPARE seen(text[], uuid[]) AS {SEEN}")
        plan = "\n".join(r[0] for r in await conn.fetch(
            f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE seen(ARRAY['{stream}'],"
            f" ARRAY['{stored}'::uuid])"))
        found = await conn.fetch(SEEN, [stream, stream], [stored, uuid.UUID(int=uuid.UUID(str(stored)).int ^ 1)])
        return stored, plan, [r["event_id"] for r in found]

    stored, plan, found = read_db(database_url, read)
    assert found == [stored]  # the stored one is known, a new one is not
    probed = [line for line in plan.splitlines() if "Index Only Scan" in line and "never executed" not in line]
    assert len(probed) == 1, plan


def test_a_partition_is_guarded_like_the_log(database_url, stack) -> None:
    async def check(conn):
        granted = await conn.fetchval(
            "SELECT count(*) FROM pg_inherits i, unnest(ARRAY['longform_audit', 'longform_gateway', 'longform_planner',"
            " 'longform_generator', 'longform_assembler']) r"
            " WHERE i.inhparent = 'audit.events'::regclass"
            " AND (has_table_privilege(r, i.inhrelid, 'SELECT') OR has_table_privilege(r, i.inhrelid, 'INSERT'))")
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("TRUNCATE audit.events_p00")
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("TRUNCATE audit.events")
        return granted
    assert read_db(database_url, check) == 0
