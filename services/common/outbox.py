"""Publishes what a service committed to its outbox, in commit order, with the event id as
`Nats-Msg-Id`. A crash between commit and publish loses nothing: the rows wait here."""

import asyncio
import logging

from services.common.bus import Bus
from services.common.db import Database

log = logging.getLogger(__name__)
_BATCH = 200


class OutboxRelay:
    def __init__(self, db: Database, bus: Bus, *, sweep_seconds: float = 1.0) -> None:
        self.db = db
        self.bus = bus
        self.sweep_seconds = sweep_seconds
        self._wake = asyncio.Event()
        db.on_commit = self._wake.set

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                while await self.publish_pending():
                    pass
                failures = 0
            except Exception as exc:  # NATS or Postgres away: keep the rows, retry with backoff
                failures += 1
                log.warning("outbox relay: %s (retry %d)", exc, failures)
                await asyncio.sleep(min(0.2 * 2**failures, 5.0))
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), self.sweep_seconds)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()

    async def publish_pending(self) -> int:
        """Publish one batch; returns how many were published."""
        schema = self.db.schema
        async with self.db.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                f"SELECT id, event_id, type, payload::text AS payload FROM {schema}.outbox WHERE published_at IS NULL "
                f"ORDER BY id LIMIT {_BATCH} FOR UPDATE SKIP LOCKED"
            )
            for row in rows:
                await self.bus.publish(row["type"], row["payload"].encode(), str(row["event_id"]))
            if rows:
                await conn.execute(
                    f"UPDATE {schema}.outbox SET published_at = now() WHERE id = ANY($1::bigint[])",
                    [r["id"] for r in rows],
                )
        return len(rows)
