"""NATS and Postgres restarted in the middle of a job: every service reconnects with backoff and
the job completes at its length, each chunk once, no event lost or repeated, and no chunk stored
before the restart sent to the LLM again. These tests run on servers of their own (embedded, in a
temp dir), whatever servers the rest of the session uses, so restarting them disturbs no other
test and the tests never skip."""

import contextlib
import random
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from longform_cli.embedded import EmbeddedNats, EmbeddedPostgres
from tests.chaos.crashes import ChaosStack, chaos_stack
from tests.conftest import fresh_database

TARGET_WORDS = 800


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[EmbeddedPostgres, EmbeddedNats]]:
    data = Path(tempfile.mkdtemp(prefix="lf-chaos-servers-"))
    postgres, nats = EmbeddedPostgres(data / "pg", fast=True), EmbeddedNats(data / "nats")
    try:
        postgres.start()
        nats.start()
        yield postgres, nats
    finally:
        nats.stop()
        postgres.stop()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def chaos(servers, fake_llm_root, chaos_home) -> Iterator[ChaosStack]:
    postgres, nats = servers
    with fresh_database(postgres.url) as database_url:
        with chaos_stack(chaos_home, database_url, nats.url, fake_llm_root) as stack:
            yield stack


def _restarted(server, stack: ChaosStack, check: str) -> None:
    """The server stops, and starts again once every process of the stack says on its /readyz that
    it lost it (`check` not ok): each has noticed the outage and is retrying."""
    server.stop()
    urls = {f"http://127.0.0.1:{port}/readyz" for port in stack.config.ops_ports.values()}
    urls.add(f"{stack.config.gateway_url}/readyz")
    deadline = time.monotonic() + 60
    while urls:
        for url in list(urls):
            with contextlib.suppress(httpx.TransportError):
                response = httpx.get(url, timeout=5)
                if response.status_code == 503 and response.json().get(check) != "ok":
                    urls.discard(url)
        assert time.monotonic() < deadline, f"still ready with {check} stopped: {sorted(urls)}"
        time.sleep(0.1)
    server.start()


@pytest.mark.parametrize("which", ["nats", "postgres"])
def test_a_job_survives_its_server_restarted_mid_job(chaos, user, servers, which) -> None:
    postgres, nats = servers
    seed = secrets.randbits(32)
    job_id = chaos.submit(user, TARGET_WORDS)
    before = chaos.at_random_point(job_id, random.Random(seed))
    _restarted(nats if which == "nats" else postgres, chaos, "nats" if which == "nats" else "database")
    chaos.wait_until_ended(job_id, timeout=120)
    outcome = chaos.judge(job_id, [before])
    assert outcome.problems() == [], f"seed {seed}, {which} restarted after chunks {sorted(before.chunks_done)}"
    assert outcome.words >= TARGET_WORDS and outcome.chunks_planned >= 6
