"""How every worker service runs: connect, check the schema, subscribe, relay the outbox,
run until SIGTERM or SIGINT, then stop cleanly."""

import asyncio
import contextlib
import functools
import logging
import signal
from dataclasses import dataclass
from typing import Awaitable, Callable

from contracts.envelope import Envelope, derived_id
from contracts.messages import ErrorRaised, JobFailed, Redelivered
from services.common.bus import Bus
from services.common.config import ServiceSettings
from services.common.db import Database, wait_for_database, waited_out_outage
from services.common.logs import setup_logging
from services.common.migrations import require_current
from services.common.ops import start_ops
from services.common.outbox import Handoff, OutboxRelay
from services.common.retry import RESTART

log = logging.getLogger(__name__)
Wiring = Callable[[Database, Bus], Awaitable[list[Callable[[], Awaitable[None]]]]]


@dataclass(frozen=True)
class Connected:
    """A service's object graph: its database (whose commits go to the relay's hand-off), its bus
    (whose failures and redeliveries go to the job's log through the database), and the relay."""
    db: Database
    bus: Bus
    relay: OutboxRelay


async def connect(service: str, settings: ServiceSettings) -> Connected:
    """Builds the graph; the bus connects when the service starts it."""
    setup_logging(service, settings.log_level)
    await wait_for_database(settings.database_url)
    await require_current(settings.database_url)
    handoff = Handoff()
    db = await Database.connect(settings.database_url, service, max_size=settings.db_pool_size,
                                pooled=settings.db_pooled, instance=settings.instance, on_commit=handoff)
    bus = Bus(settings.nats_servers, settings.subjects, service, instance=settings.instance,
              stream_replicas=settings.stream_replicas,
              on_failure=functools.partial(report_failure, db, service),
              on_redelivery=functools.partial(report_redelivery, db, service),
              waited_out_outage=functools.partial(waited_out_outage, db))
    return Connected(db, bus, OutboxRelay(db, bus, handoff))


async def serve(service: str, settings: ServiceSettings, wire: Wiring) -> None:
    """`wire` registers the subscribers and returns background loops to run alongside them."""
    graph = await connect(service, settings)
    db, bus, relay = graph.db, graph.bus, graph.relay
    await bus.connect()  # the process's one NATS connection; `wire` may ask the bus before any handler runs
    loops = await wire(db, bus)
    await bus.start()
    ops = await start_ops(service, settings, db, bus.connection)  # /healthz, /readyz, /metrics
    tasks = [asyncio.create_task(relay.run())] + [asyncio.create_task(_forever(loop)) for loop in loops]
    log.info("%s started", service)
    await _until_stopped()
    log.info("%s stopping", service)
    await ops.stop()
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    await bus.stop()
    await db.close()


async def report_failure(db: Database, service: str, envelope: Envelope, trace: str, final: bool) -> None:
    """An `error` event with the traceback; when the message is given up, the job fails with the
    reason (and can be resumed) instead of waiting for a message that will never be handled."""
    message = trace.strip().splitlines()[-1]
    async with db.transaction(job_id=envelope.job_id, user_id=envelope.user_id) as tx:
        tx.emit(Envelope.wrap(ErrorRaised(
            message=message, traceback=trace,
            context=f"{service} handling {envelope.type} {envelope.event_id}" + (" (given up)" if final else ""),
        ), service=service, job_id=envelope.job_id, user_id=envelope.user_id))
        if final and envelope.job_id:
            reason = (f"{service} could not handle {envelope.type} ({message}); "
                      f"resume with POST /v1/jobs/{envelope.job_id}/resume")
            tx.emit(Envelope.wrap(JobFailed(reason=reason), service=service, job_id=envelope.job_id,
                                  user_id=envelope.user_id,
                                  event_id=derived_id(envelope.event_id, JobFailed.TYPE, service)))


async def report_redelivery(db: Database, service: str, envelope: Envelope, delivery: int, consumer: str) -> None:
    """`job.redelivered` in the job's log (once per delivery), before the handler runs again."""
    if envelope.job_id is None:
        return
    async with db.transaction(job_id=envelope.job_id, user_id=envelope.user_id) as tx:
        tx.emit(Envelope.wrap(
            Redelivered(message_type=envelope.type, message_event_id=envelope.event_id, delivery=delivery,
                        consumer=consumer),
            service=service, job_id=envelope.job_id, user_id=envelope.user_id,
            event_id=derived_id(envelope.event_id, Redelivered.TYPE, consumer, delivery)))


async def _forever(loop: Callable[[], Awaitable[None]]) -> None:
    """A background loop that fails (NATS or Postgres away) starts again after a pause."""
    failures = 0
    while True:
        try:
            await loop()
        except asyncio.CancelledError:
            raise
        except Exception:
            if asyncio.current_task().cancelling():
                raise  # a library turned our cancel into its own error: stop, do not start again
            failures += 1
            log.exception("background loop failed (%d); starting it again", failures)
            await asyncio.sleep(RESTART.delay(failures))


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
