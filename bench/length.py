"""Length control benchmark: every prompt of LongBench-Write (English) as a `generate` job whose
target is the record's `length`, against the fake LLM server ignoring length (or a real provider
configured by LONGFORM_LLM_* when --real is given). Reports per length bucket: the share of jobs
>= target, median and max overshoot, LongWriter's length score S_l, and LLM tokens per word.

Also: the run's wall time, and db.query events per LLM call (the audit log's share of SQL).

Run: .venv/bin/python -m bench.length [--behaviour random_length] [--limit N]
A provider that ignores every format: --behaviour "ignore_formats+chatty+random_length+...".
The analysis case: --analyze, each prompt an `analyze` job's instructions about one source
(tests/data/source_essay.md, or --source FILE), at the record's length."""

import argparse
import json
from collections import Counter
from contextlib import closing
import os
import statistics
import time
from pathlib import Path

from bench.harness import running_stack, signed_up

DATA = Path(__file__).resolve().parents[2] / "shared" / "bench-data" / "longbench_write_en.jsonl"
ESSAY = Path(__file__).resolve().parents[1] / "tests" / "data" / "source_essay.md"
CACHED_INPUT = "gen_ai.usage.cache_read.input_tokens"  # as services/audit/projection.py reads it
BUCKETS = ((0, 500), (500, 2000), (2000, 5000), (5000, 20_001))


def length_score(delivered: int, required: int) -> float:
    """S_l from LongWriter's evaluation (bench-data/README.md)."""
    if delivered > required:
        return 100 * max(0.0, 1 - (delivered / required - 1) / 3)
    return 100 * max(0.0, 1 - (required / max(delivered, 1) - 1) / 2)


def _from_log(http, job_id: str) -> dict:
    """Tokens, LLM calls, db.query events and fallbacks, from the job's audit log."""
    found = {"input_tokens": 0, "output_tokens": 0, "cached_input_tokens": 0, "llm_calls": 0, "db_queries": 0,
             "fallbacks": 0, "trimmed_words": 0, "trimmed_tokens": 0, "summary_calls": 0,
             "summaries": Counter(), "memory_tails": Counter(), "input_by_purpose": Counter()}
    for line in http.get(f"/v1/jobs/{job_id}/audit").iter_lines():
        event = json.loads(line)
        if event["type"] == "llm.call":
            attributes = event["data"]["attributes"]
            found["llm_calls"] += 1
            found["summary_calls"] += attributes["longform.purpose"] == "summarize"
            found["input_tokens"] += attributes["gen_ai.usage.input_tokens"] or 0
            kept = "kept" if attributes["longform.kept"] else "not kept"
            found["input_by_purpose"][f'{attributes["longform.purpose"]}, {kept}'] += \
                attributes["gen_ai.usage.input_tokens"] or 0
            found["output_tokens"] += attributes["gen_ai.usage.output_tokens"] or 0
            found["cached_input_tokens"] += attributes.get(CACHED_INPUT) or 0
            if attributes["longform.kept"] and "longform.memory_tail" in attributes:
                found["memory_tails"][attributes["longform.memory_tail"].split(" of ")[0]] += 1
        if event["type"] == "chunk.processed":
            found["trimmed_words"] += event["data"].get("trimmed_words", 0)
            found["trimmed_tokens"] += event["data"].get("trimmed_tokens", 0)
        if event["type"] == "chunk.summarized":
            found["summaries"][event["data"]["made_by"]] += 1
        found["db_queries"] += event["type"] == "db.query"
        found["fallbacks"] += bool(event["type"] in ("chunk.summarized", "job.planned", "passage.noted")
                                   and event["data"].get("fallback"))
    return found


def _job(record: dict, source: str | None) -> dict:
    job = {"mode": "generate", "title": record["prompt"][:80], "instructions": record["prompt"],
           "target_words": record["length"]}
    return job | {"mode": "analyze", "source_text": source} if source else job


def run(url: str, records: list[dict], dump: Path | None = None, source: str | None = None) -> list[dict]:
    """`source`: each record is an analysis of it, the prompt its instructions."""
    started = time.monotonic()
    with closing(signed_up(url)) as http:
        jobs = [(http.post("/v1/jobs", json=_job(r, source)).json()["id"], r["length"]) for r in records]
        results = []
        for job_id, target in jobs:
            while (state := http.get(f"/v1/jobs/{job_id}").json())["status"] not in ("completed", "failed"):
                time.sleep(0.3)
            results.append({"job": job_id, "target": target, "words": state["words"], "status": state["status"],
                            "error": state.get("error"), "seconds": time.monotonic() - started,
                            **_from_log(http, job_id)})
            if dump and state["status"] == "failed":
                dump.mkdir(parents=True, exist_ok=True)
                (dump / f"{job_id}.audit.ndjson").write_bytes(http.get(f"/v1/jobs/{job_id}/audit").content)
    return results


def report(results: list[dict]) -> list[dict]:
    rows = []
    for low, high in BUCKETS:
        group = [r for r in results if low <= r["target"] < high]
        if not group:
            continue
        over = [(r["words"] - r["target"]) / r["target"] * 100 for r in group]
        words = sum(r["words"] for r in group) or 1
        rows.append({
            "bucket": f"{low}-{high - 1}", "jobs": len(group),
            "at_or_above_target_pct": round(100 * sum(r["words"] >= r["target"] for r in group) / len(group), 1),
            "median_overshoot_pct": round(statistics.median(over), 2), "max_overshoot_pct": round(max(over), 2),
            "length_score": round(statistics.mean(length_score(r["words"], r["target"]) for r in group), 1),
            "input_tokens_per_word": round(sum(r["input_tokens"] for r in group) / words, 2),
            "output_tokens_per_word": round(sum(r["output_tokens"] for r in group) / words, 2),
            "cached_share_of_input": round(sum(r["cached_input_tokens"] for r in group)
                                           / max(1, sum(r["input_tokens"] for r in group)), 3),
            "trimmed_words": sum(r["trimmed_words"] for r in group),
            "trimmed_tokens_per_word": round(sum(r["trimmed_tokens"] for r in group) / words, 3),
            "summary_calls": sum(r["summary_calls"] for r in group),
            "summaries_by": dict(sum((r["summaries"] for r in group), Counter())),
            "input_tokens_per_word_by_call": {purpose: round(tokens / words, 2) for purpose, tokens in sorted(
                sum((r["input_by_purpose"] for r in group), Counter()).items())},
            "kept_write_replies_memory_tail": dict(sum((r["memory_tails"] for r in group), Counter())),
            "db_query_events_per_llm_call": round(sum(r["db_queries"] for r in group)
                                                  / max(1, sum(r["llm_calls"] for r in group)), 2),
            "fallbacks": sum(r["fallbacks"] for r in group),
        })
    return rows


def totals(results: list[dict]) -> dict:
    """The whole run: jobs at or above target, wall time (all jobs submitted at once, until the
    last ended), and db.query events per LLM call over every job."""
    return {"jobs": len(results), "at_or_above_target": sum(r["words"] >= r["target"] for r in results),
            "completed": sum(r["status"] == "completed" for r in results),
            "failures": [f"{r['job']} (target {r['target']}): {r['error']}" for r in results if r["status"] == "failed"],
            "wall_seconds": round(max(r["seconds"] for r in results), 1),
            "db_query_events_per_llm_call": round(sum(r["db_queries"] for r in results)
                                                  / max(1, sum(r["llm_calls"] for r in results)), 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--behaviour", default="random_length", help="the fake LLM's behaviour")
    parser.add_argument("--limit", type=int, default=0, help="only the first N prompts")
    parser.add_argument("--width", type=int, default=4)
    parser.add_argument("--dump", type=Path, help="write each failed job's audit log into this directory")
    parser.add_argument("--analyze", action="store_true", help="each prompt an analysis of --source")
    parser.add_argument("--source", type=Path, default=ESSAY, help="the source analysed with --analyze")
    args = parser.parse_args()
    records = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
    records = records[: args.limit] if args.limit else records
    env = {k: v for k, v in os.environ.items() if k.startswith("LONGFORM_LLM_")}
    with running_stack(width=args.width, fake_behaviour=args.behaviour, extra_env=env) as (config, _):
        results = run(config.gateway_url, records, args.dump, args.source.read_text() if args.analyze else None)
    print(json.dumps({"buckets": report(results), "totals": totals(results)}, indent=2))


if __name__ == "__main__":
    main()
