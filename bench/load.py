"""Many jobs at once (issue 19, part 4): `--jobs` jobs of `--min-words`..`--max-words` from
`--users` accounts, submitted evenly within `--submit-seconds`, against the fake LLM server at
`--latency` s a call, under a provider limit of `--rpm` requests a minute shared by every planner
and generator process (LONGFORM_LLM_MAX_REQUESTS_PER_MINUTE, services/common/llm/ratelimit.py),
with each account's jobs capped at `--active-per-user` running at once (the queue, migration
0038). Measured once per generator count in `--generators` (a fresh database and bus each time).

Per run it reports: every job's end and words against its target; throughput in words/s and LLM
calls/s against the limit (overall, and sustained: the middle 80 % of the calls); time to first
chunk (from submit, and from start for a queued job); live latency (emission to websocket, as
bench/live_latency.py measures it) of every `--follow-every`th job while loaded, with its stages;
peak RSS and CPU of each process; fairness per account (words/s each, Jain's index over them, the
longest wait in a queue).

Full run (issue 19): .venv/bin/python -m bench.load
Smaller:  .venv/bin/python -m bench.load --jobs 40 --users 8 --min-words 2000 --max-words 6000 --submit-seconds 15"""

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx

from bench.harness import PeakMemory, service_processes
from bench.live_latency import Timeline, follow, percentile
from bench.scale_out import stack_on_fresh_database
from longform_cli.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from longform_cli.stack import StackConfig

_ENDS = ("job.completed", "job.failed", "job.cancelled")


def stack_config(home: Path, database_url: str, nats_url: str, fake_port: int, generators: int,
                 args: argparse.Namespace) -> StackConfig:
    return StackConfig(
        home=home / f"generators-{generators}", database_url=database_url, nats_url=nats_url,
        gateway_port=free_port(), bus_prefix=f"lf{os.urandom(4).hex()}", replicas={"generator": generators},
        llm_env={"LONGFORM_LLM_PROVIDER": "openai-compatible", "LONGFORM_LLM_MODEL": "fake-writer",
                 "LONGFORM_LLM_BASE_URL": f"http://127.0.0.1:{fake_port}/v1",
                 "LONGFORM_LLM_MAX_REQUESTS_PER_MINUTE": str(args.rpm)},
        extra_env={"FAKE_LLM_DEFAULT": f"latency:seconds={args.latency}",
                   "LONGFORM_MAX_ACTIVE_JOBS_PER_USER": str(args.active_per_user),
                   "LONGFORM_MAX_QUEUED_JOBS_PER_USER": str(args.jobs),
                   "LONGFORM_RATE_LIMITS": "signup=0,signin=0,token=0,job=0"},
    )


def workload(args: argparse.Namespace) -> list[tuple[float, int, int]]:
    """(seconds after the start, account, target words) of each job: evenly spaced, accounts in turn."""
    pick = random.Random(args.seed)
    spacing = args.submit_seconds / max(args.jobs - 1, 1)
    return [(i * spacing, i % args.users, pick.randint(args.min_words, args.max_words)) for i in range(args.jobs)]


async def drive(url: str, args: argparse.Namespace) -> dict:
    """Signs the accounts up, submits the workload on time, follows a sample on websockets, and
    waits for every job to end."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        tokens = [(await http.post("/v1/users", json={"name": f"load-{u}"})).raise_for_status().json()["token"]
                  for u in range(args.users)]
        jobs, follows, refused = [], [], 0
        started = time.monotonic()
        for i, (at, user, words) in enumerate(workload(args)):
            await asyncio.sleep(max(0.0, started + at - time.monotonic()))
            answer = await http.post("/v1/jobs", headers={"Authorization": f"Bearer {tokens[user]}"},
                                     json={"mode": "generate", "title": f"Load {i}", "target_words": words,
                                           "instructions": "A long history of an imaginary river."})
            if answer.status_code == 429:
                refused += 1
                continue
            job = answer.raise_for_status().json() | {"user": user, "target_words": words}
            jobs.append(job)
            if i % args.follow_every == 0:
                follows.append(asyncio.create_task(_followed(url, job["id"], tokens[user], args.timeout)))
        timelines = await asyncio.gather(*follows, return_exceptions=True)
        await _all_ended(http, jobs, tokens, args.timeout)
    return {"jobs": jobs, "refused": refused, "timelines": [t for t in timelines if isinstance(t, Timeline)],
            "follow_errors": [repr(t) for t in timelines if not isinstance(t, Timeline)]}


async def _followed(url: str, job_id: str, token: str, timeout: float) -> Timeline:
    timeline = Timeline()
    ws_url = f"{url.replace('http', 'ws', 1)}/v1/jobs/{job_id}/audit/live?after_seq=0"
    await follow(ws_url, token, timeline, timeout)
    return timeline


async def _all_ended(http: httpx.AsyncClient, jobs: list[dict], tokens: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for job in jobs:
        while time.monotonic() < deadline:
            state = (await http.get(f"/v1/jobs/{job['id']}",
                                    headers={"Authorization": f"Bearer {tokens[job['user']]}"})).json()
            if state["status"] in ("completed", "failed", "cancelled"):
                break
            await asyncio.sleep(1.0)


_PER_JOB = """
SELECT j.id::text AS job_id, j.user_id::text AS user_id, j.target_words, j.created_at, s.status, s.words,
       min(e.occurred_at) FILTER (WHERE e.type = 'job.requested') AS started,
       min(e.occurred_at) FILTER (WHERE e.type = 'chunk.processed') AS first_chunk,
       max(e.occurred_at) FILTER (WHERE e.type = ANY($1)) AS ended
  FROM gateway.jobs j JOIN audit.job_state s ON s.job_id = j.id JOIN audit.events e ON e.job_id = j.id
 GROUP BY j.id, s.status, s.words
"""


async def stored(database_url: str, event_ids: list[str]) -> tuple[list, list[float], dict[str, float]]:
    conn = await asyncpg.connect(database_url)
    try:
        jobs = await conn.fetch(_PER_JOB, list(_ENDS))
        calls = await conn.fetch("SELECT occurred_at FROM audit.events WHERE type = 'llm.call' ORDER BY occurred_at")
        recorded = await conn.fetch("SELECT event_id::text, recorded_at FROM audit.events WHERE event_id = ANY($1::uuid[])",
                                    event_ids)
    finally:
        await conn.close()
    return jobs, [r["occurred_at"].timestamp() for r in calls], {r["event_id"]: r["recorded_at"].timestamp()
                                                                 for r in recorded}


def _ms(values: list[float]) -> dict:
    ordered = sorted(values)
    if not ordered:
        return {}
    return {"p50": round(percentile(ordered, 0.5), 1), "p99": round(percentile(ordered, 0.99), 1),
            "max": round(ordered[-1], 1), "n": len(ordered)}


def live(timelines: list[Timeline], recorded: dict[str, float]) -> dict:
    """Emission to websocket of the events emitted after each socket opened, and its two halves."""
    whole, to_stored, to_client = [], [], []
    for timeline in timelines:
        for event, arrived in timeline.received:
            emitted = datetime.fromisoformat(event["ts"]).timestamp()
            if emitted < timeline.opened:
                continue
            whole.append((arrived - emitted) * 1000)
            if (at := recorded.get(event["event_id"])) is not None:
                to_stored.append((at - emitted) * 1000)
                to_client.append((arrived - at) * 1000)
    return {"emission_to_client_ms": _ms(whole), "stages_ms": {"emitted_to_stored": _ms(to_stored),
                                                              "stored_to_client": _ms(to_client)}}


def throughput(jobs: list, calls: list[float], rpm: float) -> dict:
    first = min(j["created_at"].timestamp() for j in jobs)
    last = max(j["ended"].timestamp() for j in jobs if j["ended"])
    words = sum(j["words"] for j in jobs)
    lo, hi = calls[len(calls) // 10], calls[(len(calls) * 9) // 10]
    sustained = (len(calls) * 0.8) / (hi - lo) if hi > lo else 0.0
    return {"makespan_s": round(last - first, 1), "words": words, "words_per_s": round(words / (last - first), 1),
            "llm_calls": len(calls), "llm_calls_per_s": round(len(calls) / (calls[-1] - calls[0]), 2),
            "llm_calls_per_s_sustained": round(sustained, 2), "limit_per_s": round(rpm / 60, 2),
            "limit_used_sustained": f"{100 * sustained / (rpm / 60):.0f} %"}


def fairness(jobs: list) -> dict:
    """Per account: words/s from its first submit to its last end; Jain's index over them (1: equal)."""
    by_user = defaultdict(list)
    for j in jobs:
        by_user[j["user_id"]].append(j)
    rates, waits = [], []
    for own in by_user.values():
        span = max(j["ended"].timestamp() for j in own) - min(j["created_at"].timestamp() for j in own)
        rates.append(sum(j["words"] for j in own) / span)
        waits.append(max((j["started"] - j["created_at"]).total_seconds() for j in own if j["started"]))
    jain = sum(rates) ** 2 / (len(rates) * sum(r * r for r in rates))
    return {"accounts": len(rates), "words_per_s_min": round(min(rates), 1), "words_per_s_max": round(max(rates), 1),
            "jain_index": round(jain, 3), "longest_queue_wait_s": round(max(waits), 1)}


def report(collected: dict, jobs: list, calls: list[float], recorded: dict, args: argparse.Namespace) -> dict:
    ended = [j for j in jobs if j["ended"]]
    short = [j["job_id"] for j in jobs if j["status"] != "completed" or j["words"] < j["target_words"]]
    from_submit = [(j["first_chunk"] - j["created_at"]).total_seconds() * 1000 for j in jobs if j["first_chunk"]]
    from_start = [(j["first_chunk"] - j["started"]).total_seconds() * 1000 for j in jobs if j["first_chunk"]]
    return {"jobs_submitted": len(collected["jobs"]), "refused_429": collected["refused"], "jobs_ended": len(ended),
            "completed_at_or_above_target": len(jobs) - len(short), "not_completed_or_short": short[:10],
            **throughput(jobs, calls, args.rpm),
            "first_chunk_from_submit_ms": _ms(from_submit), "first_chunk_from_start_ms": _ms(from_start),
            "live": live(collected["timelines"], recorded), "jobs_followed": len(collected["timelines"]),
            "follow_errors": collected["follow_errors"][:3], "fairness": fairness(ended)}


def run(home: Path, server_url: str, nats_url: str, generators: int, args: argparse.Namespace) -> dict:
    with stack_on_fresh_database(server_url, lambda database_url, fake_port: stack_config(
            home, database_url, nats_url, fake_port, generators, args)) as (config, supervisor):
        database_url = config.database_url
        with PeakMemory(supervisor, ["fake-llm", *service_processes(config)]) as usage:
            before = usage.cpu_seconds()
            collected = asyncio.run(drive(config.gateway_url, args))
            cpu = {name: round(used - before.get(name, 0), 1) for name, used in usage.cpu_seconds().items()}
        load = [round(x, 1) for x in os.getloadavg()]
    ids = [e["event_id"] for t in collected["timelines"] for e, _ in t.received]
    jobs, calls, recorded = asyncio.run(stored(database_url, ids))
    return {"generators": generators, **report(collected, jobs, calls, recorded, args),
            "peak_rss_mb": usage.megabytes(), "cpu_seconds": cpu, "load_average_1_5_15": load}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--min-words", type=int, default=2_000)
    parser.add_argument("--max-words", type=int, default=20_000)
    parser.add_argument("--submit-seconds", type=float, default=60.0, help="all jobs are submitted within this")
    parser.add_argument("--latency", type=float, default=1.0, help="fixed seconds per fake LLM call")
    parser.add_argument("--rpm", type=float, default=600, help="the provider limit, shared by every process")
    parser.add_argument("--active-per-user", type=int, default=3, help="LONGFORM_MAX_ACTIVE_JOBS_PER_USER")
    parser.add_argument("--generators", default="1,2,4", help="generator process counts, one run each")
    parser.add_argument("--follow-every", type=int, default=10, help="follow every n-th job on a websocket")
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="lf-load-"))
    postgres, nats = EmbeddedPostgres(home / "pg", fast=True), EmbeddedNats(home / "nats")
    try:
        server_url, nats_url = postgres.start(), nats.start()
        for n in (int(g) for g in args.generators.split(",")):
            print(json.dumps(run(home, server_url, nats_url, n, args), indent=2, default=str), flush=True)
    finally:
        nats.stop()
        postgres.stop()


if __name__ == "__main__":
    main()
