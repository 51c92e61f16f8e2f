"""One audit writer at a time, so that each stream's seqs follow the bus's order with replicas.

Replicas share the one durable consumer, but only the process that holds the writer lock pulls
from it; the others stand by, their ops endpoints up, waiting for the lock. The lock is a
session advisory lock taken by the one connection every batch transaction runs on (the writer's
pool holds one connection): while it lives, no other process can commit a batch, so a later
batch is never numbered before an earlier one, as it was when two replicas each reserved seqs
for the batch they happened to pull (BENCHMARKS.md, "streams out of bus order"). If that
connection is lost, the lock goes with it: a standby takes over, and the former writer's next
transaction waits for the lock on a new connection, and the batches it had pulled come back to
the new writer after the consumer's AckWait (numbered after later ones, as after a crash).

Behind a transaction-mode pooler a session is not ours, so no lock is taken there: the service
runs as before, and several replicas may number a stream's events out of bus order (logged at
start; give the audit service a direct connection for replicas)."""

import logging
from typing import Awaitable, Callable

from services.audit.config import AuditSettings
from services.common.db import Database, is_pooled

log = logging.getLogger(__name__)
WRITER_LOCK = 0x4C46_5752_4954_4552  # "LFWRITER": the key of pg_advisory_lock, the same in every replica


async def as_the_one_writer(settings: AuditSettings, shared: Database,
                            consume: Callable[[Database], Awaitable[None]]) -> None:
    """Waits for the writer lock, then consumes on the connection that holds it (`shared`, the
    process's pool, behind a pooler)."""
    if is_pooled(settings.database_url, settings.db_pooled):
        log.warning("behind a transaction-mode pooler the audit writer takes no lock: with several "
                    "replicas, a stream's events may be numbered out of bus order")
        await consume(shared)
        return
    writer = await Database.connect(settings.database_url, "audit", max_size=1, instance=settings.instance,
                                    session_lock=WRITER_LOCK)
    try:
        log.info("waiting for the audit writer lock")
        async with writer.pool.acquire():  # the connection's first use takes the lock
            pass
        log.info("holding the audit writer lock: consuming")
        await consume(writer)
    finally:
        await writer.close()
