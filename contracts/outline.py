"""A plan's sections as the tree its readers see (GET /v1/jobs/{id}/plan, `longform plan`, the
page's outline pane). Shared by the gateway, which builds the tree, and the CLI, which prints it,
so both show the same figures.

A section's `titles` are its heading path, outermost first: its leaf is the last title, and the
inner nodes are the prefixes it shares with its neighbours. Sections come in plan order, so a
part's sections are consecutive and a prefix opens a node until a section with a different prefix
comes. A section with no titles (a rewrite's passages) is a leaf named by its number."""

from typing import Iterable, Mapping

_TOTALS = ("budget_words", "words", "chunks", "chunks_done")


def section_tree(sections: Iterable[Mapping]) -> list[dict]:
    """Nested nodes from sections in plan order: each with title, level (1 = outermost),
    budget_words, words, chunks, chunks_done and status; a leaf also has index, brief and
    title_source, an inner node `sections` (its children)."""
    roots: list[dict] = []
    opened: list[dict] = []  # the inner nodes along the current path, outermost first
    for section in sections:
        titles = list(section["titles"]) or [f"Section {section['section_index'] + 1}"]
        shared = _shared(opened, titles[:-1])
        del opened[shared:]
        for depth in range(shared, len(titles) - 1):
            node = {"title": titles[depth], "level": depth + 1, "sections": []}
            (opened[-1]["sections"] if opened else roots).append(node)
            opened.append(node)
        (opened[-1]["sections"] if opened else roots).append(_leaf(section, titles[-1], len(titles)))
    for node in roots:
        _total(node)
    return roots


def _shared(opened: list[dict], path: list[str]) -> int:
    depth = 0
    while depth < min(len(opened), len(path)) and opened[depth]["title"] == path[depth]:
        depth += 1
    return depth


def _leaf(section: Mapping, title: str, level: int) -> dict:
    return {"title": title, "level": level, "index": section["section_index"], "brief": section["brief"],
            "title_source": section["title_source"], "status": section["status"],
            **{key: section[key] for key in _TOTALS}}


def _total(node: dict) -> dict:
    """An inner node's totals are its children's; it is done when all of them are, pending when
    all of them are, else writing."""
    if "sections" not in node:
        return node
    children = [_total(child) for child in node["sections"]]
    for key in _TOTALS:
        node[key] = sum(child[key] for child in children)
    statuses = {child["status"] for child in children}
    node["status"] = statuses.pop() if len(statuses) == 1 and statuses <= {"done", "pending"} else "writing"
    # key order for readers: the figures before the children
    node["sections"] = node.pop("sections")
    return node


def walk(nodes: list[dict]) -> Iterable[dict]:
    """Every node, depth first in plan order (parents before their children)."""
    for node in nodes:
        yield node
        yield from walk(node.get("sections", []))


def edited_leaves(nodes: list[dict], path: tuple[str, ...] = ()) -> list[dict]:
    """An edited tree (PUT /v1/jobs/{id}/plan) as its sections in order: each leaf's heading path
    (`titles`, its own title last), `index` (None for a section added), brief and budget_words. A
    node with `sections` is a part; any other is a section."""
    leaves = []
    for node in nodes:
        titles = (*path, node.get("title", ""))
        if "sections" in node and node["sections"] is not None:
            leaves += edited_leaves(node["sections"], titles)
        else:
            leaves.append({"titles": list(titles), "index": node.get("index"), "brief": node.get("brief", ""),
                           "budget_words": node.get("budget_words")})
    return leaves
