"""The real-model tier: Gemma 3 270M, a weak base model that ignores formats, drifts and writes
short, served by llama-cpp-python's OpenAI-compatible server, which the session starts on a free
port (tests/real_model/server.py). A stack of its own (a fresh database, its own bus prefix)
writes with it."""

import secrets
from typing import Iterator

import pytest

from tests.conftest import fresh_database
from tests.integration.conftest import Stack, start_stack
from tests.real_model.server import MODEL, Unavailable, running_llama_server


@pytest.fixture(scope="session")
def real_model_url(tmp_path_factory) -> Iterator[str]:
    try:
        with running_llama_server(tmp_path_factory.mktemp("llama") / "server.log") as url:
            yield url
    except Unavailable as missing:
        pytest.skip(str(missing))


@pytest.fixture(scope="session")
def real_stack(database_server_url, nats_url, real_model_url, tmp_path_factory) -> Iterator[Stack]:
    llm_env = {"LONGFORM_LLM_PROVIDER": "openai-compatible", "LONGFORM_LLM_BASE_URL": real_model_url,
               "LONGFORM_LLM_MODEL": MODEL, "LONGFORM_LLM_TIMEOUT_SECONDS": "600"}
    with fresh_database(database_server_url) as database_url:
        # One section at a time: the server answers one request at a time anyway, and fewer
        # first calls go out with the full prompt before the model is known to echo it.
        yield from start_stack(tmp_path_factory.mktemp("real-stack"), database_url, nats_url,
                               f"lfreal{secrets.token_hex(4)}", llm_env, width=1)
