"""Chaos tests start their own stack per module (a fresh database, its own bus prefix and fake LLM),
so the services they kill and the servers they restart disturb no other test."""

import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from fake_llm import running_fake_llm
from tests.chaos.crashes import ChaosStack, chaos_stack
from tests.conftest import fresh_database

# Every LLM call takes a moment, so a kill lands in the middle of one more often than not.
LLM_LATENCY = "latency:seconds=0.3"


@pytest.fixture(scope="module")
def fake_llm_root() -> Iterator[str]:
    with running_fake_llm(default_behaviour=LLM_LATENCY) as server:
        yield server.root_url


@pytest.fixture(scope="module")
def chaos_home(request) -> Iterator[Path]:
    """The stack's logs and pid files; kept when a test of the module failed, for the post-mortem
    (pytest's own temp dirs are pruned by concurrent sessions)."""
    home = Path(tempfile.mkdtemp(prefix="lf-chaos-"))
    failures = request.session.testsfailed
    yield home
    if request.session.testsfailed == failures:
        shutil.rmtree(home, ignore_errors=True)
    else:
        print(f"chaos stack logs kept in {home}")


@pytest.fixture(scope="module")
def chaos_env() -> dict[str, str]:
    """Settings the module's stack gets on top of the chaos defaults."""
    return {}


@pytest.fixture(scope="module")
def chaos(database_server_url, nats_url, fake_llm_root, chaos_home, chaos_env) -> Iterator[ChaosStack]:
    """The module's stack, on the session's Postgres server (a fresh database) and NATS."""
    with fresh_database(database_server_url) as database_url:
        with chaos_stack(chaos_home, database_url, nats_url, fake_llm_root, chaos_env) as stack:
            yield stack


@pytest.fixture(scope="module")
def user(chaos):
    """A signed-up user of the module's chaos stack."""
    http = chaos.user()
    yield http
    http.close()
