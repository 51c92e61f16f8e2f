"""Chaos soak: N jobs through the whole stack while a random service is SIGKILLed every few seconds
(and, with --servers, NATS or Postgres restarted now and then). Each job is judged as the chaos
tests judge one (tests/chaos/verdict.py): completed at its length, every chunk once in the document,
no event id twice, every committed event in the event table, and no LLM call for work that was
complete before a kill. Exits 1 if any job ends short, duplicated or with an event lost.

Run: .venv/bin/python -m bench.chaos --jobs 12 --every 3 [--servers] [--seed 7]"""

import argparse
import json
import random
import shutil
import signal
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.harness import BackgroundLoop
from fake_llm import running_fake_llm
from longform_cli.embedded import EmbeddedNats, EmbeddedPostgres
from longform_cli.stack import SERVICES
from tests.chaos import verdict
from tests.chaos.crashes import ChaosStack, chaos_stack


class Killer(BackgroundLoop):
    """Every `every` seconds (jittered), notes what each running job has complete, then kills a
    random victim: a service (SIGKILL; the supervisor starts it again) or a server (stopped for a
    moment, then started)."""

    def __init__(self, stack: ChaosStack, servers: dict, rng: random.Random, every: float) -> None:
        super().__init__()
        self.stack, self.servers, self.rng, self.every = stack, servers, rng, every
        self.jobs: list[str] = []
        self.snapshots: dict[str, list[verdict.Snapshot]] = {}
        self.kills: Counter = Counter()

    def _run(self) -> None:
        victims = list(SERVICES) + list(self.servers)
        while not self._stop.wait(self.rng.uniform(0.5, 1.5) * self.every):
            try:
                self._kill_one(victims)
            except Exception as problem:  # a kill that failed is reported, and the soak goes on
                self.kills[f"failed: {type(problem).__name__}: {problem}"[:200]] += 1

    def _kill_one(self, victims: list[str]) -> None:
        running = [j for j in self.jobs if verdict.status(self.stack.database_url, j) not in verdict.TERMINAL]
        for job in running:
            self.snapshots.setdefault(job, []).append(
                verdict.snapshot(self.stack.database_url, self.stack.llm_root, job))
        victim = self.rng.choice(victims)
        if victim in self.servers:
            self.servers[victim].stop()
            time.sleep(1.0)
            self.servers[victim].start()
        else:
            self.stack.supervisor.crash(victim)
        self.kills[victim] += 1


def soak(args) -> dict:
    rng = random.Random(args.seed)
    home = Path(tempfile.mkdtemp(prefix="lf-chaos-soak-"))
    postgres, nats = EmbeddedPostgres(home / "pg", fast=True), EmbeddedNats(home / "nats")
    try:
        database_url, nats_url = postgres.start(), nats.start()
        with running_fake_llm(default_behaviour=f"latency:seconds={args.latency}") as llm, \
                chaos_stack(home / "stack", database_url, nats_url, llm.root_url) as stack:
            servers = {"nats": nats, "postgres": postgres} if args.servers else {}
            http = stack.user()
            started = time.perf_counter()
            targets = [rng.randint(args.min_words, args.max_words) for _ in range(args.jobs)]
            with Killer(stack, servers, random.Random(rng.random()), args.every) as killer:
                with ThreadPoolExecutor(args.concurrent) as pool:  # at most this many jobs at once
                    ended = list(pool.map(lambda t: _one_job(stack, http, killer, t, args.timeout), targets))
            seconds = time.perf_counter() - started
            verdicts = [stack.judge(job, killer.snapshots.get(job, [])) for job, _ in ended]
            result = _report(verdicts, killer, seconds, args)
        if result["problems"]:
            result["logs"] = str(home / "stack" / "logs")
        else:
            shutil.rmtree(home, ignore_errors=True)
        return result
    finally:
        nats.stop()
        postgres.stop()


def _one_job(stack: ChaosStack, http, killer: Killer, target: int, timeout: float) -> tuple[str, str]:
    job = stack.submit(http, target)
    killer.jobs.append(job)
    try:
        return job, stack.wait_until_ended(job, timeout)
    except TimeoutError as stuck:
        return job, str(stuck)


def _report(verdicts: list[verdict.Verdict], killer: Killer, seconds: float, args) -> dict:
    return {
        "jobs": len(verdicts),
        "jobs_completed": sum(v.status == "completed" for v in verdicts),
        "jobs_short": sum(v.words_short > 0 for v in verdicts),
        "words_short": sum(v.words_short for v in verdicts),
        "duplicate_chunks": sum(v.duplicate_chunks for v in verdicts),
        "duplicate_event_ids": sum(v.duplicate_event_ids for v in verdicts),
        "seq_gaps": sum(v.seq_gaps for v in verdicts),
        "lost_events": sum(v.lost_events for v in verdicts),
        "wasted_llm_calls": sum(len(v.wasted_calls) for v in verdicts),
        "redelivered": sum(v.redelivered for v in verdicts),
        "resumed_on_start": sum(v.resumed for v in verdicts),
        "events": sum(v.events for v in verdicts),
        "chunks": sum(v.chunks_planned for v in verdicts),
        "kills": dict(sorted(killer.kills.items())),
        "seconds": round(seconds, 1),
        "problems": {v.job_id: v.problems() for v in verdicts if v.problems()},
        "settings": {"jobs": args.jobs, "concurrent": args.concurrent, "every": args.every, "seed": args.seed,
                     "servers": args.servers, "words": [args.min_words, args.max_words], "latency": args.latency},
    }


def _interrupted(*_) -> None:
    raise KeyboardInterrupt  # so the stack, Postgres and NATS are stopped on the way out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=12)
    parser.add_argument("--concurrent", type=int, default=3, help="jobs running at once")
    parser.add_argument("--every", type=float, default=3.0, help="seconds between kills (jittered +-50%%)")
    parser.add_argument("--servers", action="store_true", help="also restart NATS and Postgres")
    parser.add_argument("--min-words", type=int, default=600)
    parser.add_argument("--max-words", type=int, default=1500)
    parser.add_argument("--latency", type=float, default=0.3, help="seconds per fake LLM call")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds a job may take")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _interrupted)
    args.seed = args.seed if args.seed is not None else random.randrange(2**32)
    result = soak(args)
    print(json.dumps(result, indent=2))
    failed = result["jobs_short"] or result["duplicate_chunks"] or result["lost_events"] or result["problems"]
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
