"""Secrets never reach the audit log: what the redactor removes, and what it leaves alone."""

import pytest

from contracts.redact import MASK, SECRET_NAMES, Redactor

KEY = "sk-proj-0123456789abcdefghijklmnop"


@pytest.fixture
def redactor() -> Redactor:
    return Redactor.from_environment({
        "OPENAI_API_KEY": KEY, "LONGFORM_LLM_API_KEY": "plainsecretvalue",
        "DATABASE_URL": "postgresql://longform:p%40ss-word-9@db.example.com/longform", "HOME": "/root",
    })


@pytest.mark.parametrize("text", [
    f"Error code: 500 - headers {{'authorization': 'Bearer {KEY}'}}",
    f"Authorization: Bearer {KEY}",
    "x-api-key: plainsecretvalue",
    "the configured key plainsecretvalue leaked",
    "could not connect to postgresql://longform:p@ss-word-9@db.example.com/longform",
    "GET https://api.example.com/v1/models?api_key=abc123&limit=5",
    "retrying with access_token=eyJhbGciOiJIUzI1NiJ9.payload.sig",
    '{"password": "hunter2hunter2"}',
    "sk-ant-api03-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "LONGFORM_DB_PASSWORD=hunter2hunter2 exported",
    "{'token': 'abc123'}",
    "GET /v1/maps?key=abc123",
])
def test_secrets_are_masked(redactor, text) -> None:
    cleaned = redactor.text(text)
    assert MASK in cleaned
    for secret in (KEY, "plainsecretvalue", "p@ss-word-9", "p%40ss-word-9", "abc123", "eyJhbGciOiJIUzI1NiJ9",
                   "hunter2hunter2", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
        assert secret not in cleaned


@pytest.mark.parametrize("text", [
    "SELECT id FROM gateway.users WHERE token_hash = $1",
    "max_tokens=2048 tokens_per_word=1.6",
    "The keeper's password was never written down, she said.",
    "gen_ai.usage.input_tokens",
    "/root",
    "input_tokens=120 output_tokens=300 first_token_ms=87",
    "max_tokens: 2048",
    '{"output_key": "summary", "key": "the river", "sort_key": "title"}',
    "The key: 'the river was the only road', she wrote. monkey=banana",
    "the signature of the treaty; a token of thanks; the secret_hash column",
])
def test_ordinary_text_is_left_alone(redactor, text) -> None:
    assert redactor.text(text) == text


def test_event_data_is_redacted_throughout_but_numbers_stay(redactor) -> None:
    data = {"message": f"Bearer {KEY}", "nested": [{"token": "abcdef"}], "gen_ai.usage.input_tokens": 12,
            "statements": [{"sql": "SELECT 1", "rows": 1}]}
    assert redactor.data(data) == {"message": f"Bearer {MASK}", "nested": [{"token": MASK}],
                                   "gen_ai.usage.input_tokens": 12, "statements": [{"sql": "SELECT 1", "rows": 1}]}


@pytest.mark.parametrize("key", sorted(SECRET_NAMES) + ["Password", "TOKEN_HASH"])
def test_a_value_under_a_secret_name_is_masked_whatever_it_holds(redactor, key) -> None:
    assert redactor.data({key: "the river"}) == {key: MASK}


@pytest.mark.parametrize("key", ["input_tokens", "output_tokens", "tokens", "first_token_ms", "key", "sort_key",
                                 "secrets_found", "password_policy", "token_count", "keyword"])
def test_a_value_under_a_name_that_merely_mentions_a_secret_is_kept(redactor, key) -> None:
    assert redactor.data({key: "the river"}) == {key: "the river"}
