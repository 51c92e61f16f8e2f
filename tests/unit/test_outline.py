"""The LLM's outline is parsed, validated and its budgets repaired in code, never trusted (SPEC C1)."""

import json

import pytest

from services.planner.outline import OutlineError, depth_for, parse_outline, prompt_fields


def _reply(nodes, **extra) -> str:
    return json.dumps({"nodes": nodes, **extra})


def _leaf(title: str, words=None, **fields) -> dict:
    node = {"title": title, "brief": f"About {title.lower()}.", **fields}
    if words is not None:
        node["words"] = words
    return node


_FLAT = [_leaf("Opening", 300), _leaf("Middle", 400), _leaf("Ending", 300)]
_TWO_LEVELS = [
    {"title": "Chapter One", "children": [_leaf("Arrival", 500), _leaf("Storm", 500)]},
    {"title": "Chapter Two", "children": [_leaf("Aftermath", 1000)]},
]
_THREE_LEVELS = [
    {"title": "Part I", "children": [
        {"title": "Chapter 1", "children": [_leaf("Dawn", 250), _leaf("Noon", 250)]},
        {"title": "Chapter 2", "children": [_leaf("Dusk", 500)]},
    ]},
    {"title": "Part II", "children": [
        {"title": "Chapter 3", "children": [_leaf("Night", 1000)]},
    ]},
]


def test_a_flat_outline_becomes_one_section_per_node_with_its_brief_and_budget():
    outline = parse_outline(_reply(_FLAT), 1000, 150)
    assert [(s.path, s.brief, s.budget_words) for s in outline.sections] == [
        ("Opening", "About opening.", 300), ("Middle", "About middle.", 400), ("Ending", "About ending.", 300)]


def test_a_two_level_outline_joins_chapter_and_section_titles_into_leaf_paths():
    outline = parse_outline(_reply(_TWO_LEVELS), 2000, 150)
    assert [(s.path, s.budget_words) for s in outline.sections] == [
        ("Chapter One › Arrival", 500), ("Chapter One › Storm", 500), ("Chapter Two › Aftermath", 1000)]


def test_a_three_level_outline_joins_part_chapter_and_section_titles_into_leaf_paths():
    outline = parse_outline(_reply(_THREE_LEVELS), 2000, 150)
    assert [s.path for s in outline.sections] == [
        "Part I › Chapter 1 › Dawn", "Part I › Chapter 1 › Noon", "Part I › Chapter 2 › Dusk",
        "Part II › Chapter 3 › Night"]
    assert [s.budget_words for s in outline.sections] == [250, 250, 500, 1000]


def test_titles_and_briefs_are_collapsed_to_single_spaces():
    outline = parse_outline(_reply([{"title": "  The \n Long\tWay ", "brief": "Walk\n\nhome.  ", "words": 10}]),
                            500, 150)
    assert [(s.path, s.brief) for s in outline.sections] == [("The Long Way", "Walk home.")]


def test_parsed_sections_carry_no_handoffs_yet():
    assert all(s.handoff_in == s.handoff_out == "" for s in parse_outline(_reply(_FLAT), 1000, 150).sections)


@pytest.mark.parametrize("reply", [
    "```json\n" + _reply(_FLAT) + "\n```",
    "```\n" + _reply(_FLAT) + "\n```",
    "Here is the outline you asked for:\n\n```json\n" + _reply(_FLAT) + "\n```\n\nLet me know if it works.",
    "Here is the outline you asked for: " + _reply(_FLAT) + " I hope it helps.",
    "Sure.\n" + json.dumps({"nodes": _FLAT}, indent=2) + "\nDone.",
])
def test_the_json_is_found_inside_fences_and_prose(reply):
    outline = parse_outline(reply, 1000, 150)
    assert [(s.path, s.budget_words) for s in outline.sections] == [("Opening", 300), ("Middle", 400), ("Ending", 300)]


@pytest.mark.parametrize("words, target", [
    ([100, 100, 100], 1000),  # short: scaled up
    ([1000, 2000, 3000], 1000),  # long: scaled down
    ([333, 333, 333], 1000),  # off by one
    ([1, 1, 10_000_000], 1000),  # lopsided
    ([7, 11, 13], 150_000),
])
def test_budgets_that_miss_the_target_are_repaired_to_exactly_the_target(words, target):
    outline = parse_outline(_reply([_leaf(f"S{i}", w) for i, w in enumerate(words)]), target, 150)
    assert sum(s.budget_words for s in outline.sections) == target


def test_repaired_budgets_keep_the_outline_proportions():
    outline = parse_outline(_reply([_leaf("A", 100), _leaf("B", 300)]), 2000, 150)
    assert [s.budget_words for s in outline.sections] == [500, 1500]


@pytest.mark.parametrize("bad", [None, 0, -500, "400", "lots", [300], {"n": 3}, float("nan")])
def test_missing_zero_negative_or_non_numeric_words_weigh_as_one(bad):
    nodes = [_leaf("A", 1), _leaf("B", bad), _leaf("C", 2)]
    outline = parse_outline(json.dumps({"nodes": nodes}), 4000, 150)
    assert [s.budget_words for s in outline.sections] == [1000, 1000, 2000]


def test_when_no_node_has_usable_words_the_target_is_split_evenly():
    outline = parse_outline(_reply([{"title": t} for t in "ABCD"]), 1001, 150)
    assert [s.budget_words for s in outline.sections] == [251, 250, 250, 250]


@pytest.mark.parametrize("brief", [None, "", "MISSING"])
def test_a_missing_brief_falls_back_to_the_title(brief):
    node = {"title": "The Harbour", "words": 500}
    if brief != "MISSING":
        node["brief"] = brief
    (section,) = parse_outline(_reply([node]), 500, 150).sections
    assert section.brief == "The Harbour"


def test_a_blank_brief_falls_back_to_the_title():
    (section,) = parse_outline(_reply([{"title": "The Harbour", "brief": "   ", "words": 500}]), 500, 150).sections
    assert section.brief == "The Harbour"


@pytest.mark.parametrize("reply", [
    "",
    "I'm sorry, I can't produce an outline.",
    "Here it is: [1, 2, 3]",
    "} nothing here {",
])
def test_a_reply_without_a_json_object_is_rejected(reply):
    with pytest.raises(OutlineError):
        parse_outline(reply, 1000, 150)


@pytest.mark.parametrize("cut", [10, 40, 80, -30, -3, -1])
def test_a_truncated_reply_is_rejected(cut):
    reply = _reply(_TWO_LEVELS, style={"tone": "wry"})
    with pytest.raises(OutlineError):
        parse_outline(reply[:cut], 2000, 150)


def test_a_truncated_reply_inside_an_open_fence_is_rejected():
    with pytest.raises(OutlineError):
        parse_outline("```json\n" + _reply(_FLAT)[:-20], 1000, 150)


@pytest.mark.parametrize("data", [
    {},
    {"style": {"tone": "dry"}},
    {"nodes": []},
    {"nodes": None},
    {"nodes": {"title": "A"}},
    {"nodes": "Opening, Middle, Ending"},
    {"nodes": [{"title": "A", "children": "B, C"}]},
])
def test_missing_or_empty_nodes_are_rejected(data):
    with pytest.raises(OutlineError):
        parse_outline(json.dumps(data), 1000, 150)


@pytest.mark.parametrize("node", [
    {"brief": "untitled", "words": 100},
    {"title": "", "words": 100},
    {"title": "   \n", "words": 100},
    "Just a string",
    ["A", 100],
])
def test_a_node_without_a_title_is_rejected(node):
    with pytest.raises(OutlineError):
        parse_outline(_reply([_leaf("Fine", 100), node]), 1000, 150)


def test_a_nested_node_without_a_title_is_rejected():
    with pytest.raises(OutlineError):
        parse_outline(_reply([{"title": "Part", "children": [{"words": 100}]}]), 1000, 150)


def test_a_null_title_is_rejected():
    with pytest.raises(OutlineError):
        parse_outline(_reply([_leaf("Fine", 100), {"title": None, "words": 100}]), 1000, 150)


def test_an_outline_finer_than_the_minimum_section_size_is_rejected():
    six = [_leaf(f"S{i}", 150) for i in range(6)]
    assert len(parse_outline(_reply(six), 900, 150).sections) == 6
    with pytest.raises(OutlineError):
        parse_outline(_reply(six), 899, 150)


def test_a_target_below_the_minimum_section_size_still_allows_one_section():
    (only,) = parse_outline(_reply([_leaf("All", 10)]), 60, 150).sections
    assert only.budget_words == 60
    with pytest.raises(OutlineError):
        parse_outline(_reply([_leaf("A", 10), _leaf("B", 10)]), 60, 150)


def test_a_style_object_is_rendered_as_labelled_clauses():
    style = {"tone": "wry", "tense": "past", "point_of_view": "first person", "audience": " "}
    assert parse_outline(_reply(_FLAT, style=style), 1000, 150).style == (
        "tone: wry; tense: past; point of view: first person")


@pytest.mark.parametrize("style, rendered", [("Plain and direct.", "Plain and direct."), (None, ""), ("MISSING", "")])
def test_a_style_string_is_kept_and_a_missing_one_is_empty(style, rendered):
    extra = {} if style == "MISSING" else {"style": style}
    assert parse_outline(_reply(_FLAT, **extra), 1000, 150).style == rendered


@pytest.mark.parametrize("target, depth", [
    (1, 1), (10_000, 1), (10_001, 2), (90_000, 2), (150_000, 2), (150_001, 3), (500_000, 3),
])
def test_outline_depth_grows_with_the_target(target, depth):
    assert depth_for(target) == depth


@pytest.mark.parametrize("target, section_words, fields", [
    (5_000, 2400, {"depth": 1, "levels": "sections", "min_section_words": 150, "sections": 2}),
    (90_000, 2400, {"depth": 2, "levels": "chapters > sections", "min_section_words": 150, "sections": 38}),
    (500_000, 2400, {"depth": 3, "levels": "parts > chapters > sections", "min_section_words": 150,
                     "sections": 208}),
    (60, 2400, {"depth": 1, "levels": "sections", "min_section_words": 150, "sections": 1}),
])
def test_prompt_fields_describe_the_depth_and_the_number_of_sections(target, section_words, fields):
    assert prompt_fields(target, section_words, 150) == fields


@pytest.mark.parametrize("words", ["Infinity", "1e309"], ids=["Infinity", "1e309"])
def test_an_infinite_budget_is_rejected_or_repaired(words):
    reply = '{"nodes": [{"title": "A", "words": %s}, {"title": "B", "words": 1}]}' % words
    try:
        outline = parse_outline(reply, 1000, 150)
    except OutlineError:
        return
    assert sum(s.budget_words for s in outline.sections) == 1000


def test_an_astronomically_large_integer_budget_is_rejected_or_repaired():
    reply = '{"nodes": [{"title": "A", "words": 1%s}, {"title": "B", "words": 1}]}' % ("0" * 400)
    try:
        outline = parse_outline(reply, 1000, 150)
    except OutlineError:
        return
    assert sum(s.budget_words for s in outline.sections) == 1000


def test_budgets_near_the_float_limit_are_still_repaired_to_the_target():
    reply = '{"nodes": [{"title": "A", "words": 1e308}, {"title": "B", "words": 1e308}]}'
    try:
        outline = parse_outline(reply, 1000, 150)
    except OutlineError:
        return
    assert sum(s.budget_words for s in outline.sections) == 1000


def test_a_vanishingly_small_budget_is_still_repaired_to_the_target():
    outline = parse_outline('{"nodes": [{"title": "A", "words": 5e-324}]}', 1000, 150)
    assert sum(s.budget_words for s in outline.sections) == 1000
