"""Audit throughput: N events already waiting in the stream, then the audit service alone (as
the stack runs it: its own process and database role), timed from its first stored row to the
last. Checks that no event is lost, stored twice or stored otherwise than sent, that every
stream's seq runs 1..count without a gap, and that every stream's hash chain verifies up to its
head. With `--replicas 2`, two audit processes share the one durable consumer.

Run: .venv/bin/python -m bench.audit_throughput --events 100000 [--replicas 2]"""

import argparse
import asyncio
import contextlib
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import asyncpg
import nats
import psutil

from bench.audit_events import bench_events
from bench.harness import machine_loop_seconds
from contracts.auditlog import ChainCheck, event_line, stream_id
from contracts.envelope import Envelope
from contracts.subjects import Subjects
from longform_cli.embedded import EmbeddedNats, EmbeddedPostgres
from longform_cli.stack import StackConfig, prepare_database, service_env
from services.common.bus import Bus
from services.common.roles import service_url

_PUBLISH_WINDOW = 500  # publishes awaiting their JetStream ack at once
_POLL_SECONDS = 0.2
_FIRST_ROW_TIMEOUT = 60.0


async def publish_all(nats_url: str, subjects: Subjects, events: list[Envelope]) -> None:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    try:
        for start in range(0, len(events), _PUBLISH_WINDOW):
            await asyncio.gather(*(
                js.publish(subjects.of(e.type), e.model_dump_json().encode(), stream=subjects.stream,
                           headers={"Nats-Msg-Id": str(e.event_id)}, timeout=30)
                for e in events[start:start + _PUBLISH_WINDOW]))
    finally:
        await nc.close()


async def persisted(conn: asyncpg.Connection, total: int) -> int:
    """Bench events stored so far; counted exactly only once the stream heads say all may be there."""
    heads = await conn.fetchval("SELECT coalesce(sum(last_seq), 0) FROM audit.stream_heads")
    if heads < total:
        return min(heads, total - 1) if heads else 0
    return await conn.fetchval("SELECT count(*) FROM audit.events WHERE service <> 'audit'")


async def watch(database_url: str, processes: dict[str, Callable[[], list[psutil.Process]]], total: int,
                timeout: float) -> dict:
    """Polls until every event is stored; times the first row seen to the last, and measures the CPU
    each process group used meanwhile and the audit service's peak RSS."""
    conn = await asyncpg.connect(database_url)
    audits = processes["audit"]()
    spawned, first, cpu_at_first, peak = time.perf_counter(), None, {}, 0
    try:
        while True:
            count = await persisted(conn, total)
            now, peak = time.perf_counter(), max(peak, *(audit.memory_info().rss for audit in audits))
            if count and first is None:
                first, cpu_at_first = now, _cpu(processes)
            if count >= total:
                break
            if now - spawned > (timeout if count else _FIRST_ROW_TIMEOUT) or not all(a.is_running() for a in audits):
                raise RuntimeError(f"only {count} of {total} events stored after {now - spawned:.0f} s")
            await asyncio.sleep(_POLL_SECONDS)
        seconds, cpu = now - first, _cpu(processes)
        return {"startup_seconds": round(first - spawned, 2), "seconds": round(seconds, 2),
                "events_per_second": round(total / seconds) if seconds else None,
                "audit_cpu_seconds": round(cpu["audit"], 1), "peak_rss_mb": round(peak / 2**20, 1),
                "cpu_seconds_while_consuming": {name: round(cpu[name] - cpu_at_first[name], 1) for name in cpu},
                **await inspect(conn, total)}
    finally:
        await conn.close()


def _cpu(processes: dict[str, Callable[[], list[psutil.Process]]]) -> dict[str, float]:
    """User + system seconds of each group (a process that ended in between is not counted)."""
    used = {}
    for name, group in processes.items():
        used[name] = 0.0
        for process in group():
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                used[name] += times.user + times.system
    return used


def _tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


async def inspect(conn: asyncpg.Connection, total: int) -> dict:
    """What was stored: the insert-time span, no event twice, every stream's seq 1..count."""
    row = await conn.fetchrow(
        "SELECT count(*) AS stored, count(DISTINCT event_id) AS distinct_ids,"
        " extract(epoch FROM max(recorded_at) - min(recorded_at))::float8 AS span"
        " FROM audit.events WHERE service <> 'audit'")
    streams = await conn.fetchrow(
        "SELECT count(*) AS streams, count(*) FILTER (WHERE min_seq <> 1 OR max_seq <> rows) AS with_gaps,"
        " sum(rows)::bigint AS rows FROM (SELECT min(seq) AS min_seq, max(seq) AS max_seq, count(*) AS rows"
        " FROM audit.events GROUP BY stream_id) s")
    heads_ok = await conn.fetchval(
        "SELECT bool_and(h.last_seq = e.max_seq) FROM audit.stream_heads h"
        " JOIN (SELECT stream_id, max(seq) AS max_seq FROM audit.events GROUP BY stream_id) e USING (stream_id)")
    return {"stored": row["stored"], "duplicates": row["stored"] - row["distinct_ids"],
            "lost": total - row["distinct_ids"], "events_per_second_by_recorded_at": round(total / row["span"]),
            "audit_own_events": streams["rows"] - row["stored"], "streams": streams["streams"],
            "streams_with_seq_gaps": streams["with_gaps"], "stream_heads_match": heads_ok,
            "streams_whose_chain_breaks": await broken_chains(conn)}


async def broken_chains(conn: asyncpg.Connection) -> int:
    """Every stream's hash chain recomputed from its rows, as a download's verifier does, against its head."""
    broken = 0
    for head in await conn.fetch("SELECT stream_id, head, chained_seq FROM audit.stream_heads"):
        check = ChainCheck()
        check.feed(event_line({**row, "data": json.loads(row["data"])}) for row in await conn.fetch(
            "SELECT * FROM audit.events WHERE stream_id = $1 ORDER BY seq", head["stream_id"]))
        broken += not check.verdict(head["head"], head["chained_seq"]).intact
    return broken


async def differing(database_url: str, sample: list[Envelope]) -> int:
    """How many of these events the table holds otherwise than they were sent."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT event_id, job_id, user_id, type, service, occurred_at, data::text AS data"
                                " FROM audit.events WHERE event_id = ANY($1::uuid[])", [e.event_id for e in sample])
    finally:
        await conn.close()
    stored = {r["event_id"]: (*(r[k] for k in ("job_id", "user_id", "type", "service", "occurred_at")),
                              json.loads(r["data"])) for r in rows}
    return sum(stored.get(e.event_id) != (e.job_id, e.user_id, e.type, e.service, e.occurred_at, e.data)
               for e in sample)


async def out_of_order(database_url: str, events: list[Envelope]) -> int:
    """Streams whose events are numbered otherwise than the bus holds them (publish order)."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT stream_id, event_id FROM audit.events WHERE service <> 'audit'"
                                " ORDER BY stream_id, seq")
    finally:
        await conn.close()
    stored, sent = {}, {}
    for r in rows:
        stored.setdefault(r["stream_id"], []).append(r["event_id"])
    for e in events:
        sent.setdefault(stream_id(e.job_id, e.user_id), []).append(e.event_id)
    return sum(stored.get(stream) != ids for stream, ids in sent.items())


async def _create_stream(config: StackConfig) -> None:
    bus = Bus(config.nats_url, Subjects(config.bus_prefix), "bench")
    await bus.connect()  # creates the stream
    await bus.stop()


@contextmanager
def servers(home: Path, batch_size: int) -> Iterator[tuple[StackConfig, dict]]:
    """Embedded Postgres (migrated, the roles able to log in) and NATS with the stream; the config
    the audit service gets, and the servers' processes."""
    postgres, broker = EmbeddedPostgres(home / "pg"), EmbeddedNats(home / "nats")
    try:
        config = StackConfig(home=home, database_url=postgres.start(), nats_url=broker.start(), gateway_port=0,
                             extra_env={"LONGFORM_BATCH_SIZE": str(batch_size)} if batch_size else {})
        prepare_database(config.database_url)
        asyncio.run(_create_stream(config))
        yield config, {"postgres": lambda: _tree(postgres.pid), "nats": lambda: [psutil.Process(broker.pid)]}
    finally:
        broker.stop()
        postgres.stop()


@contextmanager
def audit_service(config: StackConfig, profile: str, replicas: int = 1) -> Iterator[list[subprocess.Popen]]:
    """`python -m services.audit` as the stack starts it, `replicas` times on its one durable
    consumer (the first optionally under cProfile); on failure, the end of each log is in the error."""
    env = {**service_env(config), "DATABASE_URL": service_url(config.database_url, "audit")}
    logs, audits = [config.home / f"audit-{n}.log" for n in range(replicas)], []
    for n, log_path in enumerate(logs):
        profiled = ["-m", "cProfile", "-o", str(Path(profile).resolve())] if profile and n == 0 else []
        with open(log_path, "wb") as log:
            audits.append(subprocess.Popen([sys.executable, *profiled, "-m", "services.audit"], env=env, stdout=log,
                                           stderr=subprocess.STDOUT))
    try:
        yield audits
    except RuntimeError as error:
        tails = ["\n".join(p.read_text(errors="replace").splitlines()[-30:]) for p in logs]
        raise RuntimeError(f"{error}; the audit services' logs end:\n" + "\n--\n".join(tails)) from None
    finally:
        for audit in audits:
            audit.terminate()
        for audit in audits:
            audit.wait(30)


def run(total: int, jobs: int, users: int, timeout: float, batch_size: int = 0, profile: str = "",
        replicas: int = 1) -> dict:
    home = Path(tempfile.mkdtemp(prefix="lf-bench-audit-"))
    try:
        with servers(home, batch_size) as (config, processes):
            events = bench_events(total, jobs, users)
            started = time.perf_counter()
            asyncio.run(publish_all(config.nats_url, Subjects(config.bus_prefix), events))
            published = time.perf_counter() - started
            loop_before = machine_loop_seconds()
            with audit_service(config, profile, replicas) as audits:
                processes = {"audit": lambda: [psutil.Process(a.pid) for a in audits], **processes}
                result = asyncio.run(watch(config.database_url, processes, total, timeout))
            result["machine_loop_seconds"] = [loop_before, machine_loop_seconds()]  # before, after
            sample = random.sample(events, min(1000, total))
            result["sample_stored_otherwise"] = asyncio.run(differing(config.database_url, sample))
            result["streams_out_of_bus_order"] = asyncio.run(out_of_order(config.database_url, events))
        return {"events": total, "jobs": jobs, "users": users, "audit_replicas": replicas, "publish_seconds": round(published, 1), **result}
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=50, help="jobs whose events are interleaved")
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds")
    parser.add_argument("--batch-size", type=int, default=0, help="the audit's batch size (default: its own)")
    parser.add_argument("--profile", default="", help="run the audit service under cProfile, stats to this file")
    parser.add_argument("--replicas", type=int, default=1, help="audit processes sharing the one durable consumer")
    args = parser.parse_args()
    print(json.dumps(run(args.events, args.jobs, args.users, args.timeout, args.batch_size, args.profile,
                         args.replicas), indent=2))


if __name__ == "__main__":
    main()
