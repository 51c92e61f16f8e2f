"""Per-chunk overhead of one job, counted from its audit log (NDJSON, as `bench.e2e_job
--audit-out` writes it): events, transactions (`db.query` events: one per audited transaction
or batch of reads), statements inside them, and the events of each type, all divided by the
job's chunks. Every event is one outbox row and one JetStream publish, so `events` is also the
NATS publishes a chunk costs.

Run: .venv/bin/python -m bench.chunk_overhead /tmp/audit.ndjson [more.ndjson ...]"""

import argparse
import json
from collections import Counter


def overhead(path: str) -> dict:
    types, services, statements, executions, chunks = Counter(), Counter(), 0, 0, set()
    for line in open(path):
        event = json.loads(line)
        types[event["type"]] += 1
        services[event["service"]] += 1
        data = event.get("data") or {}
        if event["type"] == "db.query":
            types[f"db.query ({event['service']}, {data.get('context') or 'handler'})"] += 1
            statements += len(data.get("statements") or ())
            executions += sum(s.get("executions") or 1 for s in data.get("statements") or ())
        if event["type"] == "chunk.processed":
            chunks.add(data["chunk_index"])
    n = max(len(chunks), 1)
    events = sum(c for t, c in types.items() if not t.startswith("db.query ("))
    return {"chunks": len(chunks), "events": events / n, "transactions": types["db.query"] / n,
            "statements": statements / n, "executions": executions / n,
            "types": {t: c / n for t, c in types.most_common()}, "services": {s: c / n for s, c in services.most_common()}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    rows = [(path, overhead(path)) for path in args.paths]
    print("| per chunk | " + " | ".join(path for path, _ in rows) + " |")
    print("|---|" + "---|" * len(rows))
    print("| chunks | " + " | ".join(str(r["chunks"]) for _, r in rows) + " |")
    for key in ("events", "transactions", "statements", "executions"):
        print(f"| {key} | " + " | ".join(f"{r[key]:.2f}" for _, r in rows) + " |")
    for kind in ("types", "services"):
        names = dict.fromkeys(name for _, r in rows for name in r[kind])
        for name in names:
            print(f"| {kind[:-1]} `{name}` | " + " | ".join(f"{r[kind].get(name, 0):.2f}" for _, r in rows) + " |")


if __name__ == "__main__":
    main()
