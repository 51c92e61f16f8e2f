"""`longform up` stops everything it started (the five services, the fake LLM, the embedded NATS
and Postgres) on SIGTERM as on Ctrl-C, and leaves no process behind. Each run has servers of its
own (embedded, in a temp dir), as `./run` does."""

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil
import pytest

READY = "longform: running; press Ctrl-C to stop"
SERVICES = ("audit", "planner", "generator", "assembler", "gateway")


@pytest.fixture
def home():
    # Not pytest's tmp_path: the embedded Postgres runs as another user when we are root, and
    # pytest keeps its temp root at 0700 (tests/conftest.py says more).
    path = Path(tempfile.mkdtemp(prefix="lf-up-signals-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _gateway_port() -> int:
    """A free port below the ephemeral range, as 8080 is: `up` picks the ports of its servers with
    bind(0), which could otherwise hand one of them the gateway's port before the gateway binds it."""
    low, _ = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    for port in random.sample(range(low - 12000, low), 100):  # runs side by side pick apart
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port below the ephemeral range")


def _own_servers_env() -> dict[str, str]:
    """No DATABASE_URL, NATS_URL or LLM settings: `up` starts the embedded servers and the fake LLM."""
    dropped = ("DATABASE_URL", "NATS_URL", "OPENAI_API_KEY", "ANTHROPIC_API_KEY")
    return {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("LONGFORM_")}


def _started_up(home: Path) -> tuple[subprocess.Popen, list[str]]:
    """`setsid longform up`, read until it says it is running; returns it and what it printed."""
    up = subprocess.Popen([sys.executable, "-m", "longform_cli", "up", "--home", str(home), "--port",
                           str(_gateway_port())], env=_own_servers_env(), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    printed = []
    for line in up.stdout:
        printed.append(line.rstrip("\n"))
        if printed[-1] == READY:
            return up, printed
    up.wait()
    logs = "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in sorted((home / "logs").glob("*.log")))
    pytest.fail(f"longform up exited with {up.returncode} before it was running:\n" + "\n".join(printed) + logs)


def _everything_it_started(up: subprocess.Popen, home: Path) -> list[psutil.Process]:
    """Its descendants, and the postmaster with its backends (pg_ctl starts the postmaster in a
    session of its own, so it is no descendant of `up`)."""
    postmaster = psutil.Process(int((home / "postgres" / "pgdata" / "postmaster.pid").read_text().split()[0]))
    processes = psutil.Process(up.pid).children(recursive=True) + [postmaster] + postmaster.children(recursive=True)
    return [p for p in processes if p.status() != psutil.STATUS_ZOMBIE]  # exited already, not yet reaped


def _command_lines(processes: list[psutil.Process]) -> str:
    return "\n".join(" ".join(p.cmdline()) for p in processes)


def _still_there(processes: list[psutil.Process]) -> list[str]:
    left = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{process.pid} {' '.join(process.cmdline())}")
        except psutil.NoSuchProcess:
            pass
    return left


@pytest.mark.timeout(600)
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_up_stops_every_process_it_started_on_a_stop_signal(home, stop_signal) -> None:
    up, _ = _started_up(home)
    started = [psutil.Process(up.pid)]
    try:
        started += _everything_it_started(up, home)
        running = _command_lines(started)
        for part in [f"services.{name}" for name in SERVICES] + ["fake_llm", "nats-server", "postgres"]:
            assert part in running, f"{part} is not among the processes `up` started:\n{running}"
        os.kill(up.pid, stop_signal)
        output, _ = up.communicate(timeout=180)
        assert up.returncode == 0, output
        assert output.splitlines()[-1] == "longform: stopped", output
        assert _still_there(started) == []
    finally:
        _killed(started)  # what a failure left behind, so it disturbs no other test


def _killed(processes: list[psutil.Process]) -> None:
    for process in processes:
        try:
            process.kill()
        except psutil.Error:
            pass  # gone, as it should be


def test_up_without_the_embedded_extra_says_what_to_install(home) -> None:
    """As in the image: pgserver is not installed (here: made unimportable), and no servers are given."""
    hide_pgserver = ("import sys; sys.modules['pgserver'] = None; sys.argv = ['longform', 'up', '--home', "
                     f"{str(home)!r}, '--port', '{_gateway_port()}']; from longform_cli.main import main; main()")
    result = subprocess.run([sys.executable, "-c", hide_pgserver], env=_own_servers_env(), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0
    assert "pip install 'longform[embedded]'" in result.stderr, result.stderr
    assert "DATABASE_URL and NATS_URL" in result.stderr, result.stderr
