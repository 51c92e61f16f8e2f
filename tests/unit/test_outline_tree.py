"""The plan's tree (contracts/outline.py) as GET /v1/jobs/{id}/plan and `longform plan` show it."""

from contracts.outline import section_tree, walk
from longform_cli.client.outline import bar, outline_lines


def _section(index, titles, status="pending", budget=100, words=0, chunks=1, done=0):
    return {"section_index": index, "titles": titles, "title_source": "plan", "brief": f"brief {index}",
            "budget_words": budget, "words": words, "chunks": chunks, "chunks_done": done, "status": status}


def test_sections_nest_under_their_shared_title_prefixes() -> None:
    tree = section_tree([_section(0, ["Part I", "Rivers", "Sources"]), _section(1, ["Part I", "Rivers", "Deltas"]),
                         _section(2, ["Part I", "Towns"]), _section(3, ["Part II", "Seas"])])
    assert [(n["title"], n["level"]) for n in walk(tree)] == [
        ("Part I", 1), ("Rivers", 2), ("Sources", 3), ("Deltas", 3), ("Towns", 2), ("Part II", 1), ("Seas", 2)]
    assert [n.get("index") for n in walk(tree)] == [None, None, 0, 1, 2, None, 3]
    assert tree[0]["sections"][0]["sections"][1]["brief"] == "brief 1"


def test_a_title_repeated_after_another_part_opens_a_new_node() -> None:
    tree = section_tree([_section(0, ["A", "x"]), _section(1, ["B", "y"]), _section(2, ["A", "z"])])
    assert [n["title"] for n in tree] == ["A", "B", "A"]


def test_a_section_without_titles_is_a_leaf_named_by_its_number() -> None:
    tree = section_tree([_section(0, []), _section(1, [])])
    assert [(n["title"], n["level"], n["index"]) for n in tree] == [("Section 1", 1, 0), ("Section 2", 1, 1)]


def test_inner_nodes_total_their_children_and_take_status_from_them() -> None:
    tree = section_tree([
        _section(0, ["P", "a"], "done", budget=100, words=120, chunks=2, done=2),
        _section(1, ["P", "b"], "pending", budget=50, chunks=1),
        _section(2, ["Q", "c"], "done", budget=10, words=11, chunks=1, done=1),
        _section(3, ["Q", "d"], "done", budget=10, words=12, chunks=1, done=1),
        _section(4, ["R", "e"], "pending"), _section(5, ["R", "f"], "pending")])
    p, q, r = tree
    assert (p["budget_words"], p["words"], p["chunks"], p["chunks_done"]) == (150, 120, 3, 2)
    assert (p["status"], q["status"], r["status"]) == ("writing", "done", "pending")


def test_the_cli_indents_by_level_with_the_apis_figures() -> None:
    plan = {"job_id": "j", "state": "writing", "mode": "generate", "target_words": 300, "planned_words": 300,
            "outline_source": "llm",
            "sections": section_tree([_section(0, ["P", "a"], "done", budget=200, words=100, chunks=2, done=1)])}
    lines = outline_lines(plan)
    assert lines[1].startswith("P  done") and "100/200 words  1/2 chunks" in lines[1]
    assert lines[2].startswith("  #0 a  done") and lines[2].endswith(bar(100, 200))
    assert bar(100, 200, 10) == "[#####.....]" and bar(5, 0, 4) == "[....]" and bar(500, 100, 4) == "[####]"


def test_the_cli_says_a_plan_not_made_yet_is_being_planned() -> None:
    assert "still being planned" in outline_lines({"job_id": "j", "state": None, "target_words": 10})[0]
