"""Keeps named child processes running: restarts the ones that die, stops all on request.

Each child runs in its own process group, so Ctrl-C in the terminal reaches only
the supervisor, which then stops the children in order (SIGTERM, then SIGKILL).
The watch loop is a daemon thread, so this works from plain sync code.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from services.common.retry import RESTART

POLL_INTERVAL = 0.2
HEALTHY_UPTIME = 10.0  # a child that ran this long earns a fresh backoff


@dataclass
class _Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    process: subprocess.Popen | None = None
    wanted: bool = False  # False after a deliberate stop: do not restart
    restarts: int = 0
    exits_in_a_row: int = 0  # each after less than HEALTHY_UPTIME: how far the backoff has grown
    backoff: float = 0.0
    started_at: float = 0.0
    restart_due: float | None = field(default=None)  # set while a dead child awaits restart


class Supervisor:
    def __init__(self, run_dir: Path, log_dir: Path):
        self.run_dir = Path(run_dir)
        self.log_dir = Path(log_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._children: dict[str, _Child] = {}
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    def add(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        """env is layered over the supervisor's own environment."""
        with self._lock:
            if name in self._children:
                raise ValueError(f"a child named {name!r} is already supervised")
            self._children[name] = _Child(name, list(argv), {**os.environ, **(env or {})})

    def start_all(self) -> None:
        for name in list(self._children):
            self.start(name)

    def start(self, name: str) -> None:
        with self._lock:
            child = self._children[name]
            child.wanted = True
            if not _alive(child):
                self._spawn(child)
        self._ensure_watching()

    def stop(self, name: str, timeout: float = 10) -> None:
        with self._lock:
            child = self._children[name]
            child.wanted = False
        self._terminate([child], timeout)

    def stop_all(self, timeout: float = 10) -> None:
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join()
            self._watcher = None
        with self._lock:
            children = list(self._children.values())
            for child in children:
                child.wanted = False
        self._terminate(children, timeout)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal a child as a crash would: it stays wanted, so it gets restarted."""
        with self._lock:
            child = self._children[name]
            if _alive(child):
                _signal_group(child.process, sig)

    def crash(self, name: str, timeout: float = 60.0) -> int:
        """SIGKILL a child, as a crash would, and wait until the watch loop has started it again;
        returns the new pid. Only the child's own group is signalled."""
        before = self.pid(name)
        self.kill(name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            now = self.pid(name)
            if now is not None and now != before:
                return now
            time.sleep(POLL_INTERVAL / 2)
        raise TimeoutError(f"{name} was not restarted within {timeout:.0f} s")

    def pid(self, name: str) -> int | None:
        with self._lock:
            child = self._children[name]
            return child.process.pid if _alive(child) else None

    def restart_count(self, name: str) -> int:
        return self._children[name].restarts

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop_all()

    def _spawn(self, child: _Child) -> None:
        with open(self.log_dir / f"{child.name}.log", "ab") as log:
            child.process = subprocess.Popen(
                child.argv, env=child.env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, process_group=0)
        child.started_at = time.monotonic()
        child.restart_due = None
        self._pid_file(child).write_text(f"{child.process.pid}\n")

    def _ensure_watching(self) -> None:
        with self._lock:
            if self._watcher is None or not self._watcher.is_alive():
                self._stopping.clear()
                self._watcher = threading.Thread(target=self._watch, name="supervisor", daemon=True)
                self._watcher.start()

    def _watch(self) -> None:
        while not self._stopping.wait(POLL_INTERVAL):
            with self._lock:
                for child in self._children.values():
                    if child.wanted and child.process is not None:
                        self._tend(child)

    def _tend(self, child: _Child) -> None:
        if child.restart_due is None:
            exit_code = child.process.poll()
            if exit_code is not None:
                self._schedule_restart(child, exit_code)
        elif time.monotonic() >= child.restart_due:
            child.restarts += 1
            self._spawn(child)
            self._note(f"{child.name} restarted as pid {child.process.pid} "
                       f"(restart #{child.restarts})")

    def _schedule_restart(self, child: _Child, exit_code: int) -> None:
        uptime = time.monotonic() - child.started_at
        crash_looping = uptime < HEALTHY_UPTIME
        child.exits_in_a_row = child.exits_in_a_row + 1 if crash_looping else 1
        child.backoff = RESTART.delay(child.exits_in_a_row)
        child.restart_due = time.monotonic() + child.backoff
        self._note(f"{child.name} (pid {child.process.pid}) exited with {exit_code} "
                   f"after {uptime:.1f}s; restarting in {child.backoff:.1f}s")

    def _terminate(self, children: list[_Child], timeout: float) -> None:
        running = [child for child in children if _alive(child)]
        for child in running:
            _signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in running:
            try:
                child.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._note(f"{child.name} ignored SIGTERM for {timeout}s; killing it")
                _signal_group(child.process, signal.SIGKILL)
                child.process.wait()
        for child in children:
            self._pid_file(child).unlink(missing_ok=True)

    def _pid_file(self, child: _Child) -> Path:
        return self.run_dir / f"{child.name}.pid"

    def _note(self, message: str) -> None:
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} supervisor: {message}\n"
        with open(self.log_dir / "supervisor.log", "a") as log:
            log.write(line)
        sys.stderr.write(line)


def _alive(child: _Child) -> bool:
    return child.process is not None and child.process.poll() is None


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    # The whole group, so a child's own children (e.g. uvicorn workers) go too.
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
