"""JSON that follows an asked schema: the planner's outline and the summariser's memory by
their names, anything else built from the schema itself, so an unknown schema still gets valid
JSON."""

import json
import random
from typing import Any

from fake_llm.names import distinct, proper_name
from fake_llm.outline import write_outline
from fake_llm.prose import write_prose

_LEDGER_ENTRIES = (3, 8)


def schema_reply(name: str, schema: dict[str, Any], words: int, depth: int, rng: random.Random,
                 passages: int | None = None) -> str:
    if name == "outline":
        return _unfenced(write_outline(words, depth, rng, passages))
    if name == "memory":
        return json.dumps(memory(words, rng))
    return json.dumps(_value(schema, rng))


def memory(words: int, rng: random.Random) -> dict[str, Any]:
    names = distinct(proper_name, rng)
    ledger = [{"name": next(names), "description": write_prose(rng.randint(5, 10), rng)}
              for _ in range(rng.randint(*_LEDGER_ENTRIES))]
    return {"summary": " ".join(write_prose(words, rng).split("\n\n")), "ledger": ledger}


def _unfenced(text: str) -> str:
    return text.removeprefix("```json\n").removesuffix("\n```")


def _value(schema: Any, rng: random.Random, depth: int = 0) -> Any:
    kind = schema.get("type") if isinstance(schema, dict) else None
    if kind == "object" or (isinstance(schema, dict) and "properties" in schema):
        properties = schema.get("properties") or {}
        return {key: _value(sub, rng, depth + 1) for key, sub in properties.items()}
    if kind == "array":
        return [_value(schema.get("items") or {}, rng, depth + 1) for _ in range(rng.randint(1, 3) if depth < 4 else 0)]
    if kind == "integer":
        return rng.randint(1, 1000)
    if kind == "number":
        return round(rng.uniform(0, 1000), 2)
    if kind == "boolean":
        return rng.random() < 0.5
    return write_prose(rng.randint(3, 12), rng)
