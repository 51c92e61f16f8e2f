"""Scale-out benchmark: the same `generate` job with 1 and then N generator processes on one
Postgres and one NATS (a fresh database and bus prefix per run), against the fake LLM server
with a fixed latency per call, so the LLM time dominates. Each generator writes one chunk at a
time (LONGFORM_CHUNK_WORKERS=1) and both runs write the same number of sections at once, so
the process count is the only difference. Prints both wall times and their ratio.

Run: .venv/bin/python -m bench.scale_out --generators 4 --latency 1.0"""

import argparse
import asyncio
import json
import os
import secrets
import tempfile
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bench.e2e_job import run_job
from bench.harness import PeakMemory, service_processes
from longform_cli.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from longform_cli.stack import StackConfig, build_supervisor, prepare_database, wait_until_healthy
from longform_cli.supervisor import Supervisor


def fresh_database(server_url: str) -> str:
    name = f"scale_out_{secrets.token_hex(4)}"

    async def create() -> None:
        conn = await asyncpg.connect(server_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


@contextmanager
def stack_on_fresh_database(server_url: str, make_config: Callable[[str, int], StackConfig]
                            ) -> Iterator[tuple[StackConfig, Supervisor]]:
    """A run's own database (migrated) and fake LLM port, the stack `make_config(database_url,
    fake_port)` describes started on them, healthy."""
    database_url = fresh_database(server_url)
    prepare_database(database_url)
    fake_port = free_port()
    config = make_config(database_url, fake_port)
    with build_supervisor(config, fake_llm_port=fake_port) as supervisor:
        supervisor.start_all()
        wait_until_healthy(config.gateway_url, timeout=120)
        yield config, supervisor


def stack_config(home: Path, database_url: str, nats_url: str, fake_port: int, generators: int,
                 args: argparse.Namespace) -> StackConfig:
    return StackConfig(
        home=home / f"generators-{generators}", database_url=database_url, nats_url=nats_url,
        gateway_port=free_port(), bus_prefix=f"lf{secrets.token_hex(4)}", replicas={"generator": generators},
        llm_env={"LONGFORM_LLM_PROVIDER": "openai-compatible", "LONGFORM_LLM_MODEL": "fake-writer",
                 "LONGFORM_LLM_BASE_URL": f"http://127.0.0.1:{fake_port}/v1"},
        extra_env={"FAKE_LLM_DEFAULT": f"latency:seconds={args.latency}", "LONGFORM_CHUNK_WORKERS": "1",
                   "LONGFORM_SECTION_WIDTH": str(args.width), "LONGFORM_CHUNK_WORDS": str(args.chunk_words)},
    )


def timed_run(home: Path, server_url: str, nats_url: str, generators: int, args: argparse.Namespace) -> dict:
    with stack_on_fresh_database(server_url, lambda database_url, fake_port: stack_config(
            home, database_url, nats_url, fake_port, generators, args)) as (config, supervisor):
        audit = config.home / "audit.ndjson"
        with PeakMemory(supervisor, ["fake-llm", *service_processes(config)]) as usage:
            started = usage.cpu_seconds()
            result = run_job(config.gateway_url, args.words, str(audit))
            result["cpu_seconds_in_job"] = {name: round(used - started.get(name, 0), 1)
                                            for name, used in usage.cpu_seconds().items()}
        result["peak_rss_mb"] = usage.megabytes()
        result["load_average_1m"] = round(os.getloadavg()[0], 1)  # the machine is shared: others' load slows us
    return result | {"generators": generators} | who_wrote(audit)


def who_wrote(audit: Path) -> dict:
    """The sections planned and the write calls each generator process made (the job's log)."""
    events = [json.loads(line) for line in audit.read_text().splitlines()]
    writers = Counter(e["data"]["attributes"].get("service.instance.id") for e in events
                      if e["type"] == "llm.call" and e["data"]["attributes"]["longform.purpose"] == "write")
    planned = next(e["data"] for e in events if e["type"] == "job.planned")
    return {"sections": planned["sections"], "write_calls_by_process": dict(sorted(writers.items()))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--generators", type=int, default=4)
    parser.add_argument("--words", type=int, default=12_000)
    parser.add_argument("--width", type=int, default=8, help="sections written at once (both runs)")
    parser.add_argument("--chunk-words", type=int, default=250)
    parser.add_argument("--latency", type=float, default=1.0, help="fixed seconds per fake LLM call")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="lf-scale-out-"))
    postgres, nats = EmbeddedPostgres(home / "pg", fast=True), EmbeddedNats(home / "nats")
    try:
        server_url, nats_url = postgres.start(), nats.start()
        runs = [timed_run(home, server_url, nats_url, n, args) for n in (1, args.generators)]
    finally:
        nats.stop()
        postgres.stop()
    one, many = runs
    print(json.dumps({"runs": runs, "latency_s": args.latency, "section_width": args.width,
                      "ratio": round(many["seconds"] / one["seconds"], 3)}, indent=2))


if __name__ == "__main__":
    main()
