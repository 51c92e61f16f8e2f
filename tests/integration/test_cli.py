"""The `longform` client commands, run as a user runs them (a subprocess) against the session's
stack: sign in with a password, submit and follow a job, list, inspect, download, cancel, resume
and delete it, and clear failures when something is wrong."""

import json
import os
import re
import secrets
import stat
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import pytest

from contracts.outline import walk
from longform_cli.embedded import free_port
from tests.integration.client import ApiClient
from tests.integration.chain import tampered
from tests.reader import read_markdown

SLOW_MODEL = "fake/latency:seconds=1"


@dataclass
class Cli:
    env: dict
    config_home: object

    def __call__(self, *args: str, input: str | None = None, **env) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "longform_cli", *args], input=input, text=True,
                              capture_output=True, env=self.env | env, timeout=240)


@pytest.fixture(scope="module")
def account(stack):
    email, password = f"cli-{secrets.token_hex(6)}@example.org", f"pw-{secrets.token_urlsafe(16)}"
    ApiClient.with_password(stack.config.gateway_url, email, password).close()
    return email, password


@pytest.fixture(scope="module")
def cli(stack, account, tmp_path_factory) -> Cli:
    """Signed in by `longform login`, answering its questions on stdin."""
    home = tmp_path_factory.mktemp("config")
    env = {k: v for k, v in os.environ.items() if k not in ("LONGFORM_URL", "LONGFORM_TOKEN")}
    command = Cli(env | {"XDG_CONFIG_HOME": str(home)}, home)
    email, password = account
    signed_in = command("login", input=f"{stack.config.gateway_url}\n{email}\n{password}\n")
    assert signed_in.returncode == 0, signed_in.stderr
    return command


@pytest.fixture(scope="module")
def api(stack, cli) -> ApiClient:
    """The API as the CLI's own token sees it."""
    saved = json.loads((cli.config_home / "longform" / "config.json").read_text())
    return ApiClient(stack.config.gateway_url, saved["token"])


@pytest.fixture(scope="module")
def followed(cli) -> tuple[str, subprocess.CompletedProcess]:
    submitted = cli("submit", "--follow", "--target", "400", "--title", "River essay",
                    "--instructions", "An essay about rivers.")
    return submitted.stdout.splitlines()[0], submitted


def test_login_keeps_a_working_token_in_a_private_config_file(stack, cli, account) -> None:
    path = cli.config_home / "longform" / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = json.loads(path.read_text())
    assert saved["url"] == stack.config.gateway_url
    me = httpx.get(f"{stack.config.gateway_url}/v1/me", headers={"Authorization": f"Bearer {saved['token']}"})
    assert me.json()["email"] == account[0]
    tokens = httpx.get(f"{stack.config.gateway_url}/v1/tokens", headers={"Authorization": f"Bearer {saved['token']}"})
    assert any(t["name"].startswith("longform CLI on ") for t in tokens.json()["tokens"])


def test_login_with_a_wrong_password_fails_and_says_why(stack, cli, account) -> None:
    result = cli("login", "--url", stack.config.gateway_url, "--email", account[0], "--password-stdin",
                 input="not-the-password\n", XDG_CONFIG_HOME=str(cli.config_home / "elsewhere"))
    assert result.returncode == 1
    assert "wrong email or password" in result.stderr
    assert not (cli.config_home / "elsewhere" / "longform" / "config.json").exists()


def test_submit_follow_shows_the_audit_log_until_the_job_completes(followed, api) -> None:
    job_id, submitted = followed
    assert submitted.returncode == 0, submitted.stderr
    uuid.UUID(job_id)
    assert "job.requested" in submitted.stderr and "job.completed" in submitted.stderr
    assert "completed:" in submitted.stderr and "words" in submitted.stderr
    job = api.job(job_id)
    assert job["status"] == "completed" and job["title"] == "River essay" and job["target_words"] == 400


def test_jobs_and_status_show_the_job(cli, followed) -> None:
    job_id, _ = followed
    listed = cli("jobs")
    assert listed.returncode == 0 and job_id in listed.stdout and "completed" in listed.stdout
    status = cli("status", job_id)
    assert status.returncode == 0
    fields = dict(line.split(None, 1) for line in status.stdout.splitlines())
    assert fields["id"] == job_id and fields["status"] == "completed" and fields["title"] == "River essay"


def test_jobs_pages_through_every_job_once_newest_first(cli, api) -> None:
    for _ in range(2):
        api.submit(20)
    everyone = [job["id"] for job in api.http.get("/v1/jobs", params={"limit": 200}).json()["jobs"]]
    seen, args = [], ["jobs", "--limit", "1"]
    while True:
        page = cli(*args)
        assert page.returncode == 0, page.stderr
        seen += [job_id for job_id in everyone if job_id in page.stdout]
        hint = re.search(r"older jobs: longform jobs --before (\S+)", page.stderr)
        if hint is None:
            break
        args = ["jobs", "--limit", "1", "--before", hint.group(1)]
    assert len(everyone) >= 3 and seen == everyone


def test_status_shows_tokens_section_and_times_as_the_services_stored_them(cli, followed, api, query) -> None:
    """Tokens are the sums of the provider-reported usage the planner and generator stored; the
    section is one of those the planner dispatched last; the times are those of the job's events."""
    job_id, _ = followed
    fields, job, used = _settled_usage(cli, api, query, job_id)
    assert used["tokens_in"] > 0 and (job["tokens_in"], job["tokens_out"]) == (used["tokens_in"], used["tokens_out"])
    last = query("SELECT s.path FROM planner.chunks c JOIN planner.sections s USING (job_id, section_index)"
                 " WHERE c.job_id = $1 AND c.dispatched_at = (SELECT max(dispatched_at) FROM planner.chunks"
                 " WHERE job_id = $1)", uuid.UUID(job_id))
    assert job["section"] in {r["path"] for r in last}
    events = {r["type"]: r["occurred_at"] for r in query(
        "SELECT type, occurred_at FROM audit.events WHERE job_id = $1 AND type IN ('job.planned', 'job.completed')",
        uuid.UUID(job_id))}
    times = {k: datetime.fromisoformat(job[k]) for k in ("created_at", "started_at", "ended_at")}
    assert (times["started_at"], times["ended_at"]) == (events["job.planned"], events["job.completed"])
    assert times["created_at"] <= times["started_at"] <= times["ended_at"]
    for key in ("tokens_in", "tokens_out", "section", "started_at", "ended_at"):
        assert fields[key] == str(job[key])
    assert fields["elapsed"] == str(timedelta(seconds=round((times["ended_at"] - times["created_at"]).total_seconds())))


def test_status_says_the_cost_is_unknown_without_a_price_table(cli, followed) -> None:
    job_id, _ = followed
    fields = dict(line.split(None, 1) for line in cli("status", job_id).stdout.splitlines())
    assert fields["cost_usd"] == "unknown"  # the suite's gateway has no LONGFORM_PRICES
    assert fields["tokens_by_model"].startswith("fake-writer ") and fields["tokens_by_model"].endswith("(USD unknown)")


def test_submit_dry_run_prints_the_estimate_and_submits_nothing(cli, api) -> None:
    def job_ids() -> list[str]:
        return [job["id"] for job in api.http.get("/v1/jobs", params={"limit": 200}).json()["jobs"]]

    before = job_ids()
    estimated = cli("submit", "--dry-run", "--target", "5000", "--instructions", "An essay about rivers.")
    assert estimated.returncode == 0, estimated.stderr
    rows = {line.split()[0]: line.split() for line in estimated.stdout.splitlines()[1:]}
    # Nine chunks, one call each, their summaries in their replies; and the outline.
    assert rows["write"][1:3] == ["fake-writer", "9"] and rows["total"][1] == "10" and rows["total"][-1] == "unknown"
    assert "summarize" not in rows
    assert "nothing submitted" in estimated.stderr
    assert job_ids() == before
    refused = cli("submit", "--dry-run", "--target", "0", "--instructions", "An essay about rivers.")
    assert refused.returncode != 0 and "target_words" in refused.stderr


def _settled_usage(cli, api, query, job_id: str, timeout: float = 60.0) -> tuple[dict, dict, dict]:
    """`longform status`, the API's job and the stored usage once they agree: the last chunk's
    summary is an LLM call that may still be under way when the job has completed."""
    deadline = time.monotonic() + timeout
    while True:
        fields = dict(line.split(None, 1) for line in cli("status", job_id).stdout.splitlines())
        job = api.job(job_id)
        used = query("SELECT sum(input_tokens) AS tokens_in, sum(output_tokens) AS tokens_out FROM (SELECT"
                     " input_tokens, output_tokens FROM planner.llm_calls WHERE job_id = $1 UNION ALL SELECT"
                     " input_tokens, output_tokens FROM generator.llm_calls WHERE job_id = $1) calls",
                     uuid.UUID(job_id))[0]
        agreed = fields["tokens_in"] == str(job["tokens_in"]) == str(used["tokens_in"])
        if agreed or time.monotonic() > deadline:
            return fields, job, used
        time.sleep(0.3)


def test_document_prints_or_writes_the_document(cli, followed, api, tmp_path) -> None:
    job_id, _ = followed
    printed = cli("document", job_id)
    assert printed.returncode == 0 and printed.stdout == api.document(job_id)
    target = tmp_path / "doc.txt"
    written = cli("document", job_id, "-o", str(target))
    assert written.returncode == 0 and target.read_text() == api.document(job_id)
    assert str(target) in written.stderr
    partial = cli("document", job_id, "--partial", "--format", "md")
    assert partial.returncode == 0 and partial.stdout.split("\n")[2].startswith("> Partial: ")
    assert read_markdown(partial.stdout).headings == read_markdown(cli("document", job_id, "--format", "md").stdout).headings


def test_llm_call_prints_a_call_whole(cli, followed, api) -> None:
    job_id, _ = followed
    line = next(e for e in api.audit(job_id) if e["type"] == "llm.call"
                and e["data"]["attributes"]["longform.purpose"] == "write")
    printed = cli("llm-call", job_id, str(line["seq"]))
    call = api.http.get(f"/v1/jobs/{job_id}/llm-calls/{line['seq']}").json()
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.startswith(f"LLM call at seq {line['seq']}: generator, write, chunk ")
    assert f"decision: {call['decision']}" in printed.stdout
    assert f"--- prompt ---\n{call['prompt'].rstrip()}\n--- reply" in printed.stdout
    as_json = cli("llm-call", job_id, str(line["seq"]), "--json")
    assert json.loads(as_json.stdout) == call
    first = api.audit(job_id)[0]["seq"]
    missing = cli("llm-call", job_id, str(first))
    assert missing.returncode == 1 and f"no LLM call at seq {first}" in missing.stderr


def test_audit_downloads_and_follows_the_log(cli, followed, api) -> None:
    job_id, _ = followed
    before = api.audit(job_id)
    ndjson = cli("audit", job_id)
    assert ndjson.returncode == 0
    lines = [json.loads(line) for line in ndjson.stdout.splitlines()]
    assert lines[:len(before)] == before  # the downloads themselves add their reads to the log
    as_json = cli("audit", job_id, "--format", "json")
    assert json.loads(as_json.stdout)[:len(before)] == before
    followed_text = cli("audit", job_id, "--follow", "--format", "txt")
    assert followed_text.returncode == 0
    text = followed_text.stdout.splitlines()
    assert len(text) >= len(before) and "job.completed" in followed_text.stdout
    assert [line.split()[1] for line in text[:3]] == ["#1", "#2", "#3"]


def test_audit_verify_recomputes_the_chain_here_and_names_an_edit(cli, api, database_url) -> None:
    job_id = api.submit(60)
    assert api.wait(job_id)["status"] == "completed"
    intact = cli("audit", "verify", job_id)
    assert intact.returncode == 0 and f"{job_id}: chain intact" in intact.stdout, intact.stderr
    seq = tampered(database_url, "UPDATE audit.events SET data = '{}' WHERE stream_id = $1 AND seq = (SELECT min(seq)"
                   " FROM audit.events WHERE stream_id = $1 AND type = 'db.query' AND seq > 2) RETURNING seq", job_id)
    broken = cli("audit", "verify", job_id)
    assert broken.returncode == 1 and f"{job_id}: chain broken at seq {seq}" in broken.stdout
    assert cli("audit", "verify").returncode != 0  # no job named


def test_audit_system_is_for_operators_only(cli) -> None:
    refused = cli("audit", "system")
    assert refused.returncode != 0 and "the system log is for operators" in refused.stderr


def test_submit_a_rewrite_from_a_source_file(cli, api, tmp_path) -> None:
    source = tmp_path / "source.txt"
    source.write_text("The river rose in the hills and ran down to the sea. " * 40)
    submitted = cli("submit", "--source", str(source), "--target", "300", "--instructions", "Make it shorter.")
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.strip()
    job = api.job(job_id)
    assert job["mode"] == "rewrite"
    requested = api.audit_until(job_id, lambda log: any(e["type"] == "job.requested" for e in log))  # it travels
    assert any(e["type"] == "job.requested" and e["data"]["source_words"] == 480 for e in requested)


def test_submit_an_analysis_of_a_source_file_and_see_its_passages_noted(cli, api, tmp_path) -> None:
    source = tmp_path / "contract.md"
    source.write_text("The tenant pays the rent on the first day of each month. " * 40)
    submitted = cli("submit", "--mode", "analyze", "--source", str(source), "--target", "300",
                    "--instructions", "The legal risks in this contract.")
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.strip()
    job = api.wait(job_id)
    assert (job["mode"], job["status"]) == ("analyze", "completed") and job["words"] >= 300
    shown = cli("status", job_id)
    assert f"passages_noted {job['passages_total']}" in shown.stdout and job["passages_total"] >= 1


def test_cancel_resume_and_delete_a_job(cli, api) -> None:
    # Long enough (125 chunks, 3 at a time, each call 1 s) that no load on the machine lets it
    # complete before the cancel, whose CLI process alone can take seconds to start on a busy one.
    submitted = cli("submit", "--target", "100000", "--model", SLOW_MODEL, "--instructions", "A long history.")
    job_id = submitted.stdout.strip()
    api.wait_for(job_id, lambda job: job["chunks_done"] >= 1)
    cancelled = cli("cancel", job_id)
    assert cancelled.returncode == 0 and "cancelling" in cancelled.stdout
    assert api.wait(job_id)["status"] == "cancelled"
    again = cli("cancel", job_id)
    assert again.returncode == 1 and "409" in again.stderr and "cancelled" in again.stderr
    resumed = cli("resume", job_id)
    assert resumed.returncode == 0 and "resuming" in resumed.stdout
    api.audit_until(job_id, lambda log: any(e["type"] == "job.resumed" for e in log))
    unasked = cli("delete", job_id, input="")
    assert unasked.returncode == 1 and "--yes" in unasked.stderr
    assert api.http.get(f"/v1/jobs/{job_id}").status_code == 200
    deleted = cli("delete", job_id, "--yes")
    assert deleted.returncode == 0 and "deleted" in deleted.stdout
    gone = cli("status", job_id)
    assert gone.returncode == 1 and "not found (404)" in gone.stderr


def test_failures_are_one_clear_line_and_a_non_zero_exit(stack, cli) -> None:
    unknown = cli("status", str(uuid.uuid4()))
    assert unknown.returncode == 1 and "not found (404): job not found" in unknown.stderr
    not_an_id = cli("document", "nonsense")
    assert not_an_id.returncode == 1 and "is not a job id" in not_an_id.stderr
    bad_token = cli("jobs", LONGFORM_TOKEN="not-a-token")
    assert bad_token.returncode == 1 and "401" in bad_token.stderr and "longform login" in bad_token.stderr
    nowhere = f"http://127.0.0.1:{free_port()}"
    unreachable = cli("jobs", LONGFORM_URL=nowhere)
    assert unreachable.returncode == 1 and f"cannot reach the gateway at {nowhere}" in unreachable.stderr
    signed_out = cli("jobs", XDG_CONFIG_HOME=str(cli.config_home / "nobody"))
    assert signed_out.returncode == 1 and "not signed in" in signed_out.stderr
    for result in (unknown, not_an_id, bad_token, unreachable, signed_out):
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_plan_prints_the_tree_with_the_apis_figures(cli, followed, api) -> None:
    job_id, _ = followed
    printed = cli("plan", job_id)
    assert printed.returncode == 0, printed.stderr
    plan = api.http.get(f"/v1/jobs/{job_id}/plan").json()
    lines = printed.stdout.splitlines()
    assert lines[0].startswith(f"{job_id}: completed, generate, target 400 words")
    nodes = [n for n in walk(plan["sections"])]
    assert len(lines) == 1 + len(nodes)
    for line, node in zip(lines[1:], nodes):
        assert line.startswith("  " * (node["level"] - 1) + ("#%d " % node["index"] if "index" in node else ""))
        assert f"{node['words']:,}/{node['budget_words']:,} words  {node['chunks_done']}/{node['chunks']} chunks" in line
        assert node["status"] in line and "[" in line
    unknown = cli("plan", str(uuid.uuid4()))
    assert unknown.returncode == 1 and "not found (404)" in unknown.stderr


EDITOR_SCRIPT = """\
import sys, yaml
path = sys.argv[1]
tree = yaml.safe_load(open(path))
leaf = tree[0]
while "sections" in leaf:
    leaf = leaf["sections"][0]
leaf["title"] = "{title}"
leaf["budget_words"] = {budget}
open(path, "w").write(yaml.safe_dump(tree))
"""


def _editor(tmp_path, title: str, budget: int) -> str:
    script = tmp_path / f"edit-{secrets.token_hex(3)}.py"
    script.write_text(EDITOR_SCRIPT.format(title=title, budget=budget))
    return f"{sys.executable} {script}"


def test_review_plan_edit_in_the_editor_then_approve(cli, api, tmp_path) -> None:
    submitted = cli("submit", "--review-plan", "--target", "1200", "--title", "Reviewed",
                    "--instructions", "An essay about estuaries.")
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.splitlines()[0]
    assert f"longform approve {job_id}" in submitted.stderr
    assert api.wait_for(job_id, lambda s: s["status"] != "requested")["status"] == "awaiting_review"

    refused = cli("plan", job_id, "--edit", EDITOR=_editor(tmp_path, "Estuaries", 0))
    assert refused.returncode == 1 and "section 1 “Estuaries”: its budget must be at least 1 word" in refused.stderr
    budget = api.http.get(f"/v1/jobs/{job_id}/plan").json()["planned_words"] + 100
    edited = cli("plan", job_id, "--edit", EDITOR=_editor(tmp_path, "Estuaries", budget))
    assert edited.returncode == 0, edited.stderr
    api.audit_until(job_id, lambda log: any(e["type"] == "job.plan_edited" for e in log))
    shown = cli("plan", job_id)
    assert "#0 Estuaries  pending" in shown.stdout and f"0/{budget:,} words" in shown.stdout

    approved = cli("approve", job_id)
    assert approved.returncode == 0 and f"{job_id} approved" in approved.stdout
    assert api.wait_for(job_id, lambda s: s["status"] in ("completed", "failed"))["status"] == "completed"
    again = cli("approve", job_id)
    assert again.returncode == 1 and "(409)" in again.stderr and "completed" in again.stderr
    not_in_review = cli("plan", job_id, "--edit", EDITOR="false")
    assert not_in_review.returncode == 1 and "only a plan awaiting review can be edited" in not_in_review.stderr
