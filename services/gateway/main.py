"""Wiring only: the FastAPI app, its connections, and uvicorn."""

import asyncio
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from services.common.ops import Ops
from services.common.runtime import connect
from services.gateway import accounts, limiter, llm_calls, plans
from services.gateway.config import GatewaySettings
from services.gateway.errors import NOT_STORABLE, refused, text_not_storable, validation_failed
from services.gateway.jsonbody import StrictJson
from services.gateway.limits import BodyLimit
from services.gateway.live import LiveFeed
from services.gateway.pages import router as pages_router, static_files
from services.gateway.prices import PriceFileError, load_prices
from services.gateway.recorded import RecordReads
from services.gateway.routes import router
from services.gateway.websocket import router as ws_router


def create_app(settings: GatewaySettings) -> FastAPI:
    prices = load_prices(settings.prices)  # a bad price file stops the gateway here, naming the entry
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        graph = await connect("gateway", settings)
        db, bus = graph.db, graph.bus
        await bus.start()  # the process's one NATS connection: the relay's, the live feed's, the probes'
        ops = Ops("gateway", db, bus.connection, settings.subjects.stream)
        live = LiveFeed(bus.connection, settings.subjects, settings.live_queue_size)
        relay = asyncio.create_task(graph.relay.run())
        app.state.db, app.state.live, app.state.settings, app.state.ops = db, live, settings, ops
        app.state.prices = prices
        app.state.docx_readers = asyncio.Semaphore(settings.docx_readers)
        app.state.rate_limits = limiter.per_minute(settings)
        yield
        relay.cancel()
        await asyncio.wait({relay}, timeout=5)  # a relay that will not stop must not hold up the shutdown
        await bus.stop()
        await db.close()

    app = FastAPI(title="Longform", version="0.1.0", lifespan=lifespan)
    app.include_router(accounts.router)
    app.include_router(router)
    app.include_router(llm_calls.router)
    app.include_router(plans.router)
    app.include_router(ws_router)
    app.include_router(pages_router)
    app.mount("/static", static_files(), name="static")

    app.add_middleware(StrictJson)  # innermost of the three: reads the body through BodyLimit's count
    app.add_middleware(RecordReads)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_exception_handler(RequestValidationError, validation_failed)
    app.add_exception_handler(StarletteHTTPException, refused)
    for error in NOT_STORABLE:
        app.add_exception_handler(error, text_not_storable)

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        ready, checks = await request.app.state.ops.readiness()
        return JSONResponse(checks, status_code=200 if ready else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        return Response(await request.app.state.ops.metrics(), media_type=CONTENT_TYPE_LATEST)

    return app


def main() -> None:
    settings = GatewaySettings()
    try:
        app = create_app(settings)
    except PriceFileError as bad:
        raise SystemExit(f"gateway: {bad}") from None  # one line, no traceback: the operator fixes the file
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning",
                timeout_graceful_shutdown=5)
