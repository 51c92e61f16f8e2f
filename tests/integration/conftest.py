"""The whole stack, started once per session: five service processes on the session's NATS and
Postgres, talking to the fake LLM server; tests reach it only through the gateway's HTTP API."""

import functools
import secrets
from dataclasses import dataclass
from typing import Iterator

import pytest

from fake_llm import running_fake_llm
from longform_cli.embedded import free_port
from longform_cli.stack import StackConfig, build_supervisor, prepare_database, wait_until_healthy
from longform_cli.supervisor import Supervisor
from tests.integration.client import ApiClient
from tests.integration.dbread import fetch


API_KEY = f"sk-longform-test-{secrets.token_hex(16)}"  # a secret the audit log must never show


@dataclass
class Stack:
    config: StackConfig
    supervisor: Supervisor
    fake_llm: object

    def client(self) -> ApiClient:
        return ApiClient.signed_up(self.config.gateway_url)


@pytest.fixture(scope="session")
def fake_llm_server():
    with running_fake_llm() as server:
        yield server


# The whole suite signs up, signs in and submits from 127.0.0.1 against one stack: limits far above
# what it does, so every request still takes its place in gateway.rate_limits (test_rate_limits.py
# proves the refusals with small ones).
SUITE_RATE_LIMITS = "signup=100000,signin=100000,token=100000,job=100000"


def start_stack(home, database_url: str, nats_url: str, bus_prefix: str, llm_env: dict,
                width: int = 3) -> Iterator[Stack]:
    """The five services on this database and bus prefix, stopped when the caller is done. The
    suite exercises parallel sections (width 3) unless told otherwise."""
    prepare_database(database_url)
    config = StackConfig(
        home=home, database_url=database_url, nats_url=nats_url, gateway_port=free_port(), bus_prefix=bus_prefix,
        llm_env=llm_env, extra_env={"LONGFORM_SECTION_WIDTH": str(width), "LONGFORM_RATE_LIMITS": SUITE_RATE_LIMITS},
    )
    supervisor = build_supervisor(config)
    supervisor.start_all()
    try:
        wait_until_healthy(config.gateway_url, timeout=90)
        yield Stack(config, supervisor, None)
    finally:
        supervisor.stop_all()


@pytest.fixture(scope="session")
def stack(database_url, nats_url, bus_prefix, fake_llm_server, tmp_path_factory) -> Iterator[Stack]:
    llm_env = {"LONGFORM_LLM_PROVIDER": "openai-compatible", "LONGFORM_LLM_BASE_URL": fake_llm_server.openai_base_url,
               "LONGFORM_LLM_MODEL": "fake-writer", "OPENAI_API_KEY": API_KEY}
    for running in start_stack(tmp_path_factory.mktemp("stack"), database_url, nats_url, bus_prefix, llm_env):
        running.fake_llm = fake_llm_server
        yield running


@pytest.fixture
def client(stack: Stack) -> Iterator[ApiClient]:
    api = stack.client()
    yield api
    api.close()


@pytest.fixture
def query(database_url):
    """Reads the database directly, to check what the services stored (never to change it)."""
    return functools.partial(fetch, database_url)
