"""Job History a page at a time: GET /v1/jobs pages by an opaque cursor, (created_at, id) of the
last job shown, so every job comes exactly once, newest first, even jobs created in the same
microsecond; each page is one range of the index gateway.jobs_by_user."""

import uuid
from datetime import datetime, timedelta, timezone

import asyncpg

from services.common.db import Database, Reads
from services.common.migrations import migrate
from services.gateway import store
from services.gateway.schemas import page_cursor, read_cursor
from tests.conftest import fresh_database


def pages(client, limit: int) -> list[list[str]]:
    """Every page of the caller's Job History, following next_before to the end."""
    seen, before = [], None
    while True:
        answer = client.http.get("/v1/jobs", params={"limit": limit} | ({"before": before} if before else {}))
        assert answer.status_code == 200, answer.text
        page = answer.json()
        seen.append([job["id"] for job in page["jobs"]])
        before = page["next_before"]
        if before is None:
            return seen


def test_paging_with_a_small_limit_gives_every_job_once_newest_first(client, query) -> None:
    submitted = [client.submit(1, title=f"Lock {n}") for n in range(7)]
    shown = pages(client, 3)
    assert [len(page) for page in shown] == [3, 3, 1]  # no empty page after the last job
    stored = query("SELECT id FROM gateway.jobs WHERE id = ANY($1::uuid[]) ORDER BY created_at DESC, id DESC",
                   [uuid.UUID(j) for j in submitted])
    assert sum(shown, []) == [str(r["id"]) for r in stored] == submitted[::-1]


def test_a_cursor_the_api_did_not_make_is_refused_with_its_field(client) -> None:
    for cursor in ("yesterday", "2026-01-01T00:00:00+00:00", "w6k"):
        refused = client.http.get("/v1/jobs", params={"before": cursor})
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"] == ["query", "before"]


async def test_jobs_created_in_the_same_microsecond_are_neither_skipped_nor_repeated(database_server_url) -> None:
    """In a database of its own, where the test can give jobs the same created_at."""
    with fresh_database(database_server_url) as url:
        await migrate(url)
        user = uuid.uuid4()
        moment = datetime(2026, 5, 1, 12, tzinfo=timezone.utc)
        created = [moment + timedelta(seconds=1)] + [moment] * 5 + [moment - timedelta(seconds=1)]
        jobs = [(uuid.uuid4(), at) for at in created]
        pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
        try:
            await _store_jobs(pool, user, jobs)
            reads = Reads(Database(pool, "gateway"), None, user)
            shown = await _all_pages(reads, user, limit=2)
            plan = await _plan(pool, reads.statements[-1].sql, user, moment, jobs[3][0], 3)
        finally:
            await pool.close()
    newest_first = sorted(jobs, key=lambda job: (job[1], job[0]), reverse=True)
    assert shown == [job_id for job_id, _ in newest_first]
    scan = next(n for n, line in enumerate(plan) if line.startswith("Index Scan using jobs_by_user on jobs j"))
    assert "ROW(created_at, id) < ROW(" in plan[scan + 1]
    assert not any(line.startswith(("Sort", "Incremental Sort")) for line in plan)  # the index gives the order


async def _store_jobs(pool: asyncpg.Pool, user: uuid.UUID, jobs: list[tuple[uuid.UUID, datetime]]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("INSERT INTO gateway.users (id, name) VALUES ($1, 'pager')", user)
        await conn.executemany(
            "INSERT INTO gateway.jobs (id, user_id, mode, title, instructions, target_words, created_at)"
            " VALUES ($1, $2, 'generate', 'Weir', 'Rivers.', 100, $3)", [(j, user, at) for j, at in jobs])
        await conn.execute("ANALYZE gateway.jobs")


async def _all_pages(reads: Reads, user: uuid.UUID, limit: int) -> list[uuid.UUID]:
    shown, before = [], None
    while True:
        rows, more = await store.job_page(reads, user, before, limit)
        shown += [row["id"] for row in rows]
        if not more:
            return shown
        before = read_cursor(page_cursor(rows[-1]["created_at"], rows[-1]["id"]))  # as a client passes it back


async def _plan(pool: asyncpg.Pool, sql: str, *args) -> list[str]:
    """The plan's lines, with the table scan ruled out: can an index serve the query in its order?"""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL enable_seqscan = off")
        return [line.strip().removeprefix("->").strip() for (line,) in await conn.fetch("EXPLAIN " + sql, *args)]
