"""Structured output as real providers give it, and providers that do not cooperate: one that
ignores every format, one that chats around its text, one that refuses the structured-output
parameter, one that reports no usage. Traits combine with the other behaviours."""

import json

import anthropic
import openai
import pytest

from fake_llm.chatter import CLOSINGS, PREAMBLES
from tests.fake_llm.sdk import ask_claude, ask_gpt, stream_gpt

MEMORY = {"type": "object", "properties": {"summary": {"type": "string"}, "ledger": {"type": "array"}}}
OUTLINE_PROMPT = "Plan it. OUTLINE_JSON\nTotal length: 6000 words\nDepth: 2"
SUMMARY_PROMPT = "SUMMARY: ...\nLEDGER: ...\nWrite about 80 words."
UNKNOWN = {"type": "object", "properties": {"name": {"type": "string"}, "count": {"type": "integer"},
                                            "tags": {"type": "array", "items": {"type": "string"}}}}


def _schema_format(name, schema):
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": False}}


def _tool(name, schema):
    return {"tools": [{"name": name, "description": "x", "input_schema": schema}],
            "tool_choice": {"type": "tool", "name": name}}


def test_a_json_schema_outline_is_bare_json_with_nodes_to_its_depth(gpt) -> None:
    reply = ask_gpt(gpt, OUTLINE_PROMPT, response_format=_schema_format("outline", {"type": "object"}))
    outline = json.loads(reply.choices[0].message.content)
    assert outline["style"] and all(node["children"] for node in outline["nodes"])


def test_a_json_schema_memory_has_a_summary_and_ledger_entries(gpt) -> None:
    text, _ = stream_gpt(gpt, SUMMARY_PROMPT, response_format=_schema_format("memory", MEMORY))
    memory = json.loads(text)
    assert len(memory["summary"].split()) == 80 and 3 <= len(memory["ledger"]) <= 8
    assert all(entry["name"] and entry["description"] for entry in memory["ledger"])


def test_an_unknown_schema_gets_json_of_its_shape(gpt) -> None:
    value = json.loads(ask_gpt(gpt, "anything", response_format=_schema_format("thing", UNKNOWN))
                       .choices[0].message.content)
    assert isinstance(value["name"], str) and isinstance(value["count"], int) and isinstance(value["tags"], list)


def test_a_forced_tool_is_answered_with_a_tool_use_block(claude) -> None:
    reply = ask_claude(claude, SUMMARY_PROMPT, **_tool("memory", MEMORY))
    (block,) = reply.content
    assert reply.stop_reason == "tool_use" and block.type == "tool_use" and block.name == "memory"
    assert len(block.input["summary"].split()) == 80


def test_a_streamed_tool_use_reaches_the_sdk_as_its_input(claude) -> None:
    with claude.messages.stream(model="fake-claude", max_tokens=4000, messages=[
            {"role": "user", "content": OUTLINE_PROMPT}], **_tool("outline", {"type": "object"})) as stream:
        final = stream.get_final_message()
    (block,) = final.content
    assert block.type == "tool_use" and block.input["nodes"]


def test_a_structured_reply_cut_by_a_token_limit_is_broken_json(gpt) -> None:
    reply = ask_gpt(gpt, OUTLINE_PROMPT, model="fake/truncated:fraction=0.5",
                    response_format=_schema_format("outline", {"type": "object"}))
    assert reply.choices[0].finish_reason == "length"
    with pytest.raises(json.JSONDecodeError):
        json.loads(reply.choices[0].message.content)


@pytest.mark.parametrize("prompt", [OUTLINE_PROMPT, SUMMARY_PROMPT])
def test_ignore_formats_answers_structured_requests_with_plain_prose(gpt, claude, prompt) -> None:
    openai_text = ask_gpt(gpt, prompt, model="fake/ignore_formats",
                          response_format=_schema_format("memory", MEMORY)).choices[0].message.content
    (block,) = ask_claude(claude, prompt, model="fake/ignore_formats", **_tool("memory", MEMORY)).content
    for text in (openai_text, block.text):
        assert "{" not in text and "SUMMARY:" not in text and "LEDGER:" not in text
        assert 0 < len(text.split()) <= 300
    assert block.type == "text"


def test_ignore_formats_with_random_length_varies_the_length(gpt) -> None:
    lengths = {len(ask_gpt(gpt, f"Write about 200 words on topic {i}.", model="fake/ignore_formats+random_length")
                   .choices[0].message.content.split()) for i in range(6)}
    assert len(lengths) > 3 and all(40 <= n <= 360 for n in lengths)


def test_chatty_wraps_the_text_in_every_decoration_when_forced(gpt) -> None:
    prompt = "Line one of the instructions.\nLine two of the instructions.\nWrite about 60 words."
    spec = "fake/chatty:preamble=1,closing=1,echo=1,template=1,label=1"
    text = ask_gpt(gpt, prompt, model=spec).choices[0].message.content
    assert any(p in text for p in PREAMBLES) and any(c in text for c in CLOSINGS)
    assert "<start_of_turn>model" in text and "SUMMARY:" in text and "of the instructions." in text


def test_reject_formats_names_the_parameter_and_plain_requests_still_work(gpt, claude) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        ask_gpt(gpt, SUMMARY_PROMPT, model="fake/reject_formats", response_format=_schema_format("memory", MEMORY))
    assert "response_format" in str(refused.value)
    with pytest.raises(anthropic.BadRequestError) as refused:
        ask_claude(claude, SUMMARY_PROMPT, model="fake/reject_formats", **_tool("memory", MEMORY))
    assert "tools" in str(refused.value)
    assert ask_gpt(gpt, SUMMARY_PROMPT, model="fake/reject_formats").choices[0].message.content.startswith("SUMMARY:")


def test_no_usage_streams_and_replies_carry_no_usage(gpt) -> None:
    _, chunks = stream_gpt(gpt, "Write about 30 words.", model="fake/no_usage", stream_options={"include_usage": True})
    assert all(chunk.usage is None for chunk in chunks)
    assert ask_gpt(gpt, "Write about 30 words.", model="fake/no_usage").usage is None


def test_traits_combine_with_the_behaviour_the_chain_picks(gpt, control) -> None:
    with pytest.raises(openai.InternalServerError):
        ask_gpt(gpt, OUTLINE_PROMPT, model="fake/ignore_formats+server_error")
    reply = ask_gpt(gpt, OUTLINE_PROMPT, model="fake/ignore_formats+chatty:preamble=1+short:fraction=0.5",
                    response_format=_schema_format("outline", {"type": "object"}))
    text = reply.choices[0].message.content
    assert "{" not in text and any(p in text for p in PREAMBLES)
    (entry,) = control.requests()[-1:]
    assert entry["traits"] == ["chatty", "ignore_formats"] and entry["behaviour"]["kind"] == "short"
    assert entry["format"] == "json_schema:outline"
