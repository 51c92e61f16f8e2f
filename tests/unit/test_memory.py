"""The memory takes whatever a summariser gives: JSON as asked, labelled text, plain prose; when
nothing is usable it is made in code. Never blocked, always bounded."""

import json

import pytest

from contracts.wordcount import count_words
from services.common.llm.base import LlmError
from services.common.llm.structured import FORMAT_REFUSED, FormatMemory
from services.common.llm.tokens import estimated_tokens
from services.generator.memory import Memory, folded_in_code, read_reply, updated
from services.generator.quality import trim_to_budget

OLD = Memory(summary="Ada leaves the mill town.", ledger="- Ada: a miller's daughter", style="past tense")
CHUNK = ("Ada reached the river at dusk. The ferry was gone and the ferryman with it. She slept under the "
         "willows and woke to bells. By noon she had found the bridge the old maps promised.")


def test_a_json_reply_gives_summary_and_ledger_entries() -> None:
    reply = json.dumps({"summary": "Ada crosses the river.", "ledger": [{"name": "Bram", "description": "a ferryman"}]})
    reading = read_reply(reply)
    assert reading.as_asked and reading.summary == "Ada crosses the river." and reading.ledger == "- Bram: a ferryman"


def test_a_labelled_reply_is_read_as_asked() -> None:
    reading = read_reply("Sure!\nSUMMARY: Ada crosses the river.\nLEDGER:\n- Bram: a ferryman")
    assert reading.as_asked and reading.summary == "Ada crosses the river." and "Bram" in reading.ledger


def test_a_stray_summary_label_without_a_ledger_is_not_the_asked_form() -> None:
    reading = read_reply("SUMMARY:\n\nAda walks to the river and finds the ferry gone.")
    assert not reading.as_asked and reading.ledger == ""


def test_prose_without_the_asked_form_is_taken_as_the_summary() -> None:
    reading = read_reply("Ada walks to the river and finds the ferry gone, then the bridge.")
    assert not reading.as_asked and reading.summary.startswith("Ada walks") and reading.ledger == ""


@pytest.mark.parametrize("reply", ["", "   \n", '{"summary": ""}', '{"summary": "Ada', '{"ledger": []}'])
def test_a_reply_without_words_or_with_broken_json_gives_no_reading(reply) -> None:
    assert read_reply(reply) is None


def test_the_summary_is_bounded_and_the_ledger_merged() -> None:
    reading = read_reply("SUMMARY: " + "word " * 500 + "\nLEDGER:\n- Bram: a ferryman\n- Ada: now a traveller")
    new = updated(OLD, reading, max_summary_words=100, max_entries=30)
    assert count_words(new.summary) == 100
    assert new.ledger.splitlines() == ["- Bram: a ferryman", "- Ada: now a traveller"] and new.style == OLD.style


def test_memory_made_in_code_keeps_the_old_summary_and_the_chunks_first_and_last_sentences() -> None:
    new = folded_in_code(OLD, CHUNK, max_summary_words=250)
    assert new.summary == ("Ada leaves the mill town. Ada reached the river at dusk. "
                           "By noon she had found the bridge the old maps promised.")
    assert new.ledger == OLD.ledger and new.style == OLD.style


def test_memory_made_in_code_stays_within_its_bound_keeping_the_newest_words() -> None:
    new = folded_in_code(Memory(summary="old " * 300), CHUNK, max_summary_words=50)
    assert count_words(new.summary) == 50 and new.summary.endswith("old maps promised.")


@pytest.mark.parametrize(("target", "expected"), [
    (1, "Rivers."), (3, "Rivers run far."), (7, "Rivers run far, and then they rest."),
])
def test_a_tiny_target_is_cut_at_a_word_when_no_sentence_end_fits(target, expected) -> None:
    reply = "Rivers run far, and then they rest in the long grey sea under the hills."
    assert trim_to_budget(reply, target, slack=3) == expected


def test_a_tiny_target_ends_at_a_sentence_when_one_fits_within_the_slack() -> None:
    assert trim_to_budget("Rivers run far. They rest in the sea.", 2, slack=3) == "Rivers run far."


def test_a_refused_response_format_is_remembered_per_model() -> None:
    formats = FormatMemory("openai-compatible")
    refused = LlmError("BadRequestError", "Error code: 400 - Unrecognized request argument supplied: response_format",
                       retryable=False)
    assert formats.structured("small", {"type": "object"})
    err = formats.refusal(refused, "small", "response_format")
    assert err.kind == FORMAT_REFUSED and err.retryable and err.retry_after == 0 and "plain text" in str(err)
    assert not formats.structured("small", {"type": "object"}) and formats.structured("large", {"type": "object"})


def test_other_client_errors_are_not_taken_for_a_format_refusal() -> None:
    formats = FormatMemory("anthropic")
    err = LlmError("BadRequestError", "Error code: 400 - prompt is too long", retryable=False)
    assert formats.refusal(err, "m", "tools") is err and formats.structured("m", {})


def test_estimated_tokens_are_never_zero_for_text() -> None:
    assert estimated_tokens("") == 0 and estimated_tokens("a") == 1
    assert estimated_tokens("word " * 400) == 500 and estimated_tokens("雨が降る") == 4


def test_a_server_error_naming_the_format_is_a_refusal_too() -> None:
    """llama-cpp-python's server answers a json_schema response_format with a 500 naming it."""
    formats = FormatMemory("openai-compatible")
    err = LlmError("server_error", "Error code: 500 - {'loc': ('body', 'response_format', 'type'), 'msg': \"Input"
                   " should be 'text' or 'json_object'\"}", retryable=True)
    assert formats.refusal(err, "gemma", "response_format").kind == FORMAT_REFUSED
    assert formats.refusal(LlmError("server_error", "Error code: 500 - overloaded", retryable=True), "x",
                           "response_format").kind == "server_error"
