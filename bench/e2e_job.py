"""End-to-end benchmark: one `generate` job through the whole stack, measuring wall time,
throughput and each service's peak resident memory.

Run: .venv/bin/python -m bench.e2e_job --words 500000 --width 16 [--latency 1.0]"""

import argparse
import json
import subprocess
import sys
from contextlib import closing, contextmanager
import time
from pathlib import Path

from bench.harness import PeakMemory, running_stack, service_processes, signed_up


def run_job(url: str, words: int, audit_out: str = "") -> dict:
    with closing(signed_up(url)) as http:
        started = time.perf_counter()
        job = http.post("/v1/jobs", json={"mode": "generate", "title": "Bench", "target_words": words,
                                          "instructions": "A long history of an imaginary river."}).json()["id"]
        while (state := http.get(f"/v1/jobs/{job}").json())["status"] not in ("completed", "failed"):
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        log = http.get(f"/v1/jobs/{job}/audit").text
        events = log.count("\n")
        llm_ms = sum(json.loads(line)["data"]["attributes"]["longform.latency_ms"] or 0
                     for line in log.splitlines() if '"type":"llm.call"' in line)
        if audit_out:
            Path(audit_out).write_text(log)
    return {"status": state["status"], "target_words": words, "words": state["words"],
            "chunks": state["chunks_total"], "events": events, "seconds": round(elapsed, 2),
            "llm_call_seconds": round(llm_ms / 1000, 1),
            "words_per_second": round(words / elapsed)}


@contextmanager
def profiled(supervisor, names: list[str], out_dir: str):
    """py-spy samples each named service for as long as the block lasts: collapsed stacks
    (`raw`) in OUT_DIR/NAME.txt, summarised by `python -m bench.profile_top`."""
    if not out_dir:
        yield
        return
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    spies = [subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(supervisor.pid(name)),
                               "--subprocesses", "--rate", "50", "--format", "raw", "-o", f"{out_dir}/{name}.txt"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for name in names]
    try:
        yield
    finally:
        for spy in spies:
            spy.send_signal(2)  # py-spy writes its file on SIGINT
        for spy in spies:
            spy.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--words", type=int, default=50_000)
    parser.add_argument("--width", type=int, default=1, help="sections written in parallel")
    parser.add_argument("--latency", type=float, default=0.0, help="fixed seconds per fake LLM call")
    parser.add_argument("--audit-out", default="", help="write the job's audit log (NDJSON) here")
    parser.add_argument("--profile", default="", help="py-spy every service into this directory (raw stacks)")
    parser.add_argument("--behaviour", default="", help="the fake LLM's default behaviour, e.g. random_length")
    args = parser.parse_args()
    behaviour = "+".join(b for b in (args.behaviour, f"latency:seconds={args.latency}" if args.latency else "") if b)
    with running_stack(width=args.width, fake_behaviour=behaviour,
                       extra_env={"LONGFORM_CHUNK_WORKERS": str(max(4, 2 * args.width))}) as (config, supervisor):
        with PeakMemory(supervisor, service_processes(config)) as memory:
            with profiled(supervisor, service_processes(config), args.profile):
                result = run_job(config.gateway_url, args.words, args.audit_out)
            result["cpu_seconds"] = memory.cpu_seconds()
        result["ideal_seconds"] = round(result["llm_call_seconds"] / args.width, 1)
        result["ratio_to_ideal"] = round(result["seconds"] / max(result["ideal_seconds"], 0.1), 2)
        result |= {"section_width": args.width, "llm_latency_s": args.latency, "peak_rss_mb": memory.megabytes()}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
