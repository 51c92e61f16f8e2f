"""The client-side LLM rate limit holds across processes: three processes, each configured with
the same limit and each sending all its requests at once, together send no more than that limit,
as the fake LLM's request log counts them (LONGFORM_LLM_MAX_REQUESTS_PER_MINUTE, shared through
longform_meta.take_llm_slot)."""

import os
import secrets
import subprocess
import sys

from longform_cli.stack import prepare_database
from services.common.roles import service_url

PER_MINUTE = 600  # a slot every 0.1 s
PROCESSES = 3
CALLS = 20  # each; unshared, the three would send 30 a second
WINDOW = 2.0  # seconds
# A request leaves at its slot or later (a busy machine delays it), never before, so a window
# holds at most WINDOW / interval + 1 requests, plus those whose slots came just before it and
# were sent late: this allows 0.4 s of such lateness.
LATE = 4


def _callers(database_url: str, fake_llm_server, tag: str) -> list[subprocess.Popen]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGFORM_")} | {
        "DATABASE_URL": service_url(database_url, "generator"), "LONGFORM_LLM_PROVIDER": "openai-compatible",
        "LONGFORM_LLM_BASE_URL": fake_llm_server.openai_base_url, "LONGFORM_LLM_MODEL": "fake-writer",
        "OPENAI_API_KEY": "sk-rate-limit-test", "LONGFORM_LLM_MAX_REQUESTS_PER_MINUTE": str(PER_MINUTE)}
    return [subprocess.Popen([sys.executable, "-m", "tests.integration.limited_caller", str(CALLS), tag], env=env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            for _ in range(PROCESSES)]


def _most_in_a_window(times: list[float]) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + WINDOW) for i, start in enumerate(times))


def test_three_processes_together_stay_within_the_configured_rate(database_url, fake_llm_server) -> None:
    prepare_database(database_url)
    tag = f"rate-{secrets.token_hex(4)}"
    callers = _callers(database_url, fake_llm_server, tag)
    try:
        for caller in callers:  # all connected before any sends, so their requests overlap
            assert caller.stdout.readline().strip() == "ready"
        for caller in callers:
            caller.stdin.write("go\n")
            caller.stdin.flush()
        assert [caller.wait(timeout=120) for caller in callers] == [0] * PROCESSES
    finally:
        for caller in callers:
            if caller.poll() is None:
                caller.kill()
    times = [r["time"] for r in fake_llm_server.control().requests() if r["chunk"] == tag]
    assert len(times) == PROCESSES * CALLS
    allowed = int(WINDOW * PER_MINUTE / 60) + 1 + LATE
    assert _most_in_a_window(times) <= allowed
