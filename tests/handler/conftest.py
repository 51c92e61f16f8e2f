"""The handler tier: each service's handlers driven directly with an `Envelope`, on a real,
freshly migrated Postgres, with no bus. A handler's effects are its rows and the events its
transaction wrote to the service's outbox; no relay runs here, so every event it emitted stays in
the outbox table, unpublished, for the test to read.

Each service's ports are built as its `main.py` builds them (settings, `Database` as the
service's own role, the LLM provider from settings), with the fake LLM server as the provider.
The audit service's only port besides the database is its live fan-out, running as in the
service on a real `Bus` on the session's NATS (its JetStream consumers never start). What a handler did is
read back with `tests/handler/effects.py`."""

from __future__ import annotations

import asyncio
import json
from typing import AsyncIterator, Iterator

import asyncpg
import pytest

from fake_llm import running_fake_llm
from longform_cli.stack import prepare_database
from services.assembler.config import AssemblerSettings
from services.assembler.handlers import Ports as AssemblerPorts
from services.audit.config import AuditSettings
from services.audit.fanout import LiveFanout
from services.audit.handlers import Ports as AuditPorts
from services.common.bus import Bus
from services.common.db import Database
from services.common.llm import provider_from_settings
from services.common.roles import service_url
from services.generator.config import GeneratorSettings
from services.generator.handlers import Ports as GeneratorPorts
from services.planner.config import PlannerSettings
from services.planner.handlers import Ports as PlannerPorts
from tests.conftest import fresh_database


@pytest.fixture(scope="session")
def handler_database_url(database_server_url: str) -> Iterator[str]:
    """A database of the handler tier's own, migrated, its services' roles able to log in."""
    with fresh_database(database_server_url) as url:
        prepare_database(url)
        yield url


@pytest.fixture(scope="session")
def handler_fake_llm():
    with running_fake_llm() as server:
        yield server


@pytest.fixture
def settings_env(handler_database_url, handler_fake_llm, nats_url, bus_prefix) -> dict:
    """What a service's settings would read from its environment in the local stack."""
    return {"DATABASE_URL": handler_database_url, "NATS_URL": nats_url, "bus_prefix": bus_prefix,
            "llm_provider": "openai-compatible", "llm_base_url": handler_fake_llm.openai_base_url,
            "llm_model": "fake-writer", "OPENAI_API_KEY": "sk-handler-test"}


@pytest.fixture
async def owner(handler_database_url) -> AsyncIterator[asyncpg.Connection]:
    """The database as its owner: to read what a handler stored (and to arrange what another
    service would have stored, where noted)."""
    conn = await asyncpg.connect(handler_database_url)
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    yield conn
    await conn.close()


@pytest.fixture
async def databases(handler_database_url) -> AsyncIterator:
    """`await databases("planner")`: the service's `Database`, connected as its own role."""
    opened: list[Database] = []

    async def connect(service: str) -> Database:
        db = await Database.connect(service_url(handler_database_url, service), service, max_size=4)
        opened.append(db)
        return db

    yield connect
    for db in opened:
        await db.close()


@pytest.fixture
async def planner(settings_env, databases):
    """`await planner(section_width=2)`: the planner's ports, settings overridden as named."""
    async def build(**overrides) -> PlannerPorts:
        settings = PlannerSettings(**settings_env, **overrides)
        db = await databases("planner")
        return PlannerPorts(db, provider_from_settings(settings, db), settings)
    return build


@pytest.fixture
async def generator(settings_env, databases):
    async def build(**overrides) -> GeneratorPorts:
        settings = GeneratorSettings(**settings_env, **overrides)
        db = await databases("generator")
        return GeneratorPorts(db, provider_from_settings(settings, db), settings)
    return build


@pytest.fixture
async def assembler(settings_env, databases):
    async def build(**overrides) -> AssemblerPorts:
        return AssemblerPorts(await databases("assembler"), AssemblerSettings(**settings_env, **overrides))
    return build


@pytest.fixture
async def audit(settings_env, databases) -> AsyncIterator[AuditPorts]:
    settings = AuditSettings(**settings_env)
    bus = Bus(settings.nats_url, settings.subjects, "audit")
    await bus.connect()  # connected, no consumer started: the test hands the handler its batches
    live = LiveFanout(bus, settings.live_queue_batches)
    fanout = asyncio.create_task(live.run())
    yield AuditPorts(await databases("audit"), live)
    fanout.cancel()
    await bus.stop()
