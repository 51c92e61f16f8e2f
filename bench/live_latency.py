"""Live audit latency: one job through the whole stack, followed on its websocket from the moment
it is created. Each event's delay is its arrival at the client minus its `ts` (when the emitting
service created it); events already emitted when the socket opened (the replay) are left out.
The delay is also cut in three: emitted -> on the bus (the emitting service's commit and outbox
relay), bus -> stored (the audit service; `recorded_at` in audit.events), stored -> client (the
audit's live fan-out, the gateway, the socket).

Run: .venv/bin/python -m bench.live_latency --words 20000 --width 8 --latency 0.2"""

import argparse
import asyncio
import json
import time
from collections import defaultdict
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg
import nats
import websockets

from bench.harness import PeakMemory, running_stack, service_processes, signed_up
from contracts.subjects import Subjects

_TERMINAL = ("job.completed", "job.failed", "job.cancelled")


@dataclass
class Timeline:
    opened: float = 0.0  # when the socket was open
    received: list[tuple[dict, float]] = field(default_factory=list)  # each event and its arrival
    on_bus: dict[str, float] = field(default_factory=dict)  # event id -> when NATS handed it on
    stored: dict[str, float] = field(default_factory=dict)  # event id -> audit.events.recorded_at


def percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


async def follow(ws_url: str, token: str, timeline: Timeline, timeout: float) -> None:
    """Every event of the job until its end, with its arrival time."""
    async with websockets.connect(ws_url, additional_headers={"Authorization": f"Bearer {token}"},
                                  max_size=None) as ws:
        timeline.opened = time.time()
        deadline = time.monotonic() + timeout
        while True:
            text = await asyncio.wait_for(ws.recv(), max(deadline - time.monotonic(), 0.1))
            event = json.loads(text)
            timeline.received.append((event, time.time()))
            if event["type"] in _TERMINAL:
                return


async def followed(nats_url: str, subjects: Subjects, ws_url: str, token: str, timeout: float) -> Timeline:
    """The socket's events, and when each went by on the bus (a plain subscriber beside the consumers)."""
    timeline = Timeline()
    nc = await nats.connect(nats_url)

    async def seen(msg) -> None:
        timeline.on_bus[json.loads(msg.data)["event_id"]] = time.time()

    try:
        await nc.subscribe(subjects.all, cb=seen)
        await follow(ws_url, token, timeline, timeout)
    finally:
        await nc.close()
    return timeline


async def recorded(database_url: str, job_id: str) -> dict[str, float]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT event_id::text, recorded_at FROM audit.events WHERE stream_id = $1", job_id)
    finally:
        await conn.close()
    return {r["event_id"]: r["recorded_at"].timestamp() for r in rows}


def _ms(ordered: list[float]) -> dict:
    return {"p50": round(percentile(ordered, 0.5), 1), "p90": round(percentile(ordered, 0.9), 1),
            "p99": round(percentile(ordered, 0.99), 1), "max": round(ordered[-1], 1)}


def summary(timeline: Timeline) -> dict:
    """Delays in ms of the events emitted after the socket opened: whole, by stage, worst by type."""
    whole, stages, worst = [], defaultdict(list), defaultdict(float)
    for event, arrived in timeline.received:
        emitted, bus, stored = (datetime.fromisoformat(event["ts"]).timestamp(),
                                timeline.on_bus.get(event["event_id"]), timeline.stored.get(event["event_id"]))
        if emitted < timeline.opened:
            continue
        whole.append((arrived - emitted) * 1000)
        worst[event["type"]] = max(worst[event["type"]], round(whole[-1], 1))
        if bus and stored:  # the audit's own db.query events never travel the bus
            for stage, seconds in (("emitted_to_bus", bus - emitted), ("bus_to_stored", stored - bus),
                                   ("stored_to_client", arrived - stored)):
                stages[stage].append(seconds * 1000)
    seqs = [event["seq"] for event, _ in timeline.received]
    return {"events_received": len(seqs), "in_order_without_gap": seqs == list(range(1, len(seqs) + 1)),
            "replayed_left_out": len(seqs) - len(whole), "measured": len(whole),
            **{f"{k}_ms": v for k, v in _ms(sorted(whole)).items()},
            "stages_ms": {stage: _ms(sorted(values)) for stage, values in stages.items()},
            "worst_by_type_ms": dict(sorted(worst.items(), key=lambda item: -item[1])[:5])}


def run(words: int, width: int, latency: float, behaviour: str, timeout: float) -> dict:
    behaviour = "+".join(b for b in (behaviour, f"latency:seconds={latency}" if latency else "") if b)
    with running_stack(width=width, fake_behaviour=behaviour,
                       extra_env={"LONGFORM_CHUNK_WORKERS": str(max(4, 2 * width))}) as (config, supervisor):
        with closing(signed_up(config.gateway_url)) as http, PeakMemory(supervisor, service_processes(config)) as services:
            before = services.cpu_seconds()
            job = http.post("/v1/jobs", json={"mode": "generate", "title": "Bench", "target_words": words,
                                              "instructions": "A long history of an imaginary river."}).json()["id"]
            ws_url = f"{config.gateway_url.replace('http', 'ws', 1)}/v1/jobs/{job}/audit/live?after_seq=0"
            token = http.headers["Authorization"].removeprefix("Bearer ")
            started = time.perf_counter()
            timeline = asyncio.run(followed(config.nats_url, Subjects(config.bus_prefix), ws_url, token, timeout))
            seconds = time.perf_counter() - started
            cpu = {name: round(used - before.get(name, 0), 1) for name, used in services.cpu_seconds().items()}
            status = http.get(f"/v1/jobs/{job}").json()["status"]
        timeline.stored = asyncio.run(recorded(config.database_url, job))
    return {"target_words": words, "section_width": width, "llm_latency_s": latency, "status": status,
            "job_seconds": round(seconds, 1), "service_cpu_seconds": cpu, **summary(timeline)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--words", type=int, default=20_000)
    parser.add_argument("--width", type=int, default=8, help="sections written in parallel")
    parser.add_argument("--latency", type=float, default=0.2, help="fixed seconds per fake LLM call")
    parser.add_argument("--behaviour", default="", help="the fake LLM's default behaviour, e.g. random_length")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds")
    args = parser.parse_args()
    print(json.dumps(run(args.words, args.width, args.latency, args.behaviour, args.timeout), indent=2))


if __name__ == "__main__":
    main()
