"""Structured output as real providers give it when they obey: OpenAI's json_schema
response_format as bare JSON, Anthropic's forced tool as a tool_use block, streamed and not."""

import json

import anthropic
import pytest

from fake_llm.prose import count_words
from tests.fake_llm.sdk import ask_claude, ask_gpt, forced_tool, schema_format, stream_gpt

pytestmark = pytest.mark.timeout(60)

OUTLINE = {"type": "object", "properties": {"style": {"type": "object"}, "nodes": {"type": "array"}}}
MEMORY = {"type": "object", "properties": {"summary": {"type": "string"}, "ledger": {"type": "array"}}}
UNKNOWN = {"type": "object", "properties": {
    "name": {"type": "string"}, "count": {"type": "integer"}, "score": {"type": "number"},
    "done": {"type": "boolean"}, "tags": {"type": "array", "items": {"type": "string"}},
    "place": {"type": "object", "properties": {"town": {"type": "string"}, "rooms": {"type": "integer"}}}}}
OUTLINE_PROMPT = "Plan it. OUTLINE_JSON\nTotal length: 6000 words\nDepth: 2"
SUMMARY_PROMPT = "Answer with SUMMARY: and LEDGER:\nSummarise the chapter in 80 words."
WAYS = ("openai", "openai streamed", "anthropic", "anthropic streamed")


@pytest.fixture(params=WAYS)
def ask_structured(request, gpt, claude):
    """Asks for JSON of a named schema the way `request.param` says; gives back the parsed value
    and whether the provider stopped on its own."""
    def ask(prompt, name, schema, model=None):
        if request.param.startswith("openai"):
            return _structured_gpt(gpt, prompt, name, schema, model or "fake-gpt", request.param.endswith("streamed"))
        return _structured_claude(claude, prompt, name, schema, model or "fake-claude",
                                  request.param.endswith("streamed"))
    return ask


def _structured_gpt(gpt, prompt, name, schema, model, streamed):
    if streamed:
        text, chunks = stream_gpt(gpt, prompt, model=model, response_format=schema_format(name, schema))
        finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
        return json.loads(text), finish == ["stop"]
    reply = ask_gpt(gpt, prompt, model=model, response_format=schema_format(name, schema))
    return json.loads(reply.choices[0].message.content), reply.choices[0].finish_reason == "stop"


def _structured_claude(claude, prompt, name, schema, model, streamed):
    options = {"model": model, "max_tokens": 8000, "messages": [{"role": "user", "content": prompt}]}
    if streamed:
        with claude.messages.stream(**options, **forced_tool(name, schema)) as stream:
            message = stream.get_final_message()
    else:
        message = claude.messages.create(**options, **forced_tool(name, schema))
    (block,) = message.content
    assert block.type == "tool_use" and block.name == name and block.id.startswith("toolu_fake_")
    return block.input, message.stop_reason == "tool_use"


def leaves_of(nodes):
    return [leaf for node in nodes for leaf in (leaves_of(node["children"]) if node["children"] else [node])]


def test_an_outline_schema_gets_the_outline_sized_by_the_prompt(ask_structured) -> None:
    outline, stopped = ask_structured(OUTLINE_PROMPT, "outline", OUTLINE)
    assert set(outline) == {"style", "nodes"} and stopped
    assert all(node["children"] and not any(child["children"] for child in node["children"])
               for node in outline["nodes"])
    planned = sum(leaf["words"] for leaf in leaves_of(outline["nodes"]))
    assert len(leaves_of(outline["nodes"])) == 4 and planned != 6000 and abs(planned - 6000) <= 600


def test_a_memory_schema_gets_a_summary_of_the_asked_words_and_a_ledger(ask_structured) -> None:
    memory, stopped = ask_structured(SUMMARY_PROMPT, "memory", MEMORY)
    assert set(memory) == {"summary", "ledger"} and stopped
    assert count_words(memory["summary"]) == 80 and "\n" not in memory["summary"]
    assert 3 <= len(memory["ledger"]) <= 8
    assert all(set(entry) == {"name", "description"} and all(entry.values()) for entry in memory["ledger"])


def test_an_unknown_schema_gets_json_of_its_shape(ask_structured) -> None:
    value, stopped = ask_structured("Describe a house.", "house", UNKNOWN)
    assert set(value) == set(UNKNOWN["properties"]) and stopped
    assert isinstance(value["name"], str) and value["name"].strip()
    assert isinstance(value["count"], int) and isinstance(value["score"], (int, float))
    assert isinstance(value["done"], bool) and 1 <= len(value["tags"]) <= 3
    assert all(isinstance(tag, str) for tag in value["tags"])
    assert isinstance(value["place"]["town"], str) and isinstance(value["place"]["rooms"], int)


def test_short_scales_a_structured_summary(ask_structured) -> None:
    memory, _ = ask_structured(SUMMARY_PROMPT, "memory", MEMORY, model="fake/short:fraction=0.5")
    assert count_words(memory["summary"]) == 40


async def test_the_async_anthropic_stream_builds_the_tool_input_from_json_pieces(server) -> None:
    client = anthropic.AsyncAnthropic(base_url=server.anthropic_base_url, api_key="test", max_retries=0)
    messages = [{"role": "user", "content": SUMMARY_PROMPT}]
    async with client.messages.stream(model="fake-claude", max_tokens=4000, messages=messages,
                                      **forced_tool("memory", MEMORY)) as stream:
        pieces = [event.partial_json async for event in stream if event.type == "input_json"]
        final = await stream.get_final_message()
    await client.close()
    (block,) = final.content
    assert isinstance(block, anthropic.types.ToolUseBlock) and final.stop_reason == "tool_use"
    assert len(pieces) > 1 and json.loads("".join(pieces)) == block.input
    assert count_words(block.input["summary"]) == 80 and final.usage.output_tokens > 0


def test_a_structured_reply_cut_by_truncated_is_broken_json(gpt, claude) -> None:
    reply = ask_gpt(gpt, OUTLINE_PROMPT, model="fake/truncated:fraction=0.5",
                    response_format=schema_format("outline", OUTLINE))
    assert reply.choices[0].finish_reason == "length"
    with pytest.raises(json.JSONDecodeError):
        json.loads(reply.choices[0].message.content)
    message = ask_claude(claude, OUTLINE_PROMPT, model="fake/truncated:fraction=0.5", **forced_tool("outline", OUTLINE))
    assert message.stop_reason == "max_tokens" and message.content[0].type == "tool_use"


def test_a_structured_reply_past_max_tokens_is_cut_with_finish_reason_length(gpt) -> None:
    reply = ask_gpt(gpt, SUMMARY_PROMPT, max_tokens=40, response_format=schema_format("memory", MEMORY))
    assert reply.choices[0].finish_reason == "length" and count_words(reply.choices[0].message.content) == 30
    with pytest.raises(json.JSONDecodeError):
        json.loads(reply.choices[0].message.content)


def test_tools_the_model_may_skip_and_a_text_format_are_answered_in_text(gpt, claude) -> None:
    optional = {**forced_tool("memory", MEMORY), "tool_choice": {"type": "auto"}}
    message = ask_claude(claude, SUMMARY_PROMPT, **optional)
    assert message.stop_reason == "end_turn" and message.content[0].text.startswith("SUMMARY:\n")
    reply = ask_gpt(gpt, SUMMARY_PROMPT, response_format={"type": "text"})
    assert reply.choices[0].message.content.startswith("SUMMARY:\n")


def test_the_request_log_names_the_format_asked_for(gpt, claude, control) -> None:
    ask_gpt(gpt, OUTLINE_PROMPT, response_format=schema_format("outline", OUTLINE))
    ask_claude(claude, SUMMARY_PROMPT, **forced_tool("memory", MEMORY))
    ask_gpt(gpt, "Write 20 words.")
    logged = [(entry["format"], entry["reply"]) for entry in control.requests()]
    assert logged == [("json_schema:outline", "outline"), ("tool:memory", "summary"), (None, "prose")]
