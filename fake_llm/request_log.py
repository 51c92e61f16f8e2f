"""Bounded in-memory log of every LLM request, indexed so callers can poll with `since`."""

import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

LOG_CAPACITY = 10_000
CHUNK_HEADER = "x-longform-chunk"


@dataclass
class LoggedRequest:
    path: str
    model: str | None
    stream: bool
    max_tokens: int | None
    behaviour: dict[str, Any]
    messages: list[Any]
    chunk: str | None
    spec: str | None = None  # the chain asked for; `behaviour` is the one its draw picked
    reply: str | None = None  # "prose", "outline", "summary" or "json" when the reply was generated text
    traits: list[str] = field(default_factory=list)  # the traits whose draws hit (ignore_formats, chatty, ...)
    format: str | None = None  # structured output asked for: "json_schema:<name>" or "tool:<name>"
    status: int | None = None
    events_total: int | None = None  # a streamed reply: its server-sent events ...
    events_sent: int = 0  # ... and how many were written before the stream ended (or the client left)
    time: float = field(default_factory=time.time)
    index: int = -1

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    """Owned by the server's event loop: every reader and writer runs on it (no thread touches
    it), so a read sees the log between two requests, never in the middle of one being added."""

    def __init__(self, capacity: int = LOG_CAPACITY) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=capacity)
        self._recorded = 0

    def record(self, entry: LoggedRequest) -> LoggedRequest:
        entry.index = self._recorded
        self._recorded += 1
        self._entries.append(entry)
        return entry

    def page(self, index: int = 0) -> dict[str, Any]:
        """The entries from `index` on, and the index to ask from next time, read together so
        a poller that follows `next` sees every request once."""
        requests = [entry.as_json() for entry in self._entries if entry.index >= index]
        return {"requests": requests, "next": self._recorded}

    def clear(self) -> None:
        """Forget the entries but keep counting, so a poller's `since` stays meaningful."""
        self._entries.clear()
