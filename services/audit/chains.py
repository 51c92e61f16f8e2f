"""Each stream's lines, numbered and linked, and each stream's chain as this writer expects to
leave it, so a batch's lines are made while the batch before is in Postgres.

Only the writer appends (services/audit/writer.py), so once it has made a batch's lines it knows
where each of their streams will stand after that batch commits: its last seq and the hash of
its last line. The next batch is drafted from there while that batch's statement runs. In its own
transaction, `audit.reserve_seqs` says where each stream really stands (under the row's lock): a
stream's draft is taken only if it starts at that very seq and links to that very hash, else its
lines are made again (after a failed batch, an erasure, a restart, another writer's turn). So a
draft can cost time, never a wrong line; and `audit.append_events` checks every link again."""

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field

from contracts.auditlog import ZERO_HASH, linked, numbered, with_hash
from services.audit.arrivals import Arrived

_REMEMBERED = 100_000  # streams whose chain is remembered; one forgotten is drafted as new, then made again


@dataclass
class Linked:
    """A stream's events with their seqs from `first`, each line linked to the one before,
    the first to `before` (the stream's head when they were made)."""
    stream: str
    first: int
    before: bytes
    events: list[Arrived] = field(default_factory=list)
    texts: list[bytes] = field(default_factory=list)
    hashes: list[bytes] = field(default_factory=list)

    def then(self, event: Arrived) -> "Linked":
        text = numbered(event.halves, self.first + len(self.events))
        self.hashes.append(linked(self.hashes[-1] if self.hashes else self.before, text))
        self.events.append(event)
        self.texts.append(text)
        return self

    def rows(self) -> list[tuple[str, int, Arrived]]:
        return [(self.stream, self.first + i, e) for i, e in enumerate(self.events)]

    def lines(self) -> list[tuple[str, bytes]]:
        """Each line as the live fan-out sends it, with its hash."""
        return [(self.stream, with_hash(text, h)) for text, h in zip(self.texts, self.hashes)]


def link(stream: str, first: int, before: bytes, events: list[Arrived]) -> Linked:
    chain = Linked(stream, first, before)
    for event in events:
        chain.then(event)
    return chain


class Chains:
    """Where each stream will stand once the batches made so far commit, as far as this writer
    knows; `settled` is clear while a batch is being made (a draft waits for it)."""

    def __init__(self) -> None:
        self._ends: OrderedDict[str, tuple[int, bytes]] = OrderedDict()
        self.settled = asyncio.Event()
        self.settled.set()

    def draft(self, streams: dict[str, list[Arrived]]) -> dict[str, Linked]:
        """Each stream's events linked from where it is expected to stand (a stream not known
        here, from seq 1)."""
        drafts = {}
        for stream, events in streams.items():
            last_seq, head = self._ends.get(stream, (0, ZERO_HASH))
            drafts[stream] = link(stream, last_seq + 1, head, events)
        return drafts

    def made(self, chains: list[Linked]) -> None:
        """These lines are about to be written: their streams will end with them."""
        for chain in chains:
            self._ends[chain.stream] = (chain.first + len(chain.events) - 1, chain.hashes[-1])
            self._ends.move_to_end(chain.stream)
        while len(self._ends) > _REMEMBERED:
            self._ends.popitem(last=False)

    def forget(self) -> None:
        """A batch failed: what it would have left is not so."""
        self._ends.clear()


def taken(draft: Linked | None, first: int, before: bytes, events: list[Arrived]) -> Linked:
    """The draft if it starts where the stream really stands and holds these very events, else
    the lines made anew."""
    if (draft is not None and draft.first == first and draft.before == before and len(draft.events) == len(events)
            and draft.events[0] is events[0] and draft.events[-1] is events[-1]):
        return draft
    return link(events[0].stream, first, before, events)
