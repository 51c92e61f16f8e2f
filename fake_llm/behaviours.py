"""Which misbehaviour the next LLM request gets: per-request header, FIFO script, or default.

A behaviour is a kind plus numeric params. As JSON: {"kind": "slow", "delay": 2}.
As a header or FAKE_LLM_DEFAULT value: "slow:delay=2" or "truncated:fraction=0.5,x=1".
"""

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Mapping

BEHAVIOUR_HEADER = "x-fake-behaviour"
DEFAULT_ENV_VAR = "FAKE_LLM_DEFAULT"

KINDS = frozenset(
    {
        "normal",
        "short",
        "truncated",
        "empty",
        "refusal",
        "echo",
        "rate_limit",
        "server_error",
        "slow",
        "hang",
    }
)


class BadBehaviour(ValueError):
    """A behaviour spec named an unknown kind or gave a non-numeric param."""


@dataclass(frozen=True)
class Behaviour:
    kind: str = "normal"
    params: Mapping[str, float] = field(default_factory=dict)

    def param(self, name: str, default: float) -> float:
        return self.params.get(name, default)

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.params}


NORMAL = Behaviour()


def behaviour_from_json(spec: Mapping[str, Any]) -> Behaviour:
    params = {name: value for name, value in spec.items() if name != "kind"}
    return _checked(str(spec.get("kind", "")), params)


def behaviour_from_text(spec: str) -> Behaviour:
    kind, _, param_text = spec.strip().partition(":")
    params: dict[str, Any] = {}
    for pair in filter(None, (part.strip() for part in param_text.split(","))):
        name, _, value = pair.partition("=")
        params[name.strip()] = value.strip()
    return _checked(kind.strip(), params)


def _checked(kind: str, params: Mapping[str, Any]) -> Behaviour:
    if kind not in KINDS:
        raise BadBehaviour(f"unknown behaviour kind {kind!r}; known: {sorted(KINDS)}")
    try:
        numeric = {name: float(value) for name, value in params.items()}
    except (TypeError, ValueError) as error:
        raise BadBehaviour(f"behaviour params must be numbers: {dict(params)}") from error
    return Behaviour(kind, numeric)


class BehaviourSchedule:
    """Header beats the queued script, which beats the default; the header consumes nothing."""

    def __init__(self, default: Behaviour = NORMAL) -> None:
        self._queue: deque[Behaviour] = deque()
        self.default = default

    def script(self, behaviours: list[Behaviour]) -> None:
        self._queue.extend(behaviours)

    def reset(self) -> None:
        self._queue.clear()
        self.default = NORMAL

    def queued(self) -> list[Behaviour]:
        return list(self._queue)

    def next_for(self, header_spec: str | None) -> Behaviour:
        if header_spec:
            return behaviour_from_text(header_spec)
        if self._queue:
            return self._queue.popleft()
        return self.default
