"""Pure: what an owner's edit of the plan under review changed (the `job.plan_edited` event's
`changes`), section by section, matched by the index each kept section brings back."""

PATH = " › "


def plan_changes(before: list[dict], after: list[dict]) -> list[str]:
    """`before`: the plan's sections in order (index, titles, brief, budget_words); `after`: the
    edited leaves in their new order (index None for one added). One line per change."""
    old = {s["index"]: s for s in before}
    kept = [leaf["index"] for leaf in after if leaf["index"] is not None]
    changes = [f"removed section {s['index'] + 1} “{_name(s)}”" for s in before if s["index"] not in kept]
    rank_before = {index: rank for rank, index in enumerate(i for i in old if i in kept)}
    for position, leaf in enumerate(after, start=1):
        if leaf["index"] is None:
            changes.append(f"added “{_name(leaf)}” at position {position} ({leaf['budget_words']:,} words)")
            continue
        was = old[leaf["index"]]
        changes += _changed(was, leaf, position, rank_before[leaf["index"]] != kept.index(leaf["index"]))
    return changes


def _changed(was: dict, leaf: dict, position: int, moved: bool) -> list[str]:
    name, lines = f"section {was['index'] + 1} “{_name(was)}”", []
    if list(was["titles"]) != list(leaf["titles"]):
        lines.append(f"renamed {name} to “{_name(leaf)}”")
    if moved:
        lines.append(f"moved {name} to position {position}")
    if was["budget_words"] != leaf["budget_words"]:
        lines.append(f"budget of {name}: {was['budget_words']:,} → {leaf['budget_words']:,} words")
    if was["brief"] != leaf["brief"]:
        lines.append(f"brief of {name} changed")
    return lines


def _name(section: dict) -> str:
    return PATH.join(section["titles"]) or "untitled"
