"""What a job's tokens cost: a price table per model, in USD per million tokens, read from the
operator's file (LONGFORM_PRICES, YAML or JSON) once at start-up. A cost is given only when every
model that spent tokens has a price; otherwise it is unknown (null), never a guess. Prices are
applied when a job is shown, so a changed table changes no history.

    gpt-4o-mini: {input: 0.15, output: 0.60, cached_input: 0.075}
    "claude-*":  {input: 3.00, output: 15.00}

A name is matched exactly first, then against the globs (`*`, `?`, `[...]`) in the file's order."""

import fnmatch
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import yaml

PER = 1_000_000
_KEYS = {"input", "output", "cached_input"}


class PriceFileError(ValueError):
    """The price file cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Price:
    input: float  # USD per million input tokens
    output: float  # USD per million output tokens
    cached_input: float | None = None  # USD per million input tokens read from a prompt cache; None: as input

    def cost(self, tokens: Mapping[str, int]) -> float:
        """Cached input tokens are counted within input tokens (OpenTelemetry's convention)."""
        cached = min(tokens.get("cached_input", 0), tokens.get("input", 0))
        cached_rate = self.input if self.cached_input is None else self.cached_input
        return ((tokens.get("input", 0) - cached) * self.input + cached * cached_rate
                + tokens.get("output", 0) * self.output) / PER


@dataclass(frozen=True)
class PriceTable:
    exact: dict[str, Price] = field(default_factory=dict)
    globs: tuple[tuple[str, Price], ...] = ()

    def price_of(self, model: str) -> Price | None:
        if model in self.exact:
            return self.exact[model]
        return next((price for pattern, price in self.globs if fnmatch.fnmatchcase(model, pattern)), None)

    def cost_of(self, model: str, tokens: Mapping[str, int]) -> float | None:
        price = self.price_of(model)
        return None if price is None else round(price.cost(tokens), 6)

    def total(self, by_model: Mapping[str, Mapping[str, int]]) -> float | None:
        """The cost of every model's tokens, or None when any model that spent tokens has no price."""
        costs = [self.cost_of(model, tokens) for model, tokens in by_model.items() if any(tokens.values())]
        return None if None in costs else round(sum(costs), 6)


def load_prices(path: str | None) -> PriceTable:
    """The table in `path` (an empty table when no file is configured), or PriceFileError."""
    if not path:
        return PriceTable()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PriceFileError(f"LONGFORM_PRICES: cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise PriceFileError(f"LONGFORM_PRICES: {path} is not valid {'JSON' if path.endswith('.json') else 'YAML'}:"
                             f" {exc}") from None
    return parse_prices(data, where=path)


def parse_prices(data: object, where: str = "the price file") -> PriceTable:
    """{model or glob: {input, output[, cached_input]}}, each a number of USD per million tokens >= 0."""
    if data is None:
        return PriceTable()
    if not isinstance(data, dict):
        raise PriceFileError(f"LONGFORM_PRICES: {where} must map model names to prices, not a {type(data).__name__}")
    exact, globs = {}, []
    for model, entry in data.items():
        price = _price(str(model), entry, where)
        if any(c in str(model) for c in "*?["):
            globs.append((str(model), price))
        else:
            exact[str(model)] = price
    return PriceTable(exact, tuple(globs))


def _price(model: str, entry: object, where: str) -> Price:
    def bad(why: str) -> PriceFileError:
        return PriceFileError(f"LONGFORM_PRICES: {where}, entry {model!r}: {why}; write e.g."
                              f" {model}: {{input: 0.15, output: 0.60}} (USD per million tokens)")

    if not isinstance(entry, dict):
        raise bad(f"expected a mapping of input and output prices, got {entry!r}")
    if unknown := sorted(map(str, set(entry) - _KEYS)):
        raise bad(f"unknown key(s) {', '.join(unknown)}; the keys are input, output and cached_input")
    if missing := sorted({"input", "output"} - set(entry)):
        raise bad(f"missing {' and '.join(missing)}")
    for key, value in entry.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise bad(f"{key} must be a number of USD per million tokens, 0 or more, not {value!r}")
    return Price(float(entry["input"]), float(entry["output"]),
                 None if entry.get("cached_input") is None else float(entry["cached_input"]))
