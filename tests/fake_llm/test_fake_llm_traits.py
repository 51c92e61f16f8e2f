"""Providers that do not cooperate: one that ignores every format, one that chats around its
text, one that refuses the structured-output parameter, one that reports no usage."""

import json

import anthropic
import openai
import pytest

from fake_llm.chatter import CLOSINGS, PREAMBLES, TEMPLATE_TOKENS
from fake_llm.prose import count_words
from tests.fake_llm.sdk import ask_claude, ask_gpt, forced_tool, schema_format, stream_claude, stream_gpt

pytestmark = pytest.mark.timeout(60)

MEMORY = {"type": "object", "properties": {"summary": {"type": "string"}, "ledger": {"type": "array"}}}
OUTLINE_PROMPT = "Plan it. OUTLINE_JSON\nTotal length: 20,000 words\nDepth: 2"
SUMMARY_PROMPT = "Answer with SUMMARY: and LEDGER:\nSummarise the chapter in 80 words."
INSTRUCTIONS = "You continue a document.\nKeep the tone.\nDo not repeat yourself.\nWrite about 60 words."
ALL_DECORATIONS = "chatty:preamble=1,closing=1,echo=1,template=1,label=1,heading=1"
NO_DECORATIONS = "preamble=0,closing=0,echo=0,template=0,label=0,heading=0"


def assert_plain_prose(text):
    assert text.strip() and "{" not in text and "SUMMARY:" not in text and "LEDGER:" not in text


@pytest.mark.parametrize("prompt, asked_words", [(OUTLINE_PROMPT, 300), (SUMMARY_PROMPT, 80)])
def test_ignore_formats_answers_outline_and_summary_prompts_with_prose_of_at_most_300_words(
        gpt, prompt, asked_words) -> None:
    text = ask_gpt(gpt, prompt, model="fake/ignore_formats").choices[0].message.content
    assert_plain_prose(text)
    assert count_words(text) == asked_words


@pytest.mark.parametrize("prompt", [OUTLINE_PROMPT, SUMMARY_PROMPT, "Describe a house."])
def test_ignore_formats_answers_a_json_schema_with_prose(gpt, prompt) -> None:
    text, _ = stream_gpt(gpt, prompt, model="fake/ignore_formats", response_format=schema_format("memory", MEMORY))
    assert_plain_prose(text)


@pytest.mark.parametrize("streamed", [False, True])
def test_ignore_formats_answers_a_forced_tool_with_a_text_block(claude, streamed) -> None:
    options = {"model": "fake/ignore_formats", **forced_tool("memory", MEMORY)}
    message = (stream_claude(claude, SUMMARY_PROMPT, **options)[1] if streamed
               else ask_claude(claude, SUMMARY_PROMPT, **options))
    (block,) = message.content
    assert block.type == "text" and message.stop_reason == "end_turn"
    assert_plain_prose(block.text)


def test_ignore_formats_keeps_the_asked_length_of_prose(gpt) -> None:
    text = ask_gpt(gpt, "Write about 450 words.", model="fake/ignore_formats").choices[0].message.content
    assert count_words(text) == 450


def test_ignore_formats_with_random_length_varies_the_length(gpt) -> None:
    texts = [ask_gpt(gpt, f"{OUTLINE_PROMPT}\nTopic {i}.", model="fake/ignore_formats+random_length",
                     response_format=schema_format("outline", MEMORY)).choices[0].message.content for i in range(6)]
    lengths = {count_words(text) for text in texts}
    assert len(lengths) > 3 and all(60 <= n <= 540 for n in lengths)
    for text in texts:
        assert_plain_prose(text)


def test_ignore_formats_with_truncated_cuts_the_prose(claude) -> None:
    message = ask_claude(claude, SUMMARY_PROMPT, model="fake/ignore_formats+truncated:fraction=0.5",
                         **forced_tool("memory", MEMORY))
    assert message.stop_reason == "max_tokens" and count_words(message.content[0].text) == 40


def test_chatty_wraps_the_text_in_every_decoration_when_forced(gpt, claude) -> None:
    openai_text = ask_gpt(gpt, INSTRUCTIONS, model=f"fake/{ALL_DECORATIONS}").choices[0].message.content
    anthropic_text, _ = stream_claude(claude, INSTRUCTIONS, model=f"fake/{ALL_DECORATIONS}")
    for text in (openai_text, anthropic_text):
        assert text.startswith("<start_of_turn>model\n\n") and text.rstrip().endswith(TEMPLATE_TOKENS)
        assert any(p in text for p in PREAMBLES) and any(c in text for c in CLOSINGS)
        assert "\nSUMMARY:\n" in text


def test_chatty_echo_copies_consecutive_lines_of_the_prompt_before_the_text(gpt) -> None:
    spec = f"fake/chatty:{NO_DECORATIONS.replace('echo=0', 'echo=1')}"
    text = ask_gpt(gpt, INSTRUCTIONS, model=spec).choices[0].message.content
    echoed = text.split("\n\n")[0]
    assert 2 <= len(echoed.splitlines()) <= 4 and echoed in INSTRUCTIONS
    assert count_words(text) == 60 + count_words(echoed)


def test_chatty_heading_titles_the_text_with_the_section_named_in_the_prompt(gpt) -> None:
    prompt = 'Where this part belongs: chunk 2 of 9, in "Rivers › The Delta Towns".\nWrite about 40 words.'
    spec = f"fake/chatty:{NO_DECORATIONS.replace('heading=0', 'heading=1')}"
    heading, _, text = ask_gpt(gpt, prompt, model=spec).choices[0].message.content.partition("\n\n")
    assert "The Delta Towns" in heading and "Rivers" not in heading and count_words(text) == 40


def test_chatty_draws_its_decorations_per_request(gpt) -> None:
    texts = [ask_gpt(gpt, f"Write 30 words on topic {i}.", model="fake/chatty").choices[0].message.content
             for i in range(20)]
    with_preamble = sum(any(p in text for p in PREAMBLES) for text in texts)
    with_closing = sum(any(c in text for c in CLOSINGS) for text in texts)
    assert 0 < with_preamble < 20 and 0 < with_closing < 20


def test_chatty_leaves_obeyed_formats_alone(gpt) -> None:
    def text_of(prompt, **options):
        return ask_gpt(gpt, prompt, model=f"fake/{ALL_DECORATIONS}", **options).choices[0].message.content

    memory = json.loads(text_of(SUMMARY_PROMPT, response_format=schema_format("memory", MEMORY)))
    assert count_words(memory["summary"]) == 80
    outline = text_of(OUTLINE_PROMPT).strip().removeprefix("```json").removesuffix("```")
    assert json.loads(outline)["nodes"]
    assert text_of(SUMMARY_PROMPT).startswith("SUMMARY:\n") and not text_of(SUMMARY_PROMPT).endswith(TEMPLATE_TOKENS)


def test_reject_formats_answers_openai_400_naming_response_format(gpt) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        ask_gpt(gpt, SUMMARY_PROMPT, model="fake/reject_formats", response_format=schema_format("memory", MEMORY))
    assert refused.value.param == "response_format" and refused.value.type == "invalid_request_error"
    assert "Unrecognized request argument supplied: response_format" in str(refused.value)
    assert ask_gpt(gpt, SUMMARY_PROMPT, model="fake/reject_formats").choices[0].message.content.startswith("SUMMARY:")


def test_reject_formats_answers_anthropic_400_naming_tools_even_when_not_forced(claude) -> None:
    for tools in (forced_tool("memory", MEMORY), {"tools": forced_tool("memory", MEMORY)["tools"]}):
        with pytest.raises(anthropic.BadRequestError) as refused:
            ask_claude(claude, SUMMARY_PROMPT, model="fake/reject_formats", **tools)
        assert refused.value.body["error"] == {"type": "invalid_request_error",
                                               "message": "tools: Extra inputs are not permitted"}
    assert ask_claude(claude, SUMMARY_PROMPT, model="fake/reject_formats").content[0].text.startswith("SUMMARY:")


def test_no_usage_openai_streams_and_replies_carry_no_usage(gpt) -> None:
    text, chunks = stream_gpt(gpt, "Write 30 words.", model="fake/no_usage", stream_options={"include_usage": True})
    assert count_words(text) == 30 and all(chunk.usage is None for chunk in chunks)
    assert ask_gpt(gpt, "Write 30 words.", model="fake/no_usage").usage is None


def test_no_usage_anthropic_replies_report_zero_tokens(claude) -> None:
    _, streamed = stream_claude(claude, "Write 30 words.", model="fake/no_usage")
    created = ask_claude(claude, "Write 30 words.", model="fake/no_usage")
    for message in (streamed, created):
        assert count_words(message.content[0].text) == 30
        assert (message.usage.input_tokens, message.usage.output_tokens) == (0, 0)


def test_deterministic_answers_a_repeated_prompt_with_the_same_reply_and_the_same_fault(gpt) -> None:
    """Temperature 0: the behaviour drawn and the text written depend on the prompt alone."""
    model = "fake/deterministic+empty:probability=0.5+chatty+random_length"
    prompts = [f"Write {40 + i} words about rivers." for i in range(12)]
    first = [ask_gpt(gpt, p, model=model).choices[0].message.content for p in prompts]
    again = [ask_gpt(gpt, p, model=model).choices[0].message.content for p in prompts]
    assert first == again
    assert "" in first and any(first)  # the fault falls on some prompts, not all


def test_without_deterministic_a_repeated_prompt_draws_afresh(gpt) -> None:
    model = "fake/empty:probability=0.5"
    replies = {ask_gpt(gpt, "Write 40 words about rivers.", model=model).choices[0].message.content
               for _ in range(12)}
    assert "" in replies and len(replies) == 2
