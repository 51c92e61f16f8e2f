"""What an operator asks a running service: `/healthz` (the process is alive), `/readyz` (Postgres
and NATS answer and the schema is current) and `/metrics` (Prometheus). Counters are incremented
in memory where the work happens; what lives elsewhere (jobs by status, consumer lag) is read
only when /metrics is scraped, never per event. Workers serve these as a small ASGI app of their
own (`ops_app` on uvicorn, `OpsServer`); the gateway mounts the same answers on its app."""

import asyncio
import contextlib
import logging
import socket
from typing import Iterator

import nats
import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, Info, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.common.db import Database
from services.common.migrations import available

log = logging.getLogger(__name__)

OPS_PORTS = {"audit": 9101, "planner": 9102, "generator": 9103, "assembler": 9104}  # defaults
OPS_PATHS = ("/healthz", "/readyz", "/metrics")
# Who counts jobs by status, and where: the audit service in its own table, the gateway in the
# view the audit service publishes for it (migrations/0023_read_views.sql).
_JOB_STATES = {"audit": "audit.job_state", "gateway": "audit.job_state_v1"}
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
LIVE_LINES_DROPPED = Counter("longform_audit_live_lines_dropped",
                             "Persisted lines the audit service's live fan-out dropped, being behind (listeners re-read them)")
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
        if self.service not in _JOB_STATES:
            return
        sql = f"SELECT status, count(*) AS n FROM {_JOB_STATES[self.service]} GROUP BY status"
        try:
            rows = await asyncio.wait_for(self.db.read(sql), _CHECK_TIMEOUT_S)
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


def ops_app(ops: Ops) -> Starlette:
    """/healthz, /readyz and /metrics as an ASGI app: GET and HEAD; other methods 405, other paths 404."""

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse(ops.health())

    async def readyz(request: Request) -> JSONResponse:
        ready, checks = await ops.readiness()
        return JSONResponse(checks, status_code=200 if ready else 503)

    async def metrics(request: Request) -> Response:
        return Response(await ops.metrics(), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics)])


class _Server(uvicorn.Server):
    """uvicorn inside the service's event loop. Its own signal handling is off: the service's
    runtime owns SIGTERM and SIGINT, and stops this server with the rest."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class OpsServer:
    """`ops_app` on uvicorn, on a socket bound here first: a port that is taken is logged and the
    service runs on without its probes (uvicorn itself would exit the process)."""

    def __init__(self, ops: Ops, host: str, port: int) -> None:
        self.ops, self.host, self.port = ops, host, port
        self._server = _Server(uvicorn.Config(ops_app(ops), log_config=None, access_log=False, lifespan="off",
                                              ws="none", timeout_graceful_shutdown=_CHECK_TIMEOUT_S))
        self._serving: asyncio.Task | None = None

    async def start(self) -> None:
        try:
            listening = socket.create_server((self.host, self.port))
        except OSError as exc:  # the service still works; only its probes and metrics are missing
            log.error("ops server could not listen on %s:%d: %s", self.host, self.port, exc)
            return
        self._serving = asyncio.create_task(self._server.serve(sockets=[listening]))
        log.info("ops server on http://%s:%d (/healthz, /readyz, /metrics)", self.host, self.port)

    async def stop(self) -> None:
        if self._serving is not None:
            self._server.should_exit = True
            await self._serving


async def start_ops(service: str, settings, db: Database, nc: "nats.aio.client.Client") -> OpsServer:
    """The ops server of a worker, on LONGFORM_OPS_PORT or the service's default port."""
    port = settings.ops_port if settings.ops_port is not None else OPS_PORTS[service]
    server = OpsServer(Ops(service, db, nc, settings.subjects.stream), settings.ops_host, port)
    await server.start()
    return server
