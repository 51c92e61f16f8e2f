"""What operators see: every service answers /healthz, /readyz and /metrics (the workers on their
ops ports, the gateway on its own), the metrics move when a job runs, readiness says when the
schema is behind, and the logs are JSON lines naming the job."""

import json
import time
from collections import defaultdict
from pathlib import Path

import httpx
import nats
import yaml
from prometheus_client.parser import text_string_to_metric_families

from contracts.subjects import Subjects
from services.common.db import Database
from services.common.ops import Ops

WORKERS = ("audit", "planner", "generator", "assembler")
SCALED_OBJECT = Path(__file__).resolve().parents[2] / "deploy" / "base" / "generator-scaledobject.yaml"


def _urls(stack) -> dict[str, str]:
    urls = {name: f"http://127.0.0.1:{stack.config.ops_ports[name]}" for name in WORKERS}
    for url in urls.values():  # the gateway may be up before a worker has started
        _wait_until_listening(url)
    return {**urls, "gateway": stack.config.gateway_url}


def _wait_until_listening(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(f"{url}/healthz", timeout=2)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _metrics(url: str) -> dict[str, float]:
    """Every sample as `name{label="value",...}` -> value (labels sorted)."""
    response = httpx.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[str, float] = defaultdict(float)
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


def _total(samples: dict[str, float], name: str, **labels: str) -> float:
    wanted = [f'{k}="{v}"' for k, v in labels.items()]
    return sum(value for key, value in samples.items()
               if key.split("{", 1)[0] == name and all(w in key for w in wanted))


def test_every_service_is_alive_ready_and_names_itself_in_its_metrics(stack) -> None:
    for service, url in _urls(stack).items():
        assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200, service
        ready = httpx.get(f"{url}/readyz", timeout=10)
        assert ready.status_code == 200, (service, ready.text)
        assert ready.json() | {"service": service} == {"service": service, "database": "ok", "nats": "ok",
                                                      "schema": "ok"}
        assert _metrics(url)[f'longform_service_info{{service="{service}"}}'] == 1.0, service


def test_unknown_ops_paths_are_not_found(stack) -> None:
    url = _urls(stack)["generator"]
    assert httpx.get(f"{url}/nothing", timeout=10).status_code == 404
    assert httpx.post(f"{url}/healthz", timeout=10).status_code == 405


def test_metrics_move_when_a_job_runs(stack, client) -> None:
    urls = _urls(stack)
    before = {service: _metrics(url) for service, url in urls.items()}
    job_id = client.submit(1200, title="Metrics")
    assert client.wait(job_id)["status"] == "completed"
    after = {service: _metrics(url) for service, url in urls.items()}

    def grew(service: str, name: str, **labels: str) -> float:
        return _total(after[service], name, **labels) - _total(before[service], name, **labels)

    assert grew("generator", "longform_chunks_written_total", outcome="passed") >= 1
    assert grew("generator", "longform_chunk_words_written_total") >= 1200
    assert grew("generator", "longform_llm_calls_total", purpose="write", outcome="kept") >= 1
    assert grew("generator", "longform_llm_tokens_total", direction="output") > 0
    assert grew("generator", "longform_llm_call_latency_seconds_count", purpose="write") >= 1
    assert grew("planner", "longform_llm_calls_total") >= 1
    assert grew("audit", "longform_audit_events_persisted_total") >= len(client.audit(job_id))
    assert _total(after["gateway"], "longform_jobs", status="completed") >= 1
    assert _total(after["audit"], "longform_jobs", status="completed") >= 1
    stream = Subjects(stack.config.bus_prefix).stream
    lag = f'longform_consumer_pending{{consumer="{_keda_consumer()}",stream="{stream}"}}'
    assert lag in after["generator"]
    assert 'longform_consumer_pending{consumer="audit-all"' in " ".join(after["audit"])


def _keda_consumer() -> str:
    """The durable consumer the Kubernetes autoscaler watches: the lag metric above comes from
    JetStream's own list of the generator's consumers, so this proves the ScaledObject names it."""
    (trigger,) = yaml.safe_load(SCALED_OBJECT.read_text())["spec"]["triggers"]
    return trigger["metadata"]["consumer"]


def test_generator_logs_are_json_lines_naming_the_job(stack, client) -> None:
    job_id = client.submit(300, title="Logs")
    assert client.wait(job_id)["status"] == "completed"
    lines = (stack.config.home / "logs" / "generator.log").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    about_the_job = [r for r in records if r.get("job_id") == job_id]
    assert about_the_job, "no log line names the job"
    assert {"time", "level", "service", "logger", "message"} <= set(about_the_job[0])
    assert {r["service"] for r in about_the_job} == {"generator"}


async def test_readiness_fails_while_the_schema_is_behind(stack) -> None:
    db = await Database.connect(stack.config.database_url, "generator", max_size=1)
    nc = await nats.connect(stack.config.nats_url)
    ops = Ops("generator", db, nc, Subjects(stack.config.bus_prefix).stream)
    try:
        assert (await ops.readiness())[0] is True
        ops.schema_versions.add(9999)  # a migration this database has not had
        ready, checks = await ops.readiness()
        assert ready is False
        assert checks["schema"] == "behind: [9999] not applied"
    finally:
        await nc.close()
        await db.close()
