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
    reply: str | None = None  # "prose", "outline" or "summary" when the reply was generated text
    status: int | None = None
    time: float = field(default_factory=time.time)
    index: int = -1

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    def __init__(self, capacity: int = LOG_CAPACITY) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=capacity)
        self._recorded = 0

    def record(self, entry: LoggedRequest) -> LoggedRequest:
        entry.index = self._recorded
        self._recorded += 1
        self._entries.append(entry)
        return entry

    @property
    def recorded(self) -> int:
        return self._recorded

    def since(self, index: int = 0) -> list[dict[str, Any]]:
        return [entry.as_json() for entry in self._entries if entry.index >= index]

    def clear(self) -> None:
        """Forget the entries but keep counting, so a poller's `since` stays meaningful."""
        self._entries.clear()
