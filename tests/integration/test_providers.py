"""The same pipeline on Anthropic's Messages API (official SDK) against the fake server."""

import secrets

import pytest

from tests.conftest import fresh_database
from tests.integration.client import ApiClient
from tests.integration.conftest import start_stack


@pytest.fixture(scope="module")
def anthropic_stack(database_server_url, nats_url, fake_llm_server, tmp_path_factory):
    llm_env = {"LONGFORM_LLM_PROVIDER": "anthropic", "LONGFORM_LLM_BASE_URL": fake_llm_server.anthropic_base_url,
               "LONGFORM_LLM_MODEL": "fake-claude", "ANTHROPIC_API_KEY": "test-key-not-secret"}
    with fresh_database(database_server_url) as database_url:
        home = tmp_path_factory.mktemp("anthropic")
        yield from start_stack(home, database_url, nats_url, f"lf{secrets.token_hex(4)}", llm_env)


def test_a_job_on_the_anthropic_provider_completes_at_or_above_target(anthropic_stack) -> None:
    client = ApiClient.signed_up(anthropic_stack.config.gateway_url)
    job_id = client.submit(3000)
    final = client.wait(job_id)
    assert final["status"] == "completed" and final["words"] >= 3000
    calls = [e["data"]["attributes"] for e in client.audit(job_id) if e["type"] == "llm.call"]
    assert {c["gen_ai.provider.name"] for c in calls} == {"anthropic"}
    assert all(c["gen_ai.usage.input_tokens"] and c["gen_ai.usage.output_tokens"] for c in calls if c["longform.kept"])
    client.close()
