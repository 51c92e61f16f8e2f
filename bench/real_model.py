"""Longform against one direct call, on a real small open model: Gemma 3 270M served by
llama-cpp-python (tests/real_model/server.py). LongBench-Write prompts up to 5,000 words, each as
a `generate` job (all submitted at once) and as one direct chat completion to the same server
with max_tokens sized for the target. Reports, for each side: the share at or above target, S_l,
wall time, input and output tokens per delivered word, and repetition (the share of sentences
that repeat an earlier one, and of 8-word shingles that repeat an earlier one).

Run: .venv/bin/python -m bench.real_model [--prompts 12] [--max-words 5000]"""

import argparse
import json
import math
import re
import statistics
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import openai

from bench.harness import running_stack, signed_up
from bench.length import DATA, length_score
from contracts.wordcount import count_words
from services.generator.quality import sentences
from tests.real_model.server import MODEL, running_llama_server

CONTEXT_TOKENS = 8192


def chosen(count: int, max_words: int) -> list[dict]:
    """`count` prompts spread evenly over the lengths up to `max_words`."""
    records = sorted((json.loads(line) for line in DATA.read_text().splitlines() if line.strip()),
                     key=lambda r: r["length"])
    fitting = [r for r in records if r["length"] <= max_words]
    step = len(fitting) / count
    return [fitting[min(len(fitting) - 1, math.floor(i * step + step / 2))] for i in range(count)]


def repetition(text: str) -> dict:
    said = [" ".join(s.lower().split()) for s in sentences(text) if len(s.split()) >= 4]
    words = re.findall(r"\w+", text.lower())
    shingles = [tuple(words[i:i + 8]) for i in range(len(words) - 7)]
    return {"repeated_sentences": _repeated_share(said), "repeated_shingles": _repeated_share(shingles)}


def _repeated_share(items: list) -> float:
    seen, repeated = set(), 0
    for item in items:
        repeated += item in seen
        seen.add(item)
    return repeated / len(items) if items else 0.0


def direct(url: str, records: list[dict]) -> tuple[list[dict], float]:
    client = openai.OpenAI(base_url=url, api_key="none", max_retries=0, timeout=1800)
    started, results = time.monotonic(), []
    for r in records:
        reply = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": r["prompt"]}],
                                               max_tokens=min(math.ceil(r["length"] * 1.6) + 64, CONTEXT_TOKENS - 512))
        text = reply.choices[0].message.content or ""
        results.append({"target": r["length"], "words": count_words(text), "text": text,
                        "input_tokens": reply.usage.prompt_tokens, "output_tokens": reply.usage.completion_tokens})
        _progress("direct", results[-1], started)
    return results, time.monotonic() - started


def longform(url: str, records: list[dict]) -> tuple[list[dict], float]:
    env = {"LONGFORM_LLM_BASE_URL": url, "LONGFORM_LLM_MODEL": MODEL, "LONGFORM_LLM_TIMEOUT_SECONDS": "1800"}
    with running_stack(width=3, extra_env=env) as (config, _), closing(signed_up(config.gateway_url)) as http:
        started = time.monotonic()
        jobs = [http.post("/v1/jobs", json={"mode": "generate", "title": r["prompt"][:80], "instructions": r["prompt"],
                                            "target_words": r["length"]}).json()["id"] for r in records]
        results = [_finished(http, job_id, r["length"], started) for job_id, r in zip(jobs, records)]
        return results, time.monotonic() - started


def _finished(http, job_id: str, target: int, started: float) -> dict:
    while (state := http.get(f"/v1/jobs/{job_id}").json())["status"] not in ("completed", "failed"):
        time.sleep(1)
    text = http.get(f"/v1/jobs/{job_id}/document").text if state["status"] == "completed" else ""
    result = {"target": target, "words": state["words"], "text": text, "status": state["status"],
              "input_tokens": state["tokens_in"], "output_tokens": state["tokens_out"]}
    _progress(f"longform {job_id}", result, started)
    return result


def _progress(side: str, result: dict, started: float) -> None:
    """One line on stderr per finished document, so a long run shows where it is."""
    print(f"{time.monotonic() - started:7.1f}s {side}: {result['words']} of {result['target']} words"
          f" {result.get('status', '')}", file=sys.stderr, flush=True)


def summary(results: list[dict], seconds: float) -> dict:
    words = sum(r["words"] for r in results) or 1
    reps = [repetition(r["text"]) for r in results]
    return {
        "jobs": len(results), "at_or_above_target_pct": round(100 * sum(r["words"] >= r["target"] for r in results)
                                                          / len(results), 1),
        "length_score": round(statistics.mean(length_score(r["words"], r["target"]) for r in results), 1),
        "wall_seconds": round(seconds, 1), "words": sum(r["words"] for r in results),
        "input_tokens_per_word": round(sum(r["input_tokens"] for r in results) / words, 2),
        "output_tokens_per_word": round(sum(r["output_tokens"] for r in results) / words, 2),
        "repeated_sentences_pct": round(100 * statistics.mean(r["repeated_sentences"] for r in reps), 1),
        "repeated_shingles_pct": round(100 * statistics.mean(r["repeated_shingles"] for r in reps), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=12)
    parser.add_argument("--max-words", type=int, default=5000)
    args = parser.parse_args()
    records = chosen(args.prompts, args.max_words)
    with running_llama_server(Path(tempfile.mkdtemp(prefix="lf-llama-")) / "server.log") as url:
        single, single_seconds = direct(url, records)
        ours, our_seconds = longform(url, records)
    print(json.dumps({"targets": [r["length"] for r in records], "direct_call": summary(single, single_seconds),
                      "longform": summary(ours, our_seconds)}, indent=2))


if __name__ == "__main__":
    main()
