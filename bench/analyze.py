"""Analysis benchmark (`mode: analyze`): a 10,000-word and a 100,000-word source (seeded filler
prose from the fake LLM's own writer, in paragraphs) analysed into reports of 3,000 and 20,000
words, against the fake LLM server. Reports, per job: the report's words against its target, wall
time, LLM input tokens per source word (all calls, and the notes' calls alone), calls by purpose,
how many passages were noted in code; and the peak RSS of each service while the 10,000-word
source is analysed (the stack is fresh then), and again over the 100,000-word jobs.

Run: .venv/bin/python -m bench.analyze [--behaviour normal] [--cases 10000:3000,100000:3000,100000:20000]"""

import argparse
import json
import random
import time
from collections import Counter
from contextlib import closing

from bench.harness import PeakMemory, running_stack, service_processes, signed_up
from fake_llm.prose import write_prose

INSTRUCTIONS = "A critical analysis of the argument, section by section, citing the passages it rests on."


def source(words: int, seed: int = 17) -> str:
    return write_prose(words, random.Random(seed))


def _from_log(http, job_id: str) -> dict:
    found = {"input_tokens": 0, "note_input_tokens": 0, "calls": Counter(), "noted_in_code": 0, "outline": ""}
    for line in http.get(f"/v1/jobs/{job_id}/audit").iter_lines():
        event = json.loads(line)
        if event["type"] == "llm.call":
            attributes = event["data"]["attributes"]
            tokens = attributes["gen_ai.usage.input_tokens"] or 0
            found["input_tokens"] += tokens
            found["calls"][attributes["longform.purpose"]] += 1
            if attributes["longform.purpose"] == "note":
                found["note_input_tokens"] += tokens
        elif event["type"] == "passage.noted":
            found["noted_in_code"] += event["data"]["made_by"] == "code"
        elif event["type"] == "job.planned":
            found["outline"] = event["data"]["outline_source"]
    return found


def analyse(http, text: str, target: int) -> dict:
    started = time.monotonic()
    job_id = http.post("/v1/jobs", json={"mode": "analyze", "title": "Bench analysis", "instructions": INSTRUCTIONS,
                                         "target_words": target, "source_text": text}).raise_for_status().json()["id"]
    while (state := http.get(f"/v1/jobs/{job_id}").json())["status"] not in ("completed", "failed"):
        time.sleep(0.5)
    seconds = time.monotonic() - started
    log = _from_log(http, job_id)
    source_words = len(text.split())
    return {"source_words": source_words, "target": target, "words": state["words"], "status": state["status"],
            "error": state.get("error"), "at_or_above_target": state["words"] >= target,
            "wall_seconds": round(seconds, 1), "passages": state["passages_total"],
            "input_tokens_per_source_word": round(log["input_tokens"] / source_words, 2),
            "note_input_tokens_per_source_word": round(log["note_input_tokens"] / source_words, 2),
            "llm_calls": dict(log["calls"]), "passages_noted_in_code": log["noted_in_code"],
            "outline_source": log["outline"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--behaviour", default="normal", help="the fake LLM's behaviour")
    parser.add_argument("--cases", default="10000:3000,100000:3000,100000:20000",
                        help="source words:target words, comma-separated; the first is measured for RSS on a fresh stack")
    parser.add_argument("--width", type=int, default=4)
    args = parser.parse_args()
    cases = [tuple(int(n) for n in case.split(":")) for case in args.cases.split(",")]
    results, memory = [], {}
    with running_stack(width=args.width, fake_behaviour=args.behaviour) as (config, supervisor):
        with closing(signed_up(config.gateway_url)) as http:
            for index, (source_words, target) in enumerate(cases):
                with PeakMemory(supervisor, service_processes(config)) as peaks:
                    results.append(analyse(http, source(source_words), target))
                memory[f"case {index + 1} ({source_words:,}-word source)"] = peaks.megabytes()
    print(json.dumps({"jobs": results, "peak_rss_mb": memory}, indent=2))


if __name__ == "__main__":
    main()
