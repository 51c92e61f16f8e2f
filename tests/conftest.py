"""Test infrastructure shared by the whole suite: one Postgres and one NATS per session.

Each server comes from the first source that is available:
env (DATABASE_URL / NATS_URL), Docker via testcontainers, or embedded child
processes under a temp dir. Runs isolate themselves on a shared server with a
fresh database (`database_url`) and a random subject prefix (`bus_prefix`).
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import os
import secrets
import shutil
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from longform_cli.embedded import EmbeddedNats, EmbeddedPostgres

_SOURCES = pytest.StashKey[dict]()


@dataclass
class ServerHandle:
    url: str
    source: str  # "env", "docker" or "embedded"


@pytest.fixture(scope="session")
def database_server_url(_postgres_server: ServerHandle) -> str:
    return _postgres_server.url


@pytest.fixture(scope="session")
def nats_url(_nats_server: ServerHandle) -> str:
    return _nats_server.url


@pytest.fixture(scope="session")
def database_url(database_server_url: str) -> Iterator[str]:
    with fresh_database(database_server_url) as url:
        yield url


@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the session's server, dropped afterwards."""
    name = f"longform_test_{secrets.token_hex(6)}"
    _run_sql(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    finally:
        _run_sql(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def bus_prefix() -> str:
    return f"lf{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def _postgres_server(request: pytest.FixtureRequest) -> Iterator[ServerHandle]:
    if url := os.environ.get("DATABASE_URL"):
        servers = iter([ServerHandle(_asyncpg_url(url), "env")])
    elif _docker_answers():
        servers = _postgres_container()
    else:
        servers = _embedded_server("postgres", functools.partial(EmbeddedPostgres, fast=True))
    yield from _announced(request, "postgres", servers)


@pytest.fixture(scope="session")
def _nats_server(request: pytest.FixtureRequest) -> Iterator[ServerHandle]:
    if url := os.environ.get("NATS_URL"):
        servers = iter([ServerHandle(url, "env")])
    elif _docker_answers():
        servers = _nats_container()
    else:
        servers = _embedded_server("nats", EmbeddedNats)
    yield from _announced(request, "nats", servers)


def _announced(request, kind: str, servers: Iterator[ServerHandle]) -> Iterator[ServerHandle]:
    for server in servers:
        address = urlsplit(server.url)  # host and port only: env URLs may carry a password
        where = f"{server.source} at {address.hostname}:{address.port}"
        request.config.stash.setdefault(_SOURCES, {})[kind] = where
        if hasattr(request.config, "workeroutput"):  # an xdist worker: its controller prints them
            request.config.workeroutput.setdefault("servers", {})[kind] = where
        yield server


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """xdist's controller: each worker's servers (one Postgres and one NATS per worker)."""
    for kind, where in getattr(node, "workeroutput", {}).get("servers", {}).items():
        sources = node.config.stash.setdefault(_SOURCES, {})
        sources[kind] = where if kind not in sources else f"{sources[kind]}; {where}"


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    for kind, source in config.stash.get(_SOURCES, {}).items():
        terminalreporter.write_line(f"test {kind}: {source}")


@functools.cache
def _docker_answers() -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            import docker
            return bool(docker.from_env(timeout=2).ping())
        except Exception:  # no config, no socket, refused, timed out: all mean "no Docker"
            return False
        finally:
            gc.collect()  # docker-py leaks the socket of a failed connect; drop it quietly here


def _postgres_container() -> Iterator[ServerHandle]:
    from testcontainers.community.postgres import PostgresContainer
    container = PostgresContainer("postgres:16-alpine", driver=None)
    with container.with_command("postgres -c max_connections=200 -c fsync=off"):
        yield ServerHandle(_asyncpg_url(container.get_connection_url()), "docker")


def _nats_container() -> Iterator[ServerHandle]:
    from testcontainers.community.nats import NatsContainer
    with NatsContainer("nats:2.10-alpine", jetstream=True) as container:
        yield ServerHandle(container.nats_uri(), "docker")


def _embedded_server(kind: str, make) -> Iterator[ServerHandle]:
    # Not pytest's tmp_path: pytest re-locks /tmp/pytest-of-<user> to 0700, which
    # would shut out the postgres system user of a concurrent run.
    data_dir = Path(tempfile.mkdtemp(prefix=f"lf-test-{kind}-"))
    server = make(data_dir)
    try:
        yield ServerHandle(server.start(), "embedded")
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def _asyncpg_url(url: str) -> str:
    """postgresql+psycopg2://… or postgres://… as the plain scheme asyncpg accepts."""
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url


def _run_sql(server_url: str, sql: str) -> None:
    async def execute() -> None:
        connection = await asyncpg.connect(server_url, timeout=10)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    # A thread of its own, so this never touches an event loop pytest-asyncio manages.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, execute()).result()


# Each tier by its directory, so `./test -m unit` or `./test -m "not real_model"` picks tiers
# without a marker on every test. A test file named here is a tier of its own.
_TIERS = {
    "unit": "tests without servers: pure functions, and the fake LLM server in-process",
    "handler": "one service's handler driven with an envelope on a real Postgres, no bus",
    "e2e": "the whole stack (or real servers) through its public API",
    "chaos": "services killed and servers restarted under a running job",
    "browser": "the web pages in a real browser (Playwright)",
    "real_model": "a real language model served locally (slow; opt-in downloads)",
}
_TIER_OF_DIRECTORY = {"unit": "unit", "fake_llm": "unit", "handler": "handler", "integration": "e2e",
                      "deploy": "e2e", "infra": "e2e", "chaos": "chaos", "real_model": "real_model"}
_TIER_OF_FILE = {"test_web.py": "browser", "test_web_outline.py": "browser", "test_web_llm_call.py": "browser"}


def pytest_configure(config: pytest.Config) -> None:
    for tier, meaning in _TIERS.items():
        config.addinivalue_line("markers", f"{tier}: {meaning}")


# The order files are handed to workers in (`./test` spreads them over several, pytest-xdist's
# loadfile, in collection order: the chaos tier's slow files come first by name, the unit tier's
# quick ones last): the real-model tier first, the longest by far, when a run holds it.
_START_ORDER = {"real_model": 0}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests_dir = Path(__file__).parent
    tiers: dict[pytest.Item, str] = {}
    for item in items:
        path = Path(item.fspath)
        if tests_dir not in path.parents:
            continue
        tier = _TIER_OF_FILE.get(path.name) or _TIER_OF_DIRECTORY.get(path.relative_to(tests_dir).parts[0])
        if tier:
            item.add_marker(tier)
            tiers[item] = tier
    items.sort(key=lambda item: _START_ORDER.get(tiers.get(item, ""), len(_START_ORDER)))
