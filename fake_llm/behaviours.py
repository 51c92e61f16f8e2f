"""Which misbehaviour the next LLM request gets: per-request header, FIFO script, or default.

A behaviour is a kind plus numeric params; every kind takes `probability` (default 1). A chain
is behaviours tried in order: the first (not a trait) whose probability draw hits applies, and a
request no behaviour claims is answered normally. Traits (TRAITS) are drawn for each on its own,
wherever they stand in the chain, and every trait that hits applies on top of that one behaviour.
As text (header, `fake/<spec>` model, FAKE_LLM_DEFAULT): "slow:delay=2",
"truncated:fraction=0.5,probability=0.2", chains joined by "+":
"empty:probability=0.3+rate_limit:probability=0.1,retry_after=1+random_length",
"ignore_formats+chatty:echo=1+random_length".
`loop` is a small model stuck in a loop: a few words of the prompt, then one short phrase over and
over until max_tokens; `loop:prose=20` writes 20 words of prose before it, `loop:delay=3` spreads
its stream over 3 s, as a slow model writes it.
As JSON (control API): {"kind": "slow", "delay": 2}, or a list of those for a chain:
[{"kind": "ignore_formats"}, {"kind": "chatty", "echo": 1}, {"kind": "random_length"}].
"""

import random
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

BEHAVIOUR_HEADER = "x-fake-behaviour"
DEFAULT_ENV_VAR = "FAKE_LLM_DEFAULT"
PROBABILITY = "probability"

KINDS = frozenset(
    {
        "normal",
        "short",
        "random_length",
        "truncated",
        "empty",
        "refusal",
        "echo",
        "loop",
        "rate_limit",
        "server_error",
        "slow",
        "latency",
        "hang",
        "ignore_formats",
        "chatty",
        "reject_formats",
        "no_usage",
        "deterministic",
    }
)
# Traits apply on top of whatever else the chain picks, each by its own draw: a provider that
# ignores formats may also be slow, short or failing.
TRAITS = frozenset({"ignore_formats", "chatty", "reject_formats", "no_usage", "deterministic"})

# A "+" followed by a digit is an exponent ("1e+3"), not the start of the next behaviour.
_CHAIN_SEPARATOR = re.compile(r"\+(?=\s*[A-Za-z_])")


class BadBehaviour(ValueError):
    """A behaviour spec named an unknown kind or gave a non-numeric or out-of-range param."""


def number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass(frozen=True)
class Behaviour:
    kind: str = "normal"
    params: Mapping[str, float] = field(default_factory=dict)

    def param(self, name: str, default: float) -> float:
        return self.params.get(name, default)

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.params}

    def as_text(self) -> str:
        params = ",".join(f"{name}={number_text(value)}" for name, value in self.params.items())
        return f"{self.kind}:{params}" if params else self.kind


NORMAL = Behaviour()


@dataclass(frozen=True)
class BehaviourChain:
    behaviours: tuple[Behaviour, ...] = (NORMAL,)

    def pick(self, rng: random.Random) -> Behaviour:
        """The one behaviour (not a trait) this request gets."""
        for behaviour in self.behaviours:
            if behaviour.kind not in TRAITS and rng.random() < behaviour.param(PROBABILITY, 1.0):
                return behaviour
        return NORMAL

    @property
    def deterministic(self) -> bool:
        """Temperature 0 (or a cache in front of the model): draws seeded by the prompt alone."""
        return any(b.kind == "deterministic" for b in self.behaviours)

    def traits(self, rng: random.Random) -> dict[str, Behaviour]:
        """The traits whose draws hit, by kind."""
        return {b.kind: b for b in self.behaviours if b.kind in TRAITS and rng.random() < b.param(PROBABILITY, 1.0)}

    def as_json(self) -> dict[str, Any] | list[dict[str, Any]]:
        forms = [behaviour.as_json() for behaviour in self.behaviours]
        return forms[0] if len(forms) == 1 else forms

    def as_text(self) -> str:
        return "+".join(behaviour.as_text() for behaviour in self.behaviours)


NORMAL_CHAIN = BehaviourChain()


def chain_from_json(spec: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> BehaviourChain:
    specs = [spec] if isinstance(spec, Mapping) else list(spec)
    if not specs:
        raise BadBehaviour("a behaviour chain needs at least one behaviour")
    return BehaviourChain(tuple(_behaviour_from_json(one) for one in specs))


def chain_from_text(spec: str) -> BehaviourChain:
    return BehaviourChain(tuple(_behaviour_from_text(part) for part in _CHAIN_SEPARATOR.split(spec)))


def _behaviour_from_json(spec: Any) -> Behaviour:
    if not isinstance(spec, Mapping):
        raise BadBehaviour(f"a behaviour must be an object with a 'kind', not {spec!r}")
    params = {name: value for name, value in spec.items() if name != "kind"}
    return _checked(str(spec.get("kind", "")), params)


def _behaviour_from_text(spec: str) -> Behaviour:
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
    if not 0.0 <= numeric.get(PROBABILITY, 1.0) <= 1.0:
        raise BadBehaviour(f"{PROBABILITY} must be between 0 and 1: {dict(params)}")
    return Behaviour(kind, numeric)


class BehaviourSchedule:
    """Header beats the queued script, which beats the default; the header consumes nothing."""

    def __init__(self, default: BehaviourChain = NORMAL_CHAIN) -> None:
        self._queue: deque[BehaviourChain] = deque()
        self.default = default

    def script(self, chains: list[BehaviourChain]) -> None:
        self._queue.extend(chains)

    def reset(self) -> None:
        self._queue.clear()
        self.default = NORMAL_CHAIN

    def queued(self) -> list[BehaviourChain]:
        return list(self._queue)

    def next_for(self, header_spec: str | None) -> BehaviourChain:
        if header_spec:
            return chain_from_text(header_spec)
        if self._queue:
            return self._queue.popleft()
        return self.default
