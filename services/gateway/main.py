"""Wiring only: the FastAPI app, its connections, and uvicorn."""

import asyncio
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from services.common.outbox import OutboxRelay
from services.common.runtime import connect
from services.gateway.config import GatewaySettings
from services.gateway.errors import validation_failed
from services.gateway.limits import BodyLimit
from services.gateway.live import LiveFeed
from services.gateway.recorded import RecordReads
from services.gateway.routes import router
from services.gateway.websocket import router as ws_router


def create_app(settings: GatewaySettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        db, bus = await connect("gateway", settings)
        await bus.start()
        live = LiveFeed(settings.nats_url, settings.subjects, settings.live_queue_size)
        await live.start()
        relay = asyncio.create_task(OutboxRelay(db, bus).run())
        app.state.db, app.state.live, app.state.settings = db, live, settings
        yield
        relay.cancel()
        await asyncio.wait({relay}, timeout=5)  # a relay that will not stop must not hold up the shutdown
        await live.stop()
        await bus.stop()
        await db.close()

    app = FastAPI(title="Longform", version="0.1.0", lifespan=lifespan)
    app.include_router(router)
    app.include_router(ws_router)

    app.add_middleware(RecordReads)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_exception_handler(RequestValidationError, validation_failed)

    return app


def main() -> None:
    settings = GatewaySettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning",
                timeout_graceful_shutdown=5)
