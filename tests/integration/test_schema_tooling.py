"""The schema is the operator's (SPEC S4): migrations are the one source of truth for
`longform db schema`, `db migrate`, `db check` and docs/SCHEMA.md; services never migrate."""

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from longform_cli.db_commands import migrations_catalog
from longform_cli.schema_doc import read_catalog
from longform_cli.schema_render import MARKDOWN_COMMAND, as_markdown
from services.common.migrations import available, migrate, scratch_database
from tests.conftest import fresh_database
from tests.integration.dbread import fetch

ROOT = Path(__file__).resolve().parents[2]


def _longform(database_url: str | None, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGFORM_") and k != "DATABASE_URL"}
    if database_url:
        env["DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "-m", "longform_cli", "db", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def _psql() -> str:
    found = shutil.which("psql")
    if found:
        return found
    from pgserver._commands import POSTGRES_BIN_PATH
    return str(Path(POSTGRES_BIN_PATH) / "psql")


def _run_sql_file(database_url: str, sql: str) -> subprocess.CompletedProcess:
    return subprocess.run([_psql(), database_url, "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"], input=sql,
                          capture_output=True, text=True, timeout=120)


def test_docs_schema_md_is_generated_from_the_current_migrations(database_server_url):
    current = asyncio.run(_markdown(database_server_url))
    stored = (ROOT / "docs" / "SCHEMA.md").read_text()
    assert stored == current, f"docs/SCHEMA.md is stale: run `{MARKDOWN_COMMAND}`"


async def _markdown(server_url: str) -> str:
    return as_markdown(await migrations_catalog(server_url))


def test_every_table_and_column_the_migrations_define_is_described(database_server_url):
    catalog = asyncio.run(migrations_catalog(database_server_url))
    assert catalog.undescribed() == [], "describe them with COMMENT ON in a new migration"


def test_a_column_added_without_a_comment_is_caught(database_server_url):
    async def undescribed():
        async with scratch_database(database_server_url) as url:
            await _execute(url, "ALTER TABLE gateway.jobs ADD COLUMN undocumented integer")
            return (await read_catalog(url)).undescribed()

    assert asyncio.run(undescribed()) == ["gateway.jobs.undocumented"]


async def _execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url, statement_cache_size=0)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def test_schema_prints_every_table_with_its_owner_columns_and_purpose(database_server_url):
    catalog = asyncio.run(migrations_catalog(database_server_url))
    shown = _longform(database_server_url, "schema")
    assert shown.returncode == 0, shown.stderr
    for table in catalog.tables.values():
        owner = table.schema if table.schema != "longform_meta" else "operator"
        assert f"{table.qualified}  (owner: {owner})" in shown.stdout
    assert "generator.coherence  (owner: generator)\n  The state carried from chunk to chunk" in shown.stdout
    assert "  budget_words     integer not null [check" in shown.stdout


def test_migrate_applies_every_migration_once_and_records_it(database_server_url):
    with fresh_database(database_server_url) as url:
        first = _longform(url, "migrate")
        second = _longform(url, "migrate")
        ledger = fetch(url, "SELECT version, checksum FROM longform_meta.migrations ORDER BY version")
    assert first.returncode == second.returncode == 0
    assert f"applied {available()[-1].label}" in first.stdout and "schema is current" in first.stdout
    assert "applied" not in second.stdout and "schema is current" in second.stdout
    assert [(r["version"], r["checksum"]) for r in ledger] == [(m.version, m.checksum) for m in available()]


def test_check_passes_on_a_migrated_database_and_names_every_drift(database_server_url):
    with fresh_database(database_server_url) as url:
        asyncio.run(migrate(url))
        clean = _longform(url, "check")
        _run_sql_file(url, """
            ALTER TABLE planner.plans ADD COLUMN extra integer;
            ALTER TABLE generator.stops ALTER COLUMN epoch TYPE bigint;
            ALTER TABLE planner.plans ALTER COLUMN width SET DEFAULT 2;
            ALTER TABLE gateway.jobs ALTER COLUMN model SET NOT NULL;
            ALTER TABLE generator.chunks DROP COLUMN budget_words;
            DROP TABLE planner.stops;
            CREATE TABLE audit.stray (x integer);
            DROP INDEX gateway.jobs_by_user;
            CREATE INDEX plans_by_title ON planner.plans (title);
            DROP VIEW gateway.sources_v1;
            REVOKE SELECT ON generator.chunks_v1 FROM longform_planner;
            UPDATE longform_meta.migrations SET checksum = 'tampered' WHERE version = 3;
            DELETE FROM longform_meta.migrations WHERE version = 11;
        """)
        drifted = _longform(url, "check")
    assert clean.returncode == 0 and "schema matches the migrations" in clean.stdout
    assert drifted.returncode == 1
    for line in ("migration 0011_descriptions_retention not applied (run `longform db migrate`)",
                 "migration 0003_generator was modified after it was applied",
                 "missing table planner.stops", "extra table audit.stray",
                 "extra column planner.plans.extra", "missing column generator.chunks.budget_words",
                 "missing index gateway.jobs_by_user: CREATE INDEX jobs_by_user ON gateway.jobs",
                 "extra index planner.plans_by_title",
                 "generator.stops.epoch: type is bigint, migrations say integer",
                 "planner.plans.width: default is 2, migrations say 1",
                 "gateway.jobs.model: nullability is NOT NULL, migrations say nullable",
                 "missing published view gateway.sources_v1",
                 "published view generator.chunks_v1: shows ['job_id', 'chunk_index', 'text', 'words'] to"
                 " ['longform_assembler', 'longform_gateway'], migrations say ['job_id', 'chunk_index', 'text',"
                 " 'words'] to ['longform_assembler', 'longform_gateway', 'longform_planner']"):
        assert line in drifted.stdout, drifted.stdout


def test_the_sql_an_operator_runs_by_hand_gives_the_migrated_schema(database_server_url):
    sql = _longform(None, "schema", "--sql")
    assert sql.returncode == 0 and "CREATE EXTENSION" not in sql.stdout.upper()
    with fresh_database(database_server_url) as url:
        applied = _run_sql_file(url, sql.stdout)
        assert applied.returncode == 0, applied.stderr
        assert _longform(url, "check").returncode == 0
        again = _run_sql_file(url, sql.stdout)  # stops at the first migration's ledger row
        assert again.returncode != 0 and "migrations_pkey" in again.stderr
        assert _longform(url, "check").returncode == 0


def test_pending_sql_brings_an_older_database_up_to_date(database_server_url):
    with fresh_database(database_server_url) as url:
        asyncio.run(migrate(url, up_to=10))
        sql = _longform(url, "schema", "--sql", "--pending")
        assert "-- 0010_" not in sql.stdout and "-- 0011_descriptions_retention" in sql.stdout
        assert _run_sql_file(url, sql.stdout).returncode == 0
        assert _longform(url, "check").returncode == 0


def test_a_service_refuses_to_start_on_a_schema_that_is_behind(database_server_url):
    with fresh_database(database_server_url) as url:
        asyncio.run(migrate(url, up_to=10))
        env = {k: v for k, v in os.environ.items() if not k.startswith("LONGFORM_")} | {"DATABASE_URL": url}
        started = subprocess.run([sys.executable, "-m", "services.assembler"], cwd=ROOT, env=env,
                                 capture_output=True, text=True, timeout=120)
        tables = fetch(url, "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'assembler'")
    assert started.returncode != 0
    assert "database schema is behind" in started.stderr and "run `longform db migrate`" in started.stderr
    assert "0011_descriptions_retention" in started.stderr
    assert tables[0]["n"] == 5  # as 0010 left it: the service created nothing


@pytest.mark.parametrize("migration", available(), ids=lambda m: m.label)
def test_no_migration_needs_an_extension(migration):
    assert "CREATE EXTENSION" not in migration.sql.upper()
