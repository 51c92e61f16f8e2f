"""The owner's edited outline (PUT /v1/jobs/{id}/plan), checked before anything is sent: the tree
GET gives back, changed. Leaves carry title, brief and budget_words (and `index` for a section
the plan has; none for one added); a node with `sections` is a part whose title may change too.
Order is array order. Every refusal names the section by its title and position."""

from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from contracts.messages import MAX_TARGET_WORDS
from contracts.outline import edited_leaves
from services.gateway.schemas import _no_nul

MAX_SECTIONS = 5_000
MAX_DEPTH = 6
MAX_PLANNED = 2 * MAX_TARGET_WORDS  # room to grow a plan past its target, not to ask for millions of words


class EditedNode(BaseModel):
    # The figures GET adds (words, status, chunks...) may come back with the tree: they are ignored.
    model_config = ConfigDict(extra="ignore")
    title: str = Field(max_length=300)
    brief: str = Field(default="", max_length=5_000)
    budget_words: StrictInt | None = Field(default=None, le=MAX_TARGET_WORDS)
    index: StrictInt | None = None
    sections: list["EditedNode"] | None = None

    _stored = field_validator("title", "brief")(_no_nul)  # Postgres text and jsonb hold no NUL


class EditedPlan(BaseModel):
    model_config = ConfigDict(extra="ignore")
    sections: list[EditedNode] = Field(min_length=1, description="The tree, in the shape GET gives it.")


def checked_leaves(plan: EditedPlan, target_words: int) -> list[dict]:
    """The edit's sections in order, or a 422 naming what is wrong."""
    tree = plan.model_dump(exclude_none=True)["sections"]
    _check_parts(tree, ())
    leaves = edited_leaves(tree)
    if len(leaves) > MAX_SECTIONS:
        raise HTTPException(422, f"the plan has {len(leaves):,} sections: at most {MAX_SECTIONS:,}")
    seen: set[int] = set()
    for position, leaf in enumerate(leaves, start=1):
        name = f"section {position} “{leaf['titles'][-1].strip() or '(untitled)'}”"
        if not leaf["titles"][-1].strip():
            raise HTTPException(422, f"section {position} has an empty title")
        if leaf["budget_words"] is None or leaf["budget_words"] < 1:
            raise HTTPException(422, f"{name}: its budget must be at least 1 word (it is {leaf['budget_words']})")
        if leaf["index"] is not None and leaf["index"] in seen:
            raise HTTPException(422, f"{name}: section index {leaf['index']} is given twice")
        seen.add(leaf["index"])
    total = sum(leaf["budget_words"] for leaf in leaves)
    if total > MAX_PLANNED:
        raise HTTPException(422, f"the budgets sum to {total:,} words: at most {MAX_PLANNED:,}")
    if total < target_words:
        raise HTTPException(422, f"the budgets sum to {total:,} words, short of the target of {target_words:,}:"
                                 f" add {target_words - total:,} words to some sections")
    return leaves


def _check_parts(nodes: list[dict], path: tuple[str, ...]) -> None:
    if len(path) >= MAX_DEPTH:
        raise HTTPException(422, f"the plan nests deeper than {MAX_DEPTH} levels under “{' › '.join(path)}”")
    for position, node in enumerate(nodes, start=1):
        if "sections" not in node:
            continue
        where = f"part {position} of “{' › '.join(path)}”" if path else f"part {position}"
        if not node["title"].strip():
            raise HTTPException(422, f"{where} has an empty title")
        if not node["sections"]:
            raise HTTPException(422, f"{where} “{node['title']}” has no sections")
        _check_parts(node["sections"], (*path, node["title"]))
