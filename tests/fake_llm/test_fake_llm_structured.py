"""Outlines for the planner and summaries for the summariser, chosen by markers in the prompt."""

import json
import re

import pytest

from fake_llm.prose import count_words
from tests.fake_llm.sdk import ask_gpt

pytestmark = pytest.mark.timeout(60)

OUTLINE_SYSTEM = "You plan documents. Answer with OUTLINE_JSON only."
SUMMARY_SYSTEM = "Answer with a SUMMARY: section, then a LEDGER: of the people and places."
NODE_KEYS = {"title", "brief", "words", "children"}
STYLE_KEYS = {"tone", "tense", "point_of_view", "audience"}
LEDGER_LINE = re.compile(r"- [A-Z][A-Za-z ]*: [A-Z][^\n]*\.")


def ask_with_system(gpt, system, prompt, **options):
    messages = [{"role": "system", "content": system}, {"role": "user", "content": prompt}]
    return gpt.chat.completions.create(model="fake-gpt", messages=messages, **options)


def unfenced(text):
    return text.strip().removeprefix("```json").removesuffix("```")


def leaves_of(nodes):
    return [leaf for node in nodes for leaf in (leaves_of(node["children"]) if node["children"] else [node])]


def depth_of(nodes):
    return 1 + max((depth_of(node["children"]) for node in nodes if node["children"]), default=0)


def all_nodes(nodes):
    return [each for node in nodes for each in [node, *all_nodes(node["children"])]]


def test_outline_prompt_gets_a_json_outline_whose_budgets_drift_from_the_total(gpt):
    reply = ask_with_system(gpt, OUTLINE_SYSTEM, "Plan a novel of 90,000 words.\nDepth: 2")
    outline = json.loads(unfenced(reply.choices[0].message.content))
    assert set(outline) == {"style", "nodes"} and set(outline["style"]) == STYLE_KEYS
    nodes, leaves = all_nodes(outline["nodes"]), leaves_of(outline["nodes"])
    assert depth_of(outline["nodes"]) == 2 and len(leaves) == 60
    assert all(set(node) == NODE_KEYS and isinstance(node["words"], int) for node in nodes)
    assert all(node["words"] == sum(child["words"] for child in node["children"]) for node in outline["nodes"])
    planned = sum(leaf["words"] for leaf in leaves)
    assert planned != 90_000 and abs(planned - 90_000) <= 9_000
    assert all(15 <= count_words(node["brief"]) <= 30 for node in nodes)
    assert len({node["title"] for node in nodes}) == len(nodes) and all(node["title"] for node in nodes)
    assert reply.choices[0].finish_reason == "stop"


def test_outline_depth_line_sets_the_number_of_levels(claude):
    def outline(prompt):
        messages = [{"role": "user", "content": prompt}]
        message = claude.messages.create(model="fake-claude", max_tokens=8000, system=OUTLINE_SYSTEM, messages=messages)
        return json.loads(unfenced(message.content[0].text))["nodes"]

    flat = outline("A guide of 3,000 words.")
    assert depth_of(flat) == 1 and len(flat) == 2 and abs(sum(n["words"] for n in flat) - 3000) <= 300
    parts = outline("Total: 45,000 words\nDepth: 3 (parts > chapters > sections)")
    assert depth_of(parts) == 3 and len(leaves_of(parts)) == 30


def test_about_half_the_outlines_come_in_a_json_fence(gpt):
    topics = ("tides", "canals", "orchards", "bells", "ferries", "kilns", "mills", "looms", "forges", "wells")
    texts = [ask_with_system(gpt, OUTLINE_SYSTEM, f"Plan 3,000 words on {topic}.").choices[0].message.content
             for topic in topics]
    fenced = [text.startswith("```json\n") and text.endswith("\n```") for text in texts]
    assert 0 < sum(fenced) < len(texts)
    assert all(json.loads(unfenced(text))["nodes"] for text in texts)


def test_truncated_outline_is_malformed_json_with_finish_reason_length(gpt):
    header = {"x-fake-behaviour": "truncated:fraction=0.5"}
    reply = ask_with_system(gpt, OUTLINE_SYSTEM, "Plan 9,000 words.", extra_headers=header)
    assert reply.choices[0].finish_reason == "length"
    with pytest.raises(json.JSONDecodeError):
        json.loads(unfenced(reply.choices[0].message.content))


def test_summary_prompt_gets_a_summary_of_the_asked_words_and_a_ledger(gpt):
    reply = ask_with_system(gpt, SUMMARY_SYSTEM, "Summarise this chapter in 120 words:\nThe mill stood.")
    summary, ledger = _sections(reply.choices[0].message.content)
    assert count_words(summary) == 120 and "\n" not in summary.strip()
    assert 3 <= len(ledger) <= 8 and all(LEDGER_LINE.fullmatch(line) for line in ledger)


def test_summary_defaults_to_150_words_and_shrinks_when_short(gpt, control):
    def summary_words():
        reply = ask_with_system(gpt, SUMMARY_SYSTEM, "Summarise: the mill stood.")
        return count_words(_sections(reply.choices[0].message.content)[0])

    assert summary_words() == 150
    control.script({"kind": "short", "fraction": 0.5})
    assert summary_words() == 75


def test_request_log_records_the_kind_of_reply(gpt, control):
    ask_gpt(gpt, "Write 20 words.")
    ask_with_system(gpt, OUTLINE_SYSTEM, "Plan 3,000 words.")
    ask_with_system(gpt, SUMMARY_SYSTEM, "Summarise in 40 words: the mill stood.")
    ask_with_system(gpt, OUTLINE_SYSTEM, "Plan 3,000 words.", extra_headers={"x-fake-behaviour": "echo"})
    assert [entry["reply"] for entry in control.requests()] == ["prose", "outline", "summary", None]


def _sections(text):
    match = re.fullmatch(r"SUMMARY:\n(.*)\n\nLEDGER:\n(.*)", text, re.DOTALL)
    assert match, text
    return match.group(1), match.group(2).split("\n")
