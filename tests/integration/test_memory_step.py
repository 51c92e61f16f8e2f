"""The memory (rolling summary and ledger) is a step of its own, started by events: no handler
waits or polls for it, and a summariser that ignores the asked format, or gives nothing usable,
degrades to a fallback made in code (SPEC C2, C4, L6). Here the journeys: a whole job's log holds no
poll noise, and a job on a provider that ignores every format completes with its fallbacks logged.
The step's handler (each section's chunks folded in once and in order, whichever event starts a
summary; the summariser's own fallback) is tested in tests/handler/test_memory_handlers.py and
tests/handler/test_generator_handlers.py."""

from collections import Counter


def _summarized(log: list[dict]) -> list[dict]:
    return [e for e in log if e["type"] == "chunk.summarized"]


def _all_folded_in(client, job_id: str, chunks: int) -> list[dict]:
    """The log once every chunk's summary is in it: the last may land after job.completed."""
    return client.audit_until(job_id, lambda log: len(_summarized(log)) >= chunks, timeout=60)


def test_the_log_holds_no_poll_noise(client) -> None:
    job_id = client.submit(12_000)
    final = client.wait(job_id, timeout=180)
    log = _all_folded_in(client, job_id, final["chunks_total"])
    types = Counter(e["type"] for e in log)
    assert types["llm.call"] >= final["chunks_total"]  # a write per chunk: its summary comes in its reply
    made_by = Counter(e["data"]["made_by"] for e in _summarized(log))
    assert made_by == {"inline": final["chunks_total"] - 1, "code": 1}, made_by  # the plan's last: in code
    # Polling would show as transactions that do nothing: at most 20 a chunk (its writer's and
    # memory's own, the planner's dispatch, the relays' and the audit's reports). The bound is
    # the one this test held when each chunk made two calls, at most 10 a call.
    assert types["db.query"] <= 20 * final["chunks_total"], types


def test_a_provider_that_ignores_every_format_still_completes_with_fallbacks_logged(client) -> None:
    # Replies of 0.2x-1x what is asked: none runs into its max_tokens (which would fold its chunk in code).
    job_id = client.submit(4321, model="fake/ignore_formats+random_length:max=1.0")
    final = client.wait(job_id, timeout=180)
    assert final["status"] == "completed" and final["words"] >= 4321
    log = _all_folded_in(client, job_id, final["chunks_total"])
    (planned,) = [e["data"] for e in log if e["type"] == "job.planned"]
    assert planned["outline_source"] == "code" and "no usable outline in 2 attempts" in planned["fallback"]
    outline_calls = [e for e in log if e["type"] == "llm.call" and e["data"]["attributes"]["longform.purpose"] == "outline"]
    assert len(outline_calls) == 2
    made = {e["data"]["chunk_index"]: e["data"] for e in _summarized(log)}
    last = made.pop(final["chunks_total"] - 1)  # no chunk waits for its memory: folded in code, no call
    assert last["made_by"] == "code" and "the plan's last chunk" in last["fallback"]
    assert made and all(m["made_by"] == "prose" and "its prose was used" in m["fallback"] for m in made.values())
