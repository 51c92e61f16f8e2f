"""The row audit redacts secrets by their exact names, not by words (SECURITY: "Redact secrets,
not words"): every column of every table a service writes is checked both ways against
contracts/redact.py SECRET_NAMES, and a real job's log shows its token counts and timings while
an account's row shows no password hash."""

from contracts.redact import MASK, SECRET_NAMES
from tests.integration.client import ApiClient
from tests.integration.dbread import fetch

AUDITED = ("gateway", "planner", "generator", "assembler")


def test_every_audited_column_is_redacted_exactly_when_it_is_named_as_a_secret(stack, database_url) -> None:
    columns = fetch(database_url, "SELECT table_schema || '.' || table_name AS t, column_name AS c,"
                    " longform_meta.audit_value(column_name, to_jsonb('the river'::text)) #>> '{}' AS shown"
                    " FROM information_schema.columns WHERE table_schema = ANY($1::text[])", list(AUDITED))
    hidden = {(r["t"], r["c"]) for r in columns if r["shown"] == MASK}
    assert hidden == {(r["t"], r["c"]) for r in columns if r["c"].lower() in SECRET_NAMES}
    assert {c for _, c in hidden} >= {"password_hash", "secret_hash", "token_hash"}
    visible = {r["c"] for r in columns if r["shown"] == "the river"}
    assert {"input_tokens", "output_tokens", "first_token_ms", "latency_ms"} <= visible


def test_the_sql_list_of_secret_names_is_the_python_one(stack, database_url) -> None:
    names = sorted(SECRET_NAMES) + [n.upper() for n in SECRET_NAMES] + ["input_tokens", "tokens", "secrets"]
    shown = fetch(database_url, "SELECT n, longform_meta.audit_value(n, to_jsonb(1)) #>> '{}' AS v"
                  " FROM unnest($1::text[]) n", names)
    assert {r["n"] for r in shown if r["v"] == MASK} == {n for n in names if n.lower() in SECRET_NAMES}


def test_a_jobs_log_shows_its_token_counts_and_an_accounts_row_no_password_hash(client, stack) -> None:
    job_id = client.submit(300)
    assert client.wait(job_id)["status"] == "completed"
    rows = [e["data"]["fields"] for e in client.audit(job_id)
            if e["type"] == "db.row_inserted" and e["data"]["table"] == "generator.llm_calls"]
    assert rows and all(isinstance(r["input_tokens"], int) and isinstance(r["output_tokens"], int) for r in rows)
    assert all(isinstance(r["latency_ms"], int) for r in rows)
    calls = [e["data"]["attributes"] for e in client.audit(job_id) if e["type"] == "llm.call"]
    assert all(isinstance(c["gen_ai.usage.output_tokens"], int) for c in calls)
    with_password = ApiClient.with_password(stack.config.gateway_url, f"reader-{job_id[:8]}@example.com", "a long enough password")
    try:
        (user,) = [e["data"]["fields"] for e in with_password.account_audit()
                   if e["type"] == "db.row_inserted" and e["data"]["table"] == "gateway.users"]
        assert user["password_hash"] == MASK and user["email"].startswith("reader-")
    finally:
        with_password.close()
