"""What a job costs: its status prices its tokens per model by the server's price table
(LONGFORM_PRICES), null when unknown; `POST /v1/jobs?dry_run=true` checks a job as a submit does
and answers the plan's calls, tokens and cost, storing nothing."""

import json

import pytest
from fastapi.testclient import TestClient

from services.gateway.config import GatewaySettings
from services.gateway.main import create_app
from tests.integration.footprint import footprint
from tests.integration.test_bad_input import MISSING, VALID, without

MODEL = "fake-writer"  # the suite's stack's model (tests/integration/conftest.py)


@pytest.fixture(scope="module")
def priced(stack, tmp_path_factory):
    """A second gateway on the suite's database, with a price table for the suite's model."""
    def gateway(prices: dict | None) -> TestClient:
        path = None
        if prices is not None:
            path = tmp_path_factory.mktemp("prices") / "prices.yaml"
            path.write_text(json.dumps(prices))  # JSON is YAML too
        settings = GatewaySettings(database_url=stack.config.database_url, nats_url=stack.config.nats_url,
                                   bus_prefix=stack.config.bus_prefix, llm_model=MODEL,
                                   prices=str(path) if path else None)
        return TestClient(create_app(settings))

    with gateway({MODEL: {"input": 2.0, "output": 8.0}, "other-*": {"input": 1, "output": 1}}) as with_prices, \
            gateway({"other-*": {"input": 1, "output": 1}}) as without_our_model:
        yield with_prices, without_our_model


def _as(client, gateway: TestClient, method: str, path: str, **kwargs):
    return gateway.request(method, path, headers={"Authorization": f"Bearer {client.token}"}, **kwargs)


def test_a_completed_jobs_status_has_its_cost_when_its_models_are_priced_and_null_when_not(client, priced):
    with_prices, without_our_model = priced
    job_id = client.submit(120)
    done = client.wait(job_id)
    assert done["status"] == "completed"
    assert done["cost_usd"] is None  # the suite's gateway has no price table
    [used] = done["tokens_by_model"]
    assert (used["model"], used["tokens_in"], used["tokens_out"]) == (MODEL, done["tokens_in"], done["tokens_out"])
    assert done["tokens_in"] > 0 and done["tokens_out"] > 0

    shown = _as(client, with_prices, "GET", f"/v1/jobs/{job_id}").json()  # a late call may have added tokens
    expected = (shown["tokens_in"] * 2.0 + shown["tokens_out"] * 8.0) / 1_000_000
    assert shown["cost_usd"] == pytest.approx(expected, abs=1e-6)
    assert shown["tokens_by_model"][0]["cost_usd"] == pytest.approx(expected, abs=1e-6)
    assert _as(client, without_our_model, "GET", f"/v1/jobs/{job_id}").json()["cost_usd"] is None


def test_a_dry_run_answers_the_plans_calls_tokens_and_cost_and_stores_nothing(client, database_url, priced):
    with_prices, _ = priced
    before = footprint(database_url, client.token)
    body = VALID | {"target_words": 5_000}
    answer = _as(client, with_prices, "POST", "/v1/jobs", params={"dry_run": "true"}, json=body)
    assert answer.status_code == 200, answer.text
    estimate = answer.json()
    by_purpose = {row["purpose"]: row for row in estimate["by_purpose"]}
    # Nine chunks, each written in one call and summarised in its reply's memory tail: no summary call.
    assert (by_purpose["outline"]["calls"], by_purpose["write"]["calls"], "summarize" in by_purpose) == (1, 9, False)
    assert estimate["calls"] == 10 and {row["model"] for row in estimate["by_purpose"]} == {MODEL}
    expected = (estimate["input_tokens"] * 2.0 + estimate["output_tokens"] * 8.0) / 1_000_000
    assert estimate["cost_usd"] == pytest.approx(expected, abs=1e-5)
    assert estimate["assumptions"]["tokens_per_word"] == 1.35 and estimate["assumptions"]["chunk_words"] == 800
    unpriced = client.http.post("/v1/jobs", params={"dry_run": "true"}, json=body)  # the suite's gateway: no prices
    assert unpriced.status_code == 200 and unpriced.json()["cost_usd"] is None
    assert footprint(database_url, client.token) == before


def test_a_dry_runs_estimate_is_the_run_it_estimates_when_every_reply_is_usable(client):
    """Against the suite's fake, which writes what it is asked: the same calls, the output tokens
    near the provider's count (the fake counts 4/3 tokens a word) and the input within half (the
    estimate counts every prompt with a full memory, as in a long job; a short job's is smaller)."""
    body = VALID | {"target_words": 2_000}
    estimate = client.http.post("/v1/jobs", params={"dry_run": "true"}, json=body).json()
    job_id = client.submit(**body)
    assert client.wait(job_id)["status"] == "completed"
    # A memory fold may still be under way when the job completes (writing never waits for it).
    log = client.audit_until(job_id, lambda log: sum(e["type"] == "llm.call" for e in log) >= estimate["calls"])
    ran = client.job(job_id)
    assert sum(e["type"] == "llm.call" for e in log) == estimate["calls"]
    assert ran["tokens_out"] == pytest.approx(estimate["output_tokens"], rel=0.25)
    assert ran["tokens_in"] == pytest.approx(estimate["input_tokens"], rel=0.5)


def test_a_dry_run_of_a_rewrite_counts_its_source_and_stores_no_source(client, database_url):
    before = footprint(database_url, client.token)
    form = {k: str(v) for k, v in (VALID | {"mode": "rewrite", "target_words": 1_000}).items()}
    source = "\n\n".join(["A tide comes in and goes out twice a day."] * 300)  # 3,000 words
    upload = {"source": ("s.txt", source.encode(), "text/plain")}
    answer = client.http.post("/v1/jobs", params={"dry_run": "true"}, data=form, files=upload)
    assert answer.status_code == 200, answer.text
    assert answer.json()["source_words"] == 3_000
    assert "outline" not in {row["purpose"] for row in answer.json()["by_purpose"]}
    assert footprint(database_url, client.token) == before


@pytest.mark.parametrize("change", [
    {"target_words": 0}, {"target_words": 500_001}, {"target_words": "100"}, {"instructions": "   "},
    {"instructions": MISSING}, {"mode": "poem"}, {"priority": "high"}, {"mode": "rewrite"},
    {"source_text": "a source"},
], ids=["words-0", "words-500001", "words-string", "instructions-blank", "instructions-missing", "mode-unknown",
        "unknown-field", "rewrite-without-source", "generate-with-source"])
def test_a_dry_run_refuses_bad_input_exactly_as_a_submit_does(client, database_url, change):
    before = footprint(database_url, client.token)
    body = without(VALID, change)
    submitted = client.http.post("/v1/jobs", json=body)
    dry = client.http.post("/v1/jobs", params={"dry_run": "true"}, json=body)
    assert submitted.status_code == 422
    assert (dry.status_code, dry.json()) == (submitted.status_code, submitted.json())
    assert footprint(database_url, client.token) == before


@pytest.mark.parametrize("content, media", [(b"{not json", "application/json"), (b"mode=generate", "text/plain")])
def test_a_dry_run_refuses_a_malformed_body_exactly_as_a_submit_does(client, content, media):
    submitted = client.http.post("/v1/jobs", content=content, headers={"Content-Type": media})
    dry = client.http.post("/v1/jobs?dry_run=true", content=content, headers={"Content-Type": media})
    assert submitted.status_code in (415, 422)
    assert (dry.status_code, dry.json()) == (submitted.status_code, submitted.json())
