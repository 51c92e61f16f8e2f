"""Every event on the bus: persist a batch in one transaction (acked only after commit), then
hand its lines to the live fan-out (services/audit/fanout.py), which sends them without the
writer waiting. The audit service's own writes are recorded too, as one `db.query` event per
stream per batch, appended directly (not through the bus, which would recurse without end)."""

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import NamedTuple

import asyncpg

from contracts.messages import BOOKKEEPING_CONTEXT, DbQueried, SqlStatement
from contracts.steps import BOOKKEEPING_STEP
from services.audit import store
from services.audit.arrivals import Arrived
from services.audit.chains import Chains, Linked, taken
from services.audit.erasure import drop_erased, erase
from services.audit.fanout import LiveFanout
from services.common.db import Database, Tx, as_sql_statements
from services.common.sqltables import tables_touched
from services.common.ops import EVENTS_PERSISTED

SERVICE = "audit"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ports:
    db: Database
    live: LiveFanout
    chains: Chains = field(default_factory=Chains)


async def record_events(events: list[Arrived], ports: Ports, drafts: dict[str, Linked] | None = None) -> None:
    """A batch's events are taken for new (the table's key refuses any stored before), linked from
    `drafts` where those start where their streams stand; a batch that holds one stored before
    (a redelivery, or a relay's resend after the bus's duplicate window) is written again, each
    event first looked up."""
    ports.chains.settled.clear()
    try:
        try:
            lines = await _recorded(events, ports, looked_up=False, drafts=drafts)
        except asyncpg.UniqueViolationError:
            log.info("a batch of %d events holds some stored before; storing the rest", len(events))
            ports.chains.forget()
            lines = await _recorded(events, ports, looked_up=True)
    except BaseException:
        ports.chains.forget()
        raise
    finally:
        ports.chains.settled.set()
    EVENTS_PERSISTED.inc(len(lines))
    ports.live.hand_over(lines)


class Drafted(NamedTuple):
    events: list[Arrived]
    drafts: dict[str, Linked]


async def drafted(events: list[Arrived], chains: Chains) -> Drafted:
    """The batch with its streams' lines drafted, once the batch before has made its own (run
    while that one is written)."""
    await chains.settled.wait()
    return Drafted(events, chains.draft(store.by_stream(store.once(events))))


async def _recorded(events: list[Arrived], ports: Ports, looked_up: bool,
                    drafts: dict[str, Linked] | None = None) -> list[tuple[str, bytes]]:
    async with ports.db.transaction() as tx:
        kept, delete_requests = await drop_erased(tx, events)
        lines = await append(tx, kept, ports.chains, looked_up, drafts)
        if delete_requests:  # each request is in its job's log now: erase_job checks it there
            erased = {str(r.job_id) for r in delete_requests}
            lines = [(stream, line) for stream, line in lines if stream not in erased]
            lines += await append(tx, await erase(tx, delete_requests), ports.chains, looked_up)
    return lines


async def append(tx: Tx, events: list[Arrived], chains: Chains, looked_up: bool = True,
                 drafts: dict[str, Linked] | None = None) -> list[tuple[str, bytes]]:
    """The new events, each stream's with gapless seqs and then the batch's own `db.query` (its seq
    taken with theirs), and the job states after them, in a few statements per batch, the events
    in one. `looked_up`: the events stored before are looked up and skipped; else each is taken
    for new."""
    fresh = await store.unseen(tx, events) if looked_up else store.once(events)
    if not fresh:
        return []
    streams = store.by_stream(fresh)
    states = await store.load_states(tx, fresh)
    first, heads = await store.reserve(tx, {stream: len(group) + 1 for stream, group in streams.items()})
    # The bookkeeping lists the statements so far and those that store it with the batch.
    statements = as_sql_statements(tx.statements) + _carrying(len({e.job_id for e in fresh if e.job_id}))
    writes = DbQueried(statements=statements, context=BOOKKEEPING_CONTEXT).model_dump(mode="json")
    linked = [taken((drafts or {}).get(stream), first[stream], heads[stream], group).then(_own_writes(group[0], writes))
              for stream, group in streams.items()]
    chains.made(linked)
    chains.settled.set()  # the next batch may be drafted from here while this one is written

    async def meanwhile() -> tuple[list[tuple[str, bytes]], dict]:
        """What needs no answer from Postgres, done while it appends (gather starts the insert first)."""
        return ([line for chain in linked for line in chain.lines()],
                store.fold(states, [row for chain in linked for row in chain.rows()]))

    _, (lines, states) = await asyncio.gather(store.insert(tx, linked), meanwhile())
    await store.save_states(tx, list(states.values()))
    return lines


def _carrying(job_states: int) -> list[SqlStatement]:
    """The statements that store the batch with its bookkeeping events (and the job states after
    them): listed in those events, their durations unknown, as the outbox write that carries a
    service's `db.query` is listed in it."""
    written = [SqlStatement(sql=store.APPEND, tables=tables_touched(store.APPEND), rows=1, duration_ms=None)]
    if job_states:
        written.append(SqlStatement(sql=store.SAVE_STATES, tables=tables_touched(store.SAVE_STATES), rows=None,
                                    duration_ms=None, executions=job_states))
    return written


def _own_writes(first: Arrived, writes: dict) -> Arrived:
    """The batch's `db.query` in the stream of `first` (one dump of it for every stream)."""
    return Arrived.made(uuid.uuid4(), first.job_id, first.user_id, DbQueried.TYPE, SERVICE,
                        datetime.now(timezone.utc), writes, BOOKKEEPING_STEP)
