"""The sample job of `longform up --demo`: submitted, followed and downloaded through the
gateway's HTTP API, like any client would."""

import time
from pathlib import Path

import httpx

from contracts.wordcount import count_words

_SAMPLE = {
    "mode": "generate",
    "title": "The Rivers of Aldmere",
    "instructions": "A field guide to the rivers of an imaginary continent: their sources, their towns, "
                    "the people who live by them and the stories told about them.",
}


def run_demo(gateway_url: str, output_dir: Path, target_words: int) -> int:
    with httpx.Client(base_url=gateway_url, timeout=60) as http:
        token = http.post("/v1/users", json={"name": "demo"}).raise_for_status().json()["token"]
        http.headers["Authorization"] = f"Bearer {token}"
        job_id = http.post("/v1/jobs", json=_SAMPLE | {"target_words": target_words}).raise_for_status().json()["id"]
        print(f"longform: sample job {job_id}: {target_words:,} words", flush=True)
        state = _follow(http, job_id)
        if state["status"] != "completed":
            print(f"longform: the sample job {state['status']}: {state['error']}", flush=True)
            return 1
        return _download(http, job_id, output_dir, state)


def _follow(http: httpx.Client, job_id: str) -> dict:
    shown = None
    while True:
        state = http.get(f"/v1/jobs/{job_id}").raise_for_status().json()
        line = (f"{state['status']:<11} {state['words']:>7,} / {state['target_words']:,} words   "
                f"chunks {state['chunks_done']}/{state['chunks_total']}")
        if line != shown:
            print(f"longform: {line}", flush=True)
            shown = line
        if state["status"] in ("completed", "failed", "cancelled"):
            return state
        time.sleep(0.5)


def _download(http: httpx.Client, job_id: str, output_dir: Path, state: dict) -> int:
    output_dir.mkdir(parents=True, exist_ok=True)
    document, audit = output_dir / f"{job_id}.txt", output_dir / f"{job_id}.audit.ndjson"
    for path, route in ((document, "document?format=txt"), (audit, "audit?format=ndjson")):
        with http.stream("GET", f"/v1/jobs/{job_id}/{route}") as response, path.open("wb") as out:
            response.raise_for_status()
            for block in response.iter_bytes():
                out.write(block)
    in_file = count_words(document.read_text())  # the title and headings come on top of the body
    events = sum(1 for _ in audit.open())
    print(f"longform: completed: {state['words']:,} words of body (target {state['target_words']:,}),"
          f" {state['heading_words']:,} in headings; the file holds {in_file:,} words with its title\n"
          f"longform: document:  {document}\nlongform: audit log: {audit} ({events:,} events)", flush=True)
    return 0 if in_file >= state["words"] >= state["target_words"] else 1
