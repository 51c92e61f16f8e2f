"""The outline asked of the LLM: depth grows with the target; the reply is parsed, validated and
its budgets repaired in code, never trusted."""

import json
import re
from dataclasses import dataclass, field

from contracts.budgets import largest_remainder, outline_sections
from services.planner.plan import Section

_LEVELS = {1: "sections", 2: "chapters > sections", 3: "parts > chapters > sections"}
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)
_MAX_LEAF_WORDS = 1_000_000


class OutlineError(ValueError):
    """The reply is not a usable outline (it will be asked again)."""


@dataclass(frozen=True)
class Outline:
    sections: list[Section]
    style: str
    covers: list[object] = field(default_factory=list)  # each section's `passages` as the reply gave it (analyze)


def depth_for(target_words: int) -> int:
    return 1 if target_words <= 10_000 else 2 if target_words <= 150_000 else 3


def schema(depth: int, passages: bool = False) -> dict:
    """The outline's JSON schema, spelled out to its depth (no $ref: grammar-constrained
    servers such as llama.cpp turn it into a grammar, and not all of them follow references).
    An analysis's sections also say which passages of the source they cover, first to last."""
    node: dict = {"type": "object", "required": ["title", "brief", "words"], "properties": {
        "title": {"type": "string"}, "brief": {"type": "string"}, "words": {"type": "integer"}}}
    if passages:
        node["required"].append("passages")
        node["properties"]["passages"] = {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}
    for _ in range(depth - 1):
        node = {"type": "object", "required": ["title", "brief", "children"], "properties": {
            "title": {"type": "string"}, "brief": {"type": "string"}, "children": {"type": "array", "items": node}}}
    style = {"type": "object", "properties": {k: {"type": "string"} for k in
                                              ("tone", "tense", "point_of_view", "audience")}}
    return {"type": "object", "required": ["style", "nodes"],
            "properties": {"style": style, "nodes": {"type": "array", "items": node}}}


def prompt_fields(target_words: int, section_words: int, min_section_words: int) -> dict:
    depth = depth_for(target_words)
    return {"depth": depth, "levels": _LEVELS[depth], "min_section_words": min_section_words,
            "sections": outline_sections(target_words, section_words)}


def _json_object(reply: str) -> dict:
    fenced = _FENCE.search(reply)
    text = fenced.group(1) if fenced else reply
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise OutlineError("reply holds no JSON object")
    try:
        value = json.loads(text[start:end + 1])
    except json.JSONDecodeError as exc:
        raise OutlineError(f"malformed JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise OutlineError("reply is not a JSON object")
    return value


def _leaves(nodes: object, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str, float, object]]:
    if not isinstance(nodes, list) or not nodes:
        raise OutlineError("an outline level is missing or empty")
    found = []
    for node in nodes:
        title = node.get("title") if isinstance(node, dict) else None
        if not isinstance(title, str) or not title.strip():
            raise OutlineError("a node has no title")
        title = " ".join(title.split())
        if node.get("children"):
            found += _leaves(node["children"], path + (title,))
            continue
        brief = node.get("brief")
        brief = " ".join(brief.split()) if isinstance(brief, str) and brief.strip() else title
        found.append((path + (title,), brief, _weight(node.get("words")), node.get("passages")))
    return found


def _weight(words: object) -> float:
    """A leaf's share of the target; anything but a sane positive number counts as 1."""
    if isinstance(words, bool) or not isinstance(words, (int, float)):
        return 1.0
    return float(words) if 1 <= words <= _MAX_LEAF_WORDS else 1.0


def _style(value: object) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in value.items() if str(v).strip())
    return str(value or "")


def parse_outline(reply: str, target_words: int, min_section_words: int) -> Outline:
    data = _json_object(reply)
    leaves = _leaves(data.get("nodes"))
    if len(leaves) > max(1, target_words // min_section_words):
        raise OutlineError(f"{len(leaves)} sections is too fine for {target_words} words")
    budgets = largest_remainder(target_words, [w for _, _, w, _ in leaves])  # repaired: sums to the target exactly
    kept = [(Section(" › ".join(path), brief, words, titles=path), covers)
            for (path, brief, _, covers), words in zip(_distinct(leaves), budgets) if words > 0]
    return Outline([s for s, _ in kept], _style(data.get("style")), [c for _, c in kept])


def _distinct(leaves: list) -> list:
    """Leaves whose titles repeat one before them are numbered ("Scene (2)"): every heading of the
    document names one section."""
    seen: dict[str, int] = {}
    distinct = []
    for path, *rest in leaves:
        seen[path[-1]] = seen.get(path[-1], 0) + 1
        if seen[path[-1]] > 1:
            path = path[:-1] + (f"{path[-1]} ({seen[path[-1]]})",)
        distinct.append((path, *rest))
    return distinct
