"""End-to-end benchmark: one `generate` job through the whole stack (embedded Postgres and NATS,
five service processes, the fake LLM server), measuring wall time, throughput and each
service's peak resident memory. Run: .venv/bin/python -m bench.e2e_job --words 50000"""

import argparse
import asyncio
import json
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

from contracts.wordcount import count_words
from longform_cli.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from longform_cli.stack import SERVICES, StackConfig, build_supervisor, wait_until_healthy
from services.common.migrations import migrate


class PeakMemory:
    """Samples the resident memory of each service process every 0.1 s."""

    def __init__(self, supervisor) -> None:
        self.supervisor = supervisor
        self.peaks = {name: 0 for name in SERVICES}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            for name in SERVICES:
                try:
                    rss = psutil.Process(self.supervisor.pid(name)).memory_info().rss
                except (psutil.Error, TypeError):
                    continue
                self.peaks[name] = max(self.peaks[name], rss)


def run_job(url: str, words: int, width: int) -> dict:
    with httpx.Client(base_url=url, timeout=60) as http:
        token = http.post("/v1/users", json={"name": "bench"}).json()["token"]
        http.headers["Authorization"] = f"Bearer {token}"
        started = time.perf_counter()
        job = http.post("/v1/jobs", json={"mode": "generate", "title": "Bench", "target_words": words,
                                          "instructions": "A long history of an imaginary river."}).json()["id"]
        while (state := http.get(f"/v1/jobs/{job}").json())["status"] not in ("completed", "failed"):
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        document = http.get(f"/v1/jobs/{job}/document").text
        events = len(http.get(f"/v1/jobs/{job}/audit").text.splitlines())
    return {"status": state["status"], "target_words": words, "words": count_words(document),
            "chunks": state["chunks_total"], "events": events, "seconds": round(elapsed, 2),
            "words_per_second": round(words / elapsed), "section_width": width}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--words", type=int, default=50_000)
    parser.add_argument("--width", type=int, default=1, help="sections written in parallel")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="lf-bench-"))
    postgres, nats = EmbeddedPostgres(home / "pg"), EmbeddedNats(home / "nats")
    try:
        database_url, nats_url = postgres.start(), nats.start()
        asyncio.run(migrate(database_url))
        fake_port = free_port()
        config = StackConfig(home=home, database_url=database_url, nats_url=nats_url, gateway_port=free_port(),
                             llm_env={"LONGFORM_LLM_PROVIDER": "openai-compatible",
                                      "LONGFORM_LLM_BASE_URL": f"http://127.0.0.1:{fake_port}/v1",
                                      "LONGFORM_LLM_MODEL": "fake-writer"},
                             extra_env={"LONGFORM_SECTION_WIDTH": str(args.width)})
        with build_supervisor(config, fake_llm_port=fake_port) as supervisor:
            supervisor.start_all()
            wait_until_healthy(config.gateway_url, timeout=120)
            with PeakMemory(supervisor) as memory:
                result = run_job(config.gateway_url, args.words, args.width)
            result["peak_rss_mb"] = {k: round(v / 2**20, 1) for k, v in memory.peaks.items()}
        print(json.dumps(result, indent=2))
    finally:
        nats.stop()
        postgres.stop()


if __name__ == "__main__":
    main()
