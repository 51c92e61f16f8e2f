"""The embedded servers and the supervisor, on servers of their own.

These never use the session's servers, so the embedded path is tested even
when DATABASE_URL / NATS_URL point elsewhere.
"""
import asyncio
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import nats
import psutil
import pytest
from nats.js.api import StorageType

from longform_cli.embedded import EmbeddedNats, EmbeddedPostgres
from longform_cli.supervisor import Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]
IGNORE_SIGTERM = "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ignoring SIGTERM', flush=True); "
STUBBORN_SLEEPER = [sys.executable, "-c", IGNORE_SIGTERM + "import time; time.sleep(120)"]
GREETER = [sys.executable, "-c",
           "import os, time; print(os.environ['GREETING'], flush=True); time.sleep(120)"]


@pytest.fixture
def scratch_dir():
    path = Path(tempfile.mkdtemp(prefix="lf-infra-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def postgres(scratch_dir):
    server = EmbeddedPostgres(scratch_dir, fast=True)
    yield server
    server.stop()


@pytest.fixture
def nats_server(scratch_dir):
    server = EmbeddedNats(scratch_dir)
    yield server
    server.stop()


@pytest.fixture
def supervisor(scratch_dir):
    supervisor = Supervisor(scratch_dir / "run", scratch_dir / "logs")
    yield supervisor
    supervisor.stop_all(timeout=2)


async def fetch_value(url: str, sql: str):
    connection = await asyncpg.connect(url, timeout=10)
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


def wait_for(condition, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout}s")


async def test_postgres_answers_on_a_free_port_that_is_not_5432(postgres):
    url = postgres.start()
    assert postgres.port != 5432
    assert url == f"postgresql://postgres@127.0.0.1:{postgres.port}/postgres"
    assert await fetch_value(url, "select 1") == 1
    assert await fetch_value(url, "show max_connections") == "200"


async def test_postgres_restart_keeps_the_url_and_the_data(postgres):
    url = postgres.start()
    await fetch_value(url, "create table kept as select 42 as answer")
    assert await asyncio.to_thread(postgres.restart) == url
    assert await fetch_value(url, "select answer from kept") == 42


def test_postgres_stop_is_idempotent_and_leaves_no_server(postgres):
    postgres.start()
    postmaster = psutil.Process(postgres.pid)
    postgres.stop()
    postgres.stop()
    assert postgres.pid is None
    assert not postmaster.is_running() or postmaster.status() == psutil.STATUS_ZOMBIE


async def test_postgres_start_stops_a_server_left_on_the_same_data_dir(scratch_dir):
    leftover = EmbeddedPostgres(scratch_dir, fast=True)
    leftover.start()
    leftover_pid = leftover.pid
    successor = EmbeddedPostgres(scratch_dir, fast=True)
    try:
        url = successor.start()
        assert successor.pid != leftover_pid
        assert await fetch_value(url, "select 1") == 1
    finally:
        successor.stop()


async def test_nats_has_jetstream_that_stores_and_serves_messages(nats_server):
    client = await nats.connect(nats_server.start())
    jetstream = client.jetstream()
    await jetstream.add_stream(name="INFRA", subjects=["infra.>"], storage=StorageType.FILE)
    await jetstream.publish("infra.hello", b"hello")
    subscription = await jetstream.pull_subscribe("infra.hello", durable="reader")
    [message] = await subscription.fetch(1, timeout=5)
    assert message.data == b"hello"
    await client.close()


async def test_nats_restart_keeps_the_url_and_the_stream_data(nats_server):
    url = nats_server.start()
    client = await nats.connect(url, max_reconnect_attempts=-1, reconnect_time_wait=0.1)
    jetstream = client.jetstream()
    await jetstream.add_stream(name="KEPT", subjects=["kept.>"], storage=StorageType.FILE)
    await jetstream.publish("kept.before", b"before restart")
    assert await asyncio.to_thread(nats_server.restart) == url
    await jetstream.publish("kept.after", b"after restart", timeout=10)  # same client, reconnected
    subscription = await jetstream.pull_subscribe("kept.>", durable="reader")
    messages = await subscription.fetch(2, timeout=5)
    assert [message.data for message in messages] == [b"before restart", b"after restart"]
    await client.close()


def test_supervisor_restarts_a_child_killed_with_sigkill(supervisor):
    supervisor.add("sleeper", SLEEPER)
    supervisor.start_all()
    first_pid = supervisor.pid("sleeper")
    supervisor.kill("sleeper", signal.SIGKILL)
    new_pid = wait_for(lambda: supervisor.pid("sleeper") not in (None, first_pid)
                       and supervisor.pid("sleeper"))
    assert supervisor.restart_count("sleeper") == 1
    assert (supervisor.run_dir / "sleeper.pid").read_text().strip() == str(new_pid)
    assert "restarted" in (supervisor.log_dir / "supervisor.log").read_text()


def test_supervisor_stop_all_leaves_no_process_and_no_pid_file(supervisor):
    supervisor.add("sleeper", SLEEPER)
    supervisor.add("stubborn", STUBBORN_SLEEPER)
    supervisor.start_all()
    stubborn_log = supervisor.log_dir / "stubborn.log"
    wait_for(lambda: stubborn_log.exists() and "ignoring SIGTERM" in stubborn_log.read_text())
    children = [psutil.Process(supervisor.pid(name)) for name in ("sleeper", "stubborn")]
    supervisor.stop_all(timeout=1)
    assert not any(child.is_running() for child in children)
    assert list(supervisor.run_dir.glob("*.pid")) == []
    assert "stubborn ignored SIGTERM" in (supervisor.log_dir / "supervisor.log").read_text()


def test_supervisor_leaves_a_deliberately_stopped_child_stopped_until_started(supervisor):
    supervisor.add("sleeper", SLEEPER)
    supervisor.add("sibling", SLEEPER)
    supervisor.start_all()
    supervisor.stop("sleeper")
    # The watch loop tends every child each round: the rounds that notice the sibling's death and
    # start it again would have started the stopped sleeper too, which has been down for longer.
    supervisor.crash("sibling", timeout=10)
    assert supervisor.pid("sleeper") is None
    assert supervisor.restart_count("sleeper") == 0 and supervisor.restart_count("sibling") == 1
    supervisor.start("sleeper")
    assert supervisor.pid("sleeper") is not None


def test_supervisor_appends_child_output_to_its_log(supervisor):
    supervisor.add("greeter", GREETER, env={"GREETING": "hello from the child"})
    supervisor.start_all()
    log = supervisor.log_dir / "greeter.log"
    wait_for(lambda: log.exists() and "hello from the child" in log.read_text())
    assert log.read_text().count("hello from the child") >= 1
