"""The audit's append statement alone, on Postgres: `audit.append_events` (migrations up to 0040)
against `audit.append_lines` (0041), the same batches of 2,500 realistic events (bench/audit_events.py)
linked as the audit service links them, each in a fresh scratch database. Times the statement from
the client (sent to answered), per event; the seqs are reserved beforehand, as the service does.

Run: .venv/bin/python -m bench.append_statement [--events 50000] [--rounds 2]
(on $DATABASE_URL's server if set, else on an embedded Postgres)"""

import argparse
import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path

import asyncpg

from bench.audit_events import bench_events
from longform_cli.embedded import EmbeddedPostgres
from services.audit.arrivals import Arrived, arrived
from services.audit.chains import Linked, link
from services.audit.store import by_stream, insert
from services.common.migrations import scratch_database

BATCH = 2500


async def _batches(total: int) -> list[list[Arrived]]:
    events = [arrived(e.model_dump_json().encode()) for e in bench_events(total, 50, 5)]
    return [events[i:i + BATCH] for i in range(0, len(events), BATCH)]


async def _append_events(conn: asyncpg.Connection, chains: list[Linked]) -> None:
    await conn.execute("SELECT audit.append_events($1::text[], $2::text[], $3::bytea[])",
                       [c.stream for c in chains for _ in c.texts], [t.decode() for c in chains for t in c.texts],
                       [h for c in chains for h in c.hashes])


# append_lines as the audit service calls it (a connection takes `execute` as its Tx does).
STATEMENTS = {"append_events": (40, _append_events), "append_lines": (41, insert)}


async def timed(url: str, batches: list[list[Arrived]], append) -> float:
    """Seconds spent in the append statements, all batches."""
    conn = await asyncpg.connect(url)
    spent = 0.0
    try:
        for batch in batches:
            streams = by_stream(batch)
            names = sorted(streams)
            async with conn.transaction():
                rows = await conn.fetch("SELECT * FROM audit.reserve_seqs($1::text[], $2::bigint[])", names,
                                        [len(streams[s]) for s in names])
                chains = [link(r["stream_id"], r["first_seq"], bytes(r["head"]), streams[r["stream_id"]])
                          for r in rows]
                started = time.perf_counter()
                await append(conn, chains)
                spent += time.perf_counter() - started
    finally:
        await conn.close()
    return spent


async def compare(server_url: str, total: int, rounds: int) -> None:
    batches = await _batches(total)
    for _ in range(rounds):
        for name, (up_to, append) in STATEMENTS.items():
            async with scratch_database(server_url, up_to=up_to) as url:
                seconds = await timed(url, batches, append)
            print(f"{name}: {seconds / total * 1e6:.1f} us an event ({total} events, batches of {BATCH})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if url := os.environ.get("DATABASE_URL"):
        asyncio.run(compare(url, args.events, args.rounds))
        return
    home = Path(tempfile.mkdtemp(prefix="lf-bench-append-"))
    postgres = EmbeddedPostgres(home / "pg")
    try:
        asyncio.run(compare(postgres.start(), args.events, args.rounds))
    finally:
        postgres.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
