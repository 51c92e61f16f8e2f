"""Scale-out: four generator processes and two audit processes on one stack, sharing their
durable consumers. Each chunk is written once whoever writes it, and every event is persisted
once with gapless seqs whichever audit process takes it. (How much faster four generators are
is measured by bench/scale_out.py, not asserted here.)"""

import secrets
from collections import Counter
from typing import Iterator

import httpx
import pytest

from longform_cli.embedded import free_port
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
def scaled(database_server_url, nats_url, fake_llm_server, tmp_path_factory) -> Iterator[tuple[StackConfig, str]]:
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
            yield config, database_url


@pytest.fixture(scope="module")
def finished_job(scaled) -> tuple[ApiClient, str]:
    config, _ = scaled
    client = ApiClient.signed_up(config.gateway_url)
    job_id = client.submit(12_000, instructions="A history of the canals of an imaginary delta.")
    assert client.wait(job_id, timeout=300)["status"] == "completed"
    yield client, job_id
    client.close()


def test_every_chunk_is_written_once_by_one_of_four_generators(scaled, finished_job) -> None:
    _, database_url = scaled
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


def test_two_audit_processes_persist_every_event_once_without_a_gap(scaled, finished_job) -> None:
    config, database_url = scaled
    client, job_id = finished_job
    published_by = {schema: {str(r["event_id"]) for r in fetch(
        database_url, f"SELECT event_id FROM {schema}.outbox WHERE payload->>'job_id' = $1", job_id)}
        for schema in OUTBOXES}
    assert all(published_by[service] for service in ("gateway", "planner", "generator", "assembler"))
    published = set().union(*published_by.values())
    client.audit_until(job_id, lambda log: published <= {e["event_id"] for e in log}, timeout=60)

    rows = fetch(database_url, "SELECT event_id::text, seq FROM audit.events WHERE stream_id = $1 ORDER BY seq",
                 job_id)
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    stored = Counter(r["event_id"] for r in rows)
    assert stored.most_common(1)[0][1] == 1
    assert published <= set(stored)
    persisted = {name: _events_persisted(config.ops_ports[name]) for name in AUDITS}
    assert all(count > 0 for count in persisted.values()), persisted  # both took their share


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
