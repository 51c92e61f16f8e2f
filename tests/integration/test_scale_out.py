"""Scale-out: four generator processes and two audit processes on one stack, sharing their
durable consumers. Each chunk is written once whoever writes it. Of the two audit processes one
writes at a time (services/audit/writer.py): every event is persisted once with gapless seqs, in
the order the bus holds them, and when the writer is killed the other takes over. (How much
faster four generators are is measured by bench/scale_out.py, not asserted here.)"""

import asyncio
import json
import secrets
from collections import Counter
from typing import Iterator

import httpx
import nats
import pytest

from contracts.subjects import Subjects

from longform_cli.embedded import free_port
from longform_cli.supervisor import Supervisor
from longform_cli.stack import StackConfig, build_supervisor, prepare_database, wait_until_healthy
from tests.conftest import fresh_database
from tests.integration.client import ApiClient
from tests.integration.dbread import fetch

GENERATORS = {f"generator-{i}" for i in range(1, 5)}
AUDITS = ("audit-1", "audit-2")
OUTBOXES = ("gateway", "planner", "generator", "assembler", "audit")


def test_replicas_are_named_apart_with_an_ops_port_each(tmp_path) -> None:
    config = StackConfig(home=tmp_path, database_url="postgresql://x/y", nats_url="nats://x", gateway_port=1,
                         replicas={"generator": 3})
    assert config.processes("generator") == ["generator-1", "generator-2", "generator-3"]
    assert config.processes("audit") == ["audit"]
    ports = [config.ops_ports[name] for name in ["audit", *config.processes("generator")]]
    assert len(set(ports)) == len(ports)
    with pytest.raises(ValueError, match="gateway"):
        StackConfig(home=tmp_path, database_url="", nats_url="", gateway_port=1, replicas={"gateway": 2})


@pytest.fixture(scope="module")
def scaled(database_server_url, nats_url, fake_llm_server, tmp_path_factory) -> Iterator[tuple[StackConfig, str, Supervisor]]:
    """Eight sections written at once by four one-at-a-time generators, so each has work; a small
    fixed latency per call keeps each busy long enough for the others to take the next chunk."""
    with fresh_database(database_server_url) as database_url:
        prepare_database(database_url)
        config = StackConfig(
            home=tmp_path_factory.mktemp("scaled"), database_url=database_url, nats_url=nats_url,
            gateway_port=free_port(), bus_prefix=f"lf{secrets.token_hex(4)}",
            llm_env={"LONGFORM_LLM_PROVIDER": "openai-compatible",
                     "LONGFORM_LLM_BASE_URL": fake_llm_server.openai_base_url,
                     "LONGFORM_LLM_MODEL": "fake/latency:seconds=0.2", "OPENAI_API_KEY": "sk-scale-out-test"},
            extra_env={"LONGFORM_SECTION_WIDTH": "8", "LONGFORM_CHUNK_WORKERS": "1", "LONGFORM_CHUNK_WORDS": "400"},
            replicas={"generator": 4, "audit": 2},
        )
        with build_supervisor(config) as supervisor:
            supervisor.start_all()
            wait_until_healthy(config.gateway_url, timeout=120)
            yield config, database_url, supervisor


@pytest.fixture(scope="module")
def finished_job(scaled) -> tuple[ApiClient, str]:
    config, _, _ = scaled
    client = ApiClient.signed_up(config.gateway_url)
    job_id = client.submit(12_000, instructions="A history of the canals of an imaginary delta.")
    assert client.wait(job_id, timeout=300)["status"] == "completed"
    yield client, job_id
    client.close()


def test_every_chunk_is_written_once_by_one_of_four_generators(scaled, finished_job) -> None:
    _, database_url, _ = scaled
    client, job_id = finished_job
    planned = [r["chunk_index"] for r in fetch(
        database_url, "SELECT chunk_index FROM planner.chunks WHERE job_id = $1 ORDER BY chunk_index", job_id)]
    sections = fetch(database_url, "SELECT count(*) AS n FROM planner.sections WHERE job_id = $1", job_id)[0]["n"]
    assert sections >= 4 and len(planned) > sections  # enough work for four, and sections of several chunks
    chunks = fetch(database_url, "SELECT chunk_index, text FROM generator.chunks WHERE job_id = $1"
                                 " ORDER BY chunk_index", job_id)
    assert [c["chunk_index"] for c in chunks] == planned

    document = client.document(job_id)
    places = [document.find(c["text"]) for c in chunks]
    assert all(document.count(c["text"]) == 1 for c in chunks)
    assert -1 not in places and places == sorted(places)  # each chunk once, in chunk order

    # Four generators' relays publish on their own time: a call may reach the log after the job
    # completed, so the log is read once every planned chunk's write call is in it.
    log = client.audit_until(job_id, lambda log: set(_writers_by_chunk(log)) >= set(planned), timeout=60)
    processed = Counter(e["data"]["chunk_index"] for e in log if e["type"] == "chunk.processed")
    assert processed == Counter(planned)  # one report per chunk, though four processes consumed chunk.write
    writers = _writers_by_chunk(log)
    assert sorted(writers) == planned and all(len(w) == 1 for w in writers.values()), writers  # one writer each
    processes = set().union(*writers.values())
    assert processes <= GENERATORS and len(processes) > 1, processes


def test_of_two_audit_processes_one_writes_every_event_once_in_the_bus_order(scaled, finished_job) -> None:
    config, database_url, _ = scaled
    client, job_id = finished_job
    published = _published(database_url, job_id)
    client.audit_until(job_id, lambda log: published <= {e["event_id"] for e in log}, timeout=60)

    rows = _stored(database_url, job_id)
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    stored = Counter(r["event_id"] for r in rows)
    assert stored.most_common(1)[0][1] == 1
    assert published <= set(stored)
    bus = asyncio.run(_bus_order(config, job_id))
    assert [r["event_id"] for r in rows if r["service"] != "audit"] == bus  # seq order is the bus's order
    persisted = {name: _events_persisted(config.ops_ports[name]) for name in AUDITS}
    assert sorted(persisted.values())[0] == 0 < sorted(persisted.values())[1], persisted  # one writer, one standby


def test_when_the_audit_writer_is_killed_the_standby_takes_over_and_nothing_is_lost(scaled, finished_job) -> None:
    """Killed between jobs, the writer holds no batch: the next job's events keep the bus's order
    too. (A writer killed holding a batch: that batch is redelivered after the consumer's AckWait,
    after events pulled since, as after any crash; once and gapless still hold.)"""
    config, database_url, supervisor = scaled
    client, _ = finished_job
    persisted = {name: _events_persisted(config.ops_ports[name]) for name in AUDITS}
    writer, standby = max(persisted, key=persisted.get), min(persisted, key=persisted.get)
    supervisor.crash(writer)  # SIGKILL; started again, it waits for the lock
    job_id = client.submit(3_000, instructions="A short history of the lighthouses of the same delta.")
    assert client.wait(job_id, timeout=300)["status"] == "completed"
    published = _published(database_url, job_id)
    client.audit_until(job_id, lambda log: published <= {e["event_id"] for e in log}, timeout=60)

    rows = _stored(database_url, job_id)
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    assert Counter(r["event_id"] for r in rows).most_common(1)[0][1] == 1
    assert [r["event_id"] for r in rows if r["service"] != "audit"] == asyncio.run(_bus_order(config, job_id))
    assert _events_persisted(config.ops_ports[standby]) > persisted[standby]  # the standby wrote them


def _published(database_url: str, job_id: str) -> set[str]:
    """Every event of the job the services put in their outboxes."""
    published_by = {schema: {str(r["event_id"]) for r in fetch(
        database_url, f"SELECT event_id FROM {schema}.outbox WHERE payload->>'job_id' = $1", job_id)}
        for schema in OUTBOXES}
    assert all(published_by[service] for service in ("gateway", "planner", "generator", "assembler"))
    return set().union(*published_by.values())


def _stored(database_url: str, job_id: str) -> list:
    return fetch(database_url, "SELECT event_id::text, seq, service FROM audit.events WHERE stream_id = $1"
                               " ORDER BY seq", job_id)


async def _bus_order(config: StackConfig, job_id: str) -> list[str]:
    """The job's events in the order the JetStream stream holds them."""
    subjects = Subjects(config.bus_prefix)
    nc = await nats.connect(config.nats_url)
    try:
        js = nc.jetstream()
        state = (await js.stream_info(subjects.stream)).state
        order = []
        for seq in range(state.first_seq, state.last_seq + 1):
            event = json.loads((await js.get_msg(subjects.stream, seq)).data)
            if event.get("job_id") == job_id:
                order.append(event["event_id"])
        return order
    finally:
        await nc.close()


def _writers_by_chunk(log: list[dict]) -> dict[int, set[str]]:
    """The generator processes that made each chunk's write calls (`service.instance.id`)."""
    writers: dict[int, set[str]] = {}
    for attributes in (e["data"]["attributes"] for e in log if e["type"] == "llm.call"):
        if attributes["longform.purpose"] == "write":
            writers.setdefault(attributes["longform.chunk_index"], set()).add(attributes["service.instance.id"])
    return writers


def _events_persisted(port: int) -> float:
    metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).raise_for_status().text
    return sum(float(line.split()[-1]) for line in metrics.splitlines()
               if line.startswith("longform_audit_events_persisted_total"))
