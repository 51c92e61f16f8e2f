"""A chaos stack: the five services under one supervisor, on a given database and NATS, writing
through a fake LLM server whose request log counts every call, with short redelivery waits so a
crash is recovered in seconds. Shared by tests/chaos and bench/chaos.py."""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx
import nats

from contracts.subjects import Subjects
from longform_cli.embedded import free_port
from longform_cli.stack import StackConfig, build_supervisor, prepare_database, wait_until_healthy
from longform_cli.supervisor import Supervisor
from tests.chaos import verdict
from tests.chaos.verdict import Snapshot

CHAOS_ENV = {
    "LONGFORM_SECTION_WIDTH": "2",
    "LONGFORM_CHUNK_WORDS": "100",  # many small chunks: a kill lands between and inside them
    "LONGFORM_ACK_WAIT_SECONDS": "3",  # a dead service's messages come back after 3 s
}


@dataclass
class ChaosStack:
    config: StackConfig
    supervisor: Supervisor
    database_url: str
    llm_root: str

    def user(self) -> httpx.Client:
        http = httpx.Client(base_url=self.config.gateway_url, timeout=30)
        token = _retried(lambda: http.post("/v1/users", json={"name": "chaos"})).json()["token"]
        http.headers["Authorization"] = f"Bearer {token}"
        return http

    def submit(self, http: httpx.Client, target_words: int, **fields) -> str:
        body = {"mode": "generate", "title": "Chaos", "target_words": target_words,
                "instructions": "A field guide to imaginary rivers."} | fields
        return _retried(lambda: http.post("/v1/jobs", json=body)).json()["id"]

    def crash_at_random_point(self, job_id: str, service: str, rng: random.Random) -> Snapshot:
        """SIGKILLs `service` at a random point of the job (see `at_random_point`); returns what
        was complete before, once the supervisor has started the service again."""
        before = self.at_random_point(job_id, rng)
        self.supervisor.crash(service)
        return before

    def at_random_point(self, job_id: str, rng: random.Random, timeout: float = 60.0) -> Snapshot:
        """Waits until a random number of the job's chunks is stored (at least one, and not the
        last two), then a random fraction of a second more; returns what is complete then."""
        deadline = time.monotonic() + timeout
        wanted = None
        while True:
            done, planned = verdict.chunks_stored(self.database_url, job_id)
            if wanted is None and planned:
                wanted = rng.randint(1, max(planned - 2, 1))
            if wanted is not None and done >= wanted:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id}: {done} of {planned} chunks after {timeout:.0f} s")
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 0.4))
        return verdict.snapshot(self.database_url, self.llm_root, job_id)

    def wait_until_ended(self, job_id: str, timeout: float = 90.0) -> str:
        return verdict.wait_until_ended(self.database_url, job_id, timeout)

    def redelivered(self, job_id: str, message_type: str) -> list[dict]:
        return [r for r in verdict.events_of(self.database_url, job_id, "job.redelivered")
                if r["message_type"] == message_type]

    def summaries(self, job_id: str, chunks: int, timeout: float = 60.0) -> dict[int, tuple[str, str]]:
        """How each chunk was folded into the memory (`made_by`, `fallback`), once all `chunks`
        are: the last summaries may land after the job completed."""
        deadline = time.monotonic() + timeout
        while len(made := {e["chunk_index"]: (e["made_by"], e["fallback"]) for e in verdict.events_of(
                self.database_url, job_id, "chunk.summarized")}) < chunks and time.monotonic() < deadline:
            time.sleep(0.2)
        return made

    def judge(self, job_id: str, snapshots: list[Snapshot]) -> verdict.Verdict:
        return verdict.judge(self.database_url, self.llm_root, job_id, snapshots)


@contextlib.contextmanager
def chaos_stack(home: Path, database_url: str, nats_url: str, llm_root: str,
                extra_env: dict[str, str] | None = None,
                replicas: dict[str, int] | None = None) -> Iterator[ChaosStack]:
    prepare_database(database_url)
    config = StackConfig(
        home=home, database_url=database_url, nats_url=nats_url, gateway_port=free_port(),
        bus_prefix=f"lfchaos{secrets.token_hex(4)}",
        llm_env={"LONGFORM_LLM_PROVIDER": "openai-compatible", "LONGFORM_LLM_BASE_URL": f"{llm_root}/v1",
                 "LONGFORM_LLM_MODEL": "fake-writer", "OPENAI_API_KEY": "sk-chaos"},
        extra_env={**CHAOS_ENV, **(extra_env or {})}, replicas=replicas or {},
    )
    supervisor = build_supervisor(config)
    supervisor.start_all()
    try:
        wait_until_healthy(config.gateway_url, timeout=120)
        yield ChaosStack(config, supervisor, database_url, llm_root)
    finally:
        supervisor.stop_all()
        asyncio.run(_drop_stream(nats_url.split(","), Subjects(config.bus_prefix).stream))


async def _drop_stream(nats_url: str | list[str], stream: str) -> None:
    """The stack's stream, so a shared NATS does not keep every chaos run's messages."""
    with contextlib.suppress(Exception):  # NATS already gone (a soak stops it first): nothing to keep
        nc = await nats.connect(nats_url, connect_timeout=2, max_reconnect_attempts=0)
        try:
            await nc.jetstream().delete_stream(stream)
        finally:
            await nc.close()


def _retried(call, attempts: int = 100) -> httpx.Response:
    """A call to the gateway, again while it is down (killed, restarting) or refuses for a moment."""
    for attempt in range(attempts):
        try:
            response = call()
            if response.status_code < 500:
                return response.raise_for_status()
        except httpx.TransportError:
            if attempt == attempts - 1:
                raise
        time.sleep(0.2)
    return response.raise_for_status()
