"""An owner's edit of a plan in review: checked in the gateway (services/gateway/plan_edit.py),
flattened the same way in the planner (contracts/outline.py), and described as `job.plan_edited`'s
edits (services/planner/edits.py)."""

import pytest
from fastapi import HTTPException

from contracts.outline import edited_leaves
from services.gateway.plan_edit import EditedPlan, checked_leaves
from services.planner.edits import plan_changes


def _before():
    return [{"index": i, "titles": [t], "brief": f"b{i}", "budget_words": 100} for i, t in enumerate("ABC")]


def test_a_tree_flattens_to_its_sections_in_order_with_their_heading_paths() -> None:
    tree = [{"title": "P", "sections": [{"title": "a", "index": 0, "budget_words": 5, "brief": "x"},
                                        {"title": "Q", "sections": [{"title": "b", "budget_words": 6}]}]},
            {"title": "c", "index": 2, "budget_words": 7}]
    assert [(leaf["titles"], leaf["index"], leaf["budget_words"]) for leaf in edited_leaves(tree)] == [
        (["P", "a"], 0, 5), (["P", "Q", "b"], None, 6), (["c"], 2, 7)]


def test_the_edits_name_what_was_renamed_moved_added_removed_and_rebudgeted() -> None:
    after = [{"index": 2, "titles": ["C"], "brief": "b2", "budget_words": 100},
             {"index": None, "titles": ["New"], "brief": "", "budget_words": 50},
             {"index": 0, "titles": ["Part", "A2"], "brief": "changed", "budget_words": 150}]
    assert plan_changes(_before(), after) == [
        "removed section 2 “B”",
        "moved section 3 “C” to position 1",
        "added “New” at position 2 (50 words)",
        "renamed section 1 “A” to “Part › A2”",
        "moved section 1 “A” to position 3",
        "budget of section 1 “A”: 100 → 150 words",
        "brief of section 1 “A” changed",
    ]


def test_an_unchanged_plan_has_no_edits() -> None:
    assert plan_changes(_before(), _before()) == []


def _refusal(tree: list, target: int = 300) -> str:
    with pytest.raises(HTTPException) as refused:
        checked_leaves(EditedPlan.model_validate({"sections": tree}), target)
    assert refused.value.status_code == 422
    return refused.value.detail


def test_the_gateway_refuses_a_plan_naming_the_section() -> None:
    ok = [{"title": "A", "budget_words": 200}, {"title": "B", "budget_words": 100, "words": 9, "status": "done"}]
    assert len(checked_leaves(EditedPlan.model_validate({"sections": ok}), 300)) == 2
    assert _refusal([ok[0], dict(ok[1], budget_words=0)]) == \
        "section 2 “B”: its budget must be at least 1 word (it is 0)"
    assert _refusal([ok[0], {"title": "B"}]).startswith("section 2 “B”: its budget must be at least 1 word")
    assert _refusal([ok[0], dict(ok[1], title=" ")]) == "section 2 has an empty title"
    assert "sum to 299 words, short of the target of 300" in _refusal([ok[0], dict(ok[1], budget_words=99)])
    assert _refusal([{"title": "P", "sections": []}]) == "part 1 “P” has no sections"
    assert _refusal([{"title": "", "sections": ok}]) == "part 1 has an empty title"
    assert "given twice" in _refusal([dict(ok[0], index=0), dict(ok[1], index=0)])


def test_the_gateway_refuses_what_could_not_be_stored_or_planned() -> None:
    from pydantic import ValidationError
    with pytest.raises(ValidationError, match="NUL"):
        EditedPlan.model_validate({"sections": [{"title": "A\x00", "budget_words": 300}]})
    with pytest.raises(ValidationError, match="less than or equal to 500000"):
        EditedPlan.model_validate({"sections": [{"title": "A", "budget_words": 10**10}]})
    many = [{"title": str(i), "budget_words": 500_000} for i in range(3)]
    assert "at most 1,000,000" in _refusal(many)
