"""The stack for benchmarks: embedded Postgres and NATS in a temp dir, the five services and the
fake LLM server as child processes, torn down afterwards."""

import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Self

import httpx
import psutil

from longform_cli.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from longform_cli.stack import SERVICES, StackConfig, build_supervisor, prepare_database, wait_until_healthy
from longform_cli.supervisor import Supervisor


@contextmanager
def running_stack(*, width: int = 1, fake_behaviour: str = "", extra_env: dict | None = None
                  ) -> Iterator[tuple[StackConfig, Supervisor]]:
    home = Path(tempfile.mkdtemp(prefix="lf-bench-"))
    postgres, nats = EmbeddedPostgres(home / "pg"), EmbeddedNats(home / "nats")
    try:
        database_url, nats_url = postgres.start(), nats.start()
        prepare_database(database_url)
        fake_port = free_port()
        # An account's jobs all run at once unless a bench asks for the queue (bench/load.py): the
        # benches that submit many jobs from one account measure the jobs, not the queue.
        env = {"LONGFORM_SECTION_WIDTH": str(width), "LONGFORM_MAX_ACTIVE_JOBS_PER_USER": "0", **(extra_env or {})}
        if fake_behaviour:
            env["FAKE_LLM_DEFAULT"] = fake_behaviour
        config = StackConfig(home=home, database_url=database_url, nats_url=nats_url, gateway_port=free_port(),
                             llm_env={"LONGFORM_LLM_PROVIDER": "openai-compatible",
                                      "LONGFORM_LLM_BASE_URL": f"http://127.0.0.1:{fake_port}/v1",
                                      "LONGFORM_LLM_MODEL": "fake-writer"}, extra_env=env)
        with build_supervisor(config, fake_llm_port=fake_port) as supervisor:
            supervisor.start_all()
            wait_until_healthy(config.gateway_url, timeout=120)
            yield config, supervisor
    finally:
        nats.stop()
        postgres.stop()


def signed_up(url: str) -> httpx.Client:
    http = httpx.Client(base_url=url, timeout=60)
    token = http.post("/v1/users", json={"name": "bench"}).raise_for_status().json()["token"]
    http.headers["Authorization"] = f"Bearer {token}"
    return http


def service_processes(config: StackConfig) -> list[str]:
    """The supervisor's name of every service process, each replica on its own (generator-1, ...)."""
    return [process for service in SERVICES for process in config.processes(service)]


class BackgroundLoop:
    """Runs `_run` on a daemon thread for as long as the `with` block lasts; `_run` ends when
    `_stop` is set."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        raise NotImplementedError


class PeakMemory(BackgroundLoop):
    """Samples the resident memory of each named supervisor child every 0.1 s."""

    def __init__(self, supervisor: Supervisor, processes: list[str]) -> None:
        super().__init__()
        self.supervisor = supervisor
        self.peaks = dict.fromkeys(processes, 0)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) each process has used so far, its own children included."""
        used = {}
        for name in self.peaks:
            try:
                process = self._process(name)
                times = [p.cpu_times() for p in [process, *process.children(recursive=True)]]
            except (psutil.Error, LookupError):
                continue
            used[name] = round(sum(t.user + t.system for t in times), 1)
        return used

    def megabytes(self) -> dict[str, float]:
        return {name: round(peak / 2**20, 1) for name, peak in self.peaks.items()}

    def _process(self, name: str) -> psutil.Process:
        pid = self.supervisor.pid(name)
        if pid is None:  # between a crash and its restart
            raise LookupError(f"{name} is not running")
        return psutil.Process(pid)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            for name in self.peaks:
                try:
                    rss = self._process(name).memory_info().rss
                except (psutil.Error, LookupError):
                    continue
                self.peaks[name] = max(self.peaks[name], rss)


def machine_loop_seconds(iterations: int = 3_000_000) -> float:
    """Seconds this machine takes for a fixed pure-Python loop, taken beside a benchmark so that
    runs can be compared across machines, and across a shared machine's slow and fast spells
    (on 2026-12-05 the same runs of bench/audit_throughput.py differed by a third within an hour)."""
    started, total = time.perf_counter(), 0
    for i in range(iterations):
        total += i
    return round(time.perf_counter() - started, 3)
