"""Publishes what a service committed to its outbox, in commit order, with the event id as
`Nats-Msg-Id`. A crash between commit and publish loses nothing: the rows wait here."""

import asyncio
import logging
import uuid

from contracts.envelope import Envelope
from contracts.messages import RELAY_CONTEXT, DbQueried

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
                if asyncio.current_task().cancelling():
                    raise  # nats-py turns a cancel while waiting to publish into its own error: stop anyway
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
        """Publish one batch; returns how many were published. The relay's own statements go to
        the log of each job (or account) whose events the batch carried, as `db.query` events with
        context "outbox relay"; a batch that carried only such events is not reported again, or
        the relay would report itself for ever."""
        schema = self.db.schema
        async with self.db.transaction() as tx:
            rows = await tx.fetch(
                f"SELECT id, event_id, type, payload::text AS payload, payload->>'job_id' AS job_id,"
                f" payload->>'user_id' AS user_id, (type = 'db.query' AND payload->'data'->>'context' = "
                f"'{RELAY_CONTEXT}') AS relay_note FROM {schema}.outbox WHERE published_at IS NULL "
                f"ORDER BY id LIMIT {_BATCH} FOR UPDATE SKIP LOCKED"
            )
            await self.bus.publish_in_order([(r["type"], r["payload"].encode(), str(r["event_id"])) for r in rows])
            if rows:
                await tx.execute(
                    f"UPDATE {schema}.outbox SET published_at = now() WHERE id = ANY($1::bigint[])",
                    [r["id"] for r in rows],
                )
            owners = list(dict.fromkeys((r["job_id"], r["user_id"]) for r in rows if not r["relay_note"]))
            statements = tx.sql_statements(outbox_rows=len(owners))
            for job_id, user_id in owners:
                tx.emit(Envelope.wrap(DbQueried(statements=statements, context=RELAY_CONTEXT), service=self.db.service,
                                      job_id=_uuid(job_id), user_id=_uuid(user_id)))
        return len(rows)


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None
