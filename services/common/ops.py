"""What an operator asks a running service: `/healthz` (the process is alive), `/readyz` (Postgres
and NATS answer and the schema is current) and `/metrics` (Prometheus). Counters are incremented
in memory where the work happens; what lives elsewhere (jobs by status, consumer lag) is read
only when /metrics is scraped, never per event. Workers serve these on a small HTTP server of
their own (`OpsServer`); the gateway mounts the same answers on its app."""

import asyncio
import contextlib
import json
import logging

import nats
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, Info, generate_latest

from services.common.db import Database
from services.common.migrations import available

log = logging.getLogger(__name__)

OPS_PORTS = {"audit": 9101, "planner": 9102, "generator": 9103, "assembler": 9104}  # defaults
OPS_PATHS = ("/healthz", "/readyz", "/metrics")
_JOB_COUNTERS = ("audit", "gateway")  # the roles that may read audit.job_state
_CHECK_TIMEOUT_S = 3.0

SERVICE = Info("longform_service", "The Longform service this process runs")
JOBS = Gauge("longform_jobs", "Jobs by status (audit.job_state, read when scraped)", ["status"])
CHUNKS = Counter("longform_chunks_written", "Chunks the generator stored, by whether they met their target",
                 ["outcome"])
CHUNK_WORDS = Counter("longform_chunk_words_written", "Words of the chunks the generator stored")
LLM_CALLS = Counter("longform_llm_calls", "LLM calls (each attempt), by outcome: kept, discarded or error",
                    ["provider", "purpose", "outcome"])
LLM_TOKENS = Counter("longform_llm_tokens", "Tokens as the provider reported them", ["provider", "direction"])
LLM_LATENCY = Histogram("longform_llm_call_latency_seconds", "Latency of each LLM call", ["provider", "purpose"],
                        buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320))
EVENTS_PERSISTED = Counter("longform_audit_events_persisted", "Events the audit service appended to audit.events")
CONSUMER_PENDING = Gauge("longform_consumer_pending", "Messages of the stream not yet delivered to the consumer",
                         ["stream", "consumer"])
CONSUMER_ACK_PENDING = Gauge("longform_consumer_ack_pending", "Messages delivered and not yet acknowledged",
                             ["stream", "consumer"])


def count_llm_call(provider: str, purpose: str, outcome: str, latency_ms: int | None,
                   input_tokens: int | None, output_tokens: int | None) -> None:
    LLM_CALLS.labels(provider, purpose, outcome).inc()
    LLM_LATENCY.labels(provider, purpose).observe((latency_ms or 0) / 1000)
    LLM_TOKENS.labels(provider, "input").inc(input_tokens or 0)
    LLM_TOKENS.labels(provider, "output").inc(output_tokens or 0)


def count_chunk(words: int, passed: bool) -> None:
    CHUNKS.labels("passed" if passed else "short").inc()
    CHUNK_WORDS.inc(words)


class Ops:
    """The answers, for one service: its database pool, and its NATS connection (the bus's: one
    connection per process)."""

    def __init__(self, service: str, db: Database, nc: "nats.aio.client.Client", stream: str) -> None:
        self.service, self.db, self.stream = service, db, stream
        self.schema_versions = {m.version for m in available()}
        self._nc = nc
        SERVICE.info({"service": service})

    def health(self) -> dict:
        return {"status": "ok", "service": self.service}

    async def readiness(self) -> tuple[bool, dict]:
        checks = {"nats": "ok" if self._nc is not None and self._nc.is_connected else "not connected"}
        try:
            rows = await asyncio.wait_for(self.db.read("SELECT version FROM longform_meta.migrations"),
                                          _CHECK_TIMEOUT_S)
            checks["database"] = "ok"
            missing = sorted(self.schema_versions - {r["version"] for r in rows})
            checks["schema"] = f"behind: {missing} not applied" if missing else "ok"
        except Exception as exc:  # unreachable, refused, timed out: not ready, and why
            checks["database"] = checks["schema"] = f"{type(exc).__name__}: {exc}"
        return all(v == "ok" for v in checks.values()), {"service": self.service, **checks}

    async def metrics(self) -> bytes:
        await asyncio.gather(self._count_jobs(), self._measure_lag())
        return generate_latest()

    async def _count_jobs(self) -> None:
        if self.service not in _JOB_COUNTERS:
            return
        try:
            rows = await asyncio.wait_for(
                self.db.read("SELECT status, count(*) AS n FROM audit.job_state GROUP BY status"), _CHECK_TIMEOUT_S)
        except Exception:
            log.warning("could not count jobs by status for /metrics", exc_info=True)
            return
        JOBS.clear()
        for row in rows:
            JOBS.labels(row["status"]).set(row["n"])

    async def _measure_lag(self) -> None:
        """num_pending and num_ack_pending of this service's durable consumers (named `<service>-...`)."""
        if self._nc is None or not self._nc.is_connected:
            return
        try:
            consumers = await self._nc.jetstream().consumers_info(self.stream)
        except Exception:
            log.warning("could not read the consumers of %s for /metrics", self.stream, exc_info=True)
            return
        for info in consumers:
            if info.name.startswith(f"{self.service}-"):
                CONSUMER_PENDING.labels(self.stream, info.name).set(info.num_pending or 0)
                CONSUMER_ACK_PENDING.labels(self.stream, info.name).set(info.num_ack_pending or 0)


class OpsServer:
    """HTTP/1.1, GET only, one request per connection: all a probe or a scraper needs."""

    def __init__(self, ops: Ops, host: str, port: int) -> None:
        self.ops, self.host, self.port = ops, host, port
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(self._answer, self.host, self.port)
        except OSError as exc:  # the service still works; only its probes and metrics are missing
            log.error("ops server could not listen on %s:%d: %s", self.host, self.port, exc)
            return
        log.info("ops server on http://%s:%d (/healthz, /readyz, /metrics)", self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    async def respond(self, method: str, path: str) -> tuple[int, str, bytes]:
        if method not in ("GET", "HEAD"):
            return 405, "text/plain", b"method not allowed\n"
        if path == "/healthz":
            return 200, "application/json", json.dumps(self.ops.health()).encode()
        if path == "/readyz":
            ready, checks = await self.ops.readiness()
            return (200 if ready else 503), "application/json", json.dumps(checks).encode()
        if path == "/metrics":
            return 200, CONTENT_TYPE_LATEST, await self.ops.metrics()
        return 404, "text/plain", b"not found\n"

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
            status, content_type, body = await self.respond(method, target.split("?", 1)[0])
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError, ValueError):
            status, content_type, body, method = 400, "text/plain", b"bad request\n", "GET"
        except Exception:
            log.exception("ops request failed")
            status, content_type, body, method = 500, "text/plain", b"internal error\n", "GET"
        writer.write((f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: {content_type}\r\n"
                      f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
                     + (body if method != "HEAD" else b""))
        with contextlib.suppress(ConnectionError):  # the client went away: nothing to answer
            await writer.drain()
        writer.close()


_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error",
            503: "Service Unavailable"}


async def start_ops(service: str, settings, db: Database, nc: "nats.aio.client.Client") -> OpsServer:
    """The ops server of a worker, on LONGFORM_OPS_PORT or the service's default port."""
    port = settings.ops_port if settings.ops_port is not None else OPS_PORTS[service]
    server = OpsServer(Ops(service, db, nc, settings.subjects.stream), settings.ops_host, port)
    await server.start()
    return server
