"""Postgres's own word against the audit log: a job runs on a Postgres that logs every statement
(log_statement=all), and every statement the services sent appears, with the same SQL text, in
the job's audit log, its owner's account log, or the operators' system stream; the audit
service's own statements as its `bookkeeping` events.

What Postgres logs that no service wrote, and so is not in any audit log, is listed in
`_NOT_THE_SERVICES`: transaction control, asyncpg's own connection reset and type lookups, the
start-up schema check and health check, and the relay's idle sweep (the listed exceptions of
docs/architecture.md, "The audit log")."""

import json
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.dbread import fetch

from longform_cli.embedded import EmbeddedPostgres
from tests.integration.conftest import start_stack

_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \w+\|(?P<app>[^|]*)\|(?P<level>[A-Z]+):  (?P<message>.*)$")
_EXECUTED = re.compile(r"^(?:execute [^:]+|statement): (?P<sql>.*)$", re.S)
_NOT_THE_SERVICES = (
    re.compile(r"^(BEGIN|COMMIT|ROLLBACK)( ISOLATION LEVEL [A-Z ]+)?;?$"),
    re.compile(r"^SELECT pg_advisory_unlock_all\(\); CLOSE ALL; UNLISTEN \*; RESET ALL;$"),  # asyncpg pool release
    re.compile(r"pg_catalog\.pg_type|typinfo", re.I),  # asyncpg's type introspection,
    re.compile(r"set_config\('jit'"),  # with JIT turned off around it
    re.compile(r"^SELECT to_regclass\('longform_meta\.migrations'\)"),  # start-up schema check
    re.compile(r"^SELECT version FROM longform_meta\.migrations$"),
    re.compile(r"^SELECT 1$"),  # health check
    # The outbox relay's idle sweep (a listed exception): the audit service's outbox holds only
    # error reports, so its sweep is always idle; the other services' sweeps carry events here.
    re.compile(r"FROM audit\.outbox WHERE published_at IS NULL"),
)
_SERVICES = ("gateway", "planner", "generator", "assembler", "audit")


# The operators' system stream (what ran for no job or account), read straight from the table.
_SYSTEM_STREAM = ("SELECT json_build_object('type', type, 'service', service, 'data', data)::text AS line"
                  " FROM audit.events WHERE stream_id = 'system'")


@dataclass(frozen=True)
class Logged:
    service: str
    sql: str
    parameters: str


def _normal(sql: str) -> str:
    return " ".join(sql.split())


def statements_logged(path) -> list[Logged]:
    """Each statement Postgres executed for one of the services, with its parameters."""
    records: list[dict] = []
    for line in path.read_text(errors="replace").splitlines():
        match = _RECORD.match(line)
        if match:
            records.append(dict(match.groupdict()))
        elif records:
            records[-1]["message"] += "\n" + line
    logged = []
    for i, record in enumerate(records):
        executed = _EXECUTED.match(record["message"]) if record["level"] == "LOG" else None
        if executed and record["app"] in _SERVICES:
            following = records[i + 1] if i + 1 < len(records) else {}
            parameters = following.get("message", "") if following.get("level") == "DETAIL" else ""
            logged.append(Logged(record["app"], _normal(executed["sql"]), parameters))
    return logged


@pytest.fixture(scope="module")
def logged_stack(nats_url, fake_llm_server):
    # Not pytest's tmp_path: as root, pg_ctl runs as the postgres system user, and a concurrent
    # pytest run re-locks /tmp/pytest-of-<user> to 0700, after which that user could not stop it.
    home = Path(tempfile.mkdtemp(prefix="lf-test-pglog-"))
    postgres = EmbeddedPostgres(home / "pg", fast=True, settings={
        "log_statement": "all", "log_line_prefix": "%m|%a|", "log_parameter_max_length": "-1"})
    llm_env = {"LONGFORM_LLM_PROVIDER": "openai-compatible", "LONGFORM_LLM_BASE_URL": fake_llm_server.openai_base_url,
               "LONGFORM_LLM_MODEL": "fake-writer", "OPENAI_API_KEY": "sk-not-a-secret-here"}
    try:
        postgres.start()
        for stack in start_stack(home / "stack", postgres.url, nats_url, f"lf{secrets.token_hex(4)}", llm_env):
            yield stack, postgres.log_file
    finally:
        postgres.stop()
        shutil.rmtree(home, ignore_errors=True)


_UNPUBLISHED = " UNION ALL ".join(f"SELECT count(*) AS n FROM {s}.outbox WHERE published_at IS NULL"
                                  for s in ("gateway", "planner", "generator", "assembler", "audit"))


def _until_relays_are_done(database_url: str, timeout: float = 30.0) -> None:
    """Every service's outbox published and marked: the relays' last statements (the marking of
    their own reports, which report nothing more) have run, so Postgres's log holds them."""
    deadline = time.monotonic() + timeout
    while any(r["n"] for r in fetch(database_url, _UNPUBLISHED)):
        assert time.monotonic() < deadline, "the relays left events unpublished"
        time.sleep(0.1)


def test_every_statement_postgres_ran_for_the_job_is_in_its_audit_log(logged_stack) -> None:
    stack, log_file = logged_stack
    client = stack.client()
    job_id = client.submit(3000, instructions="A history of the lighthouse keepers' logbooks.")
    assert client.wait(job_id)["status"] == "completed"
    client.document(job_id)
    client.http.get("/v1/jobs").raise_for_status()
    _until_relays_are_done(stack.config.database_url)  # the last relay batches and the download's record
    logged = [s for s in statements_logged(log_file) if not any(p.search(s.sql) for p in _NOT_THE_SERVICES)]
    assert {s.service for s in logged} == set(_SERVICES)

    def recorded() -> list[dict]:
        system = [json.loads(r["line"]) for r in fetch(stack.config.database_url, _SYSTEM_STREAM)]
        return [{**statement, "service": event["service"]}
                for log in (client.audit(job_id), client.account_audit(), system) for event in log
                if event["type"] == "db.query" for statement in event["data"]["statements"]]

    deadline = time.monotonic() + 30
    while True:  # the newest statements' records may still be on their way
        texts = {(r["service"], r["sql"]) for r in recorded()}
        missing = sorted({(s.service, s.sql) for s in logged} - texts)
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert not missing, f"{len(missing)} statement(s) Postgres ran are in no audit log: {missing[:5]}"

    # Counted, not only matched: each statement run with the job's id as a parameter is recorded
    # at least as many times (a batch run with executemany is one entry with its executions).
    final = recorded()
    for service, sql in {(s.service, s.sql) for s in logged if job_id in s.parameters}:
        ran = sum(1 for s in logged if (s.service, s.sql) == (service, sql) and job_id in s.parameters)
        noted = sum(r["executions"] for r in final if (r["service"], r["sql"]) == (service, sql))
        assert noted >= ran, f"{service} ran {sql!r} {ran} times for the job; the log holds {noted}"
    client.close()
