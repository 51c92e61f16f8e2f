"""The fake LLM server, driven through the real openai and anthropic SDKs over HTTP."""

import math
import re
import uuid

import anthropic
import httpx
import openai
import pytest

from fake_llm import running_fake_llm
from fake_llm.prose import count_words
from tests.fake_llm.in_flight import in_flight, wait_until
from tests.fake_llm.sdk import ask_claude, ask_gpt, stream_claude, stream_gpt

pytestmark = pytest.mark.timeout(60)


def test_openai_reply_has_requested_words_and_usage(gpt):
    reply = ask_gpt(gpt, "Write about 1,200 words on lighthouses.")
    assert count_words(reply.choices[0].message.content) == 1200
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.completion_tokens == math.ceil(1200 * 4 / 3)
    assert reply.usage.prompt_tokens > 0
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def test_openai_stream_has_requested_words_and_final_usage_chunk(gpt):
    text, chunks = stream_gpt(gpt, "write 350 words", stream_options={"include_usage": True})
    assert count_words(text) == 350
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == math.ceil(350 * 4 / 3)
    assert all(chunk.usage is None for chunk in chunks[:-1])
    assert chunks[-2].choices[0].finish_reason == "stop"


def test_openai_stream_without_include_usage_sends_no_usage_chunk(gpt):
    text, chunks = stream_gpt(gpt, "write 80 words")
    assert count_words(text) == 80
    assert all(chunk.choices for chunk in chunks)


def test_anthropic_reply_has_requested_words_and_usage(claude):
    message = ask_claude(claude, "Please write 500 words about rivers.")
    assert count_words(message.content[0].text) == 500
    assert message.stop_reason == "end_turn"
    assert message.usage.output_tokens == math.ceil(500 * 4 / 3) and message.usage.input_tokens > 0


def test_anthropic_stream_has_requested_words_and_usage(claude):
    text, final = stream_claude(claude, "Write 640 words.")
    assert count_words(text) == 640
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == math.ceil(640 * 4 / 3)


def test_default_length_is_300_words(gpt):
    assert count_words(ask_gpt(gpt, "Tell me about bridges.").choices[0].message.content) == 300


def test_max_tokens_cap_truncates_with_finish_reason_length(gpt):
    reply = ask_gpt(gpt, "Write 1000 words.", max_tokens=100)
    assert reply.choices[0].finish_reason == "length"
    assert count_words(reply.choices[0].message.content) == 75
    assert reply.usage.completion_tokens <= 100
    capped = ask_gpt(gpt, "Write 1000 words.", max_completion_tokens=40)
    assert capped.choices[0].finish_reason == "length" and capped.usage.completion_tokens <= 40


def test_anthropic_max_tokens_cap_gives_stop_reason_max_tokens(claude):
    message = ask_claude(claude, "Write 1000 words.", max_tokens=200)
    assert message.stop_reason == "max_tokens" and message.usage.output_tokens <= 200
    text, final = stream_claude(claude, "Write 1000 words.", max_tokens=200)
    assert final.stop_reason == "max_tokens" and count_words(text) == 150


def test_short_reply_writes_a_fraction_and_says_stop(gpt, claude, control):
    control.script({"kind": "short", "fraction": 0.5}, {"kind": "short"})
    reply = ask_gpt(gpt, "Write 400 words.")
    assert count_words(reply.choices[0].message.content) == 200
    assert reply.choices[0].finish_reason == "stop"
    message = ask_claude(claude, "Write 400 words.")
    assert count_words(message.content[0].text) == 120 and message.stop_reason == "end_turn"


def test_truncated_reply_reports_finish_reason_length(gpt, control):
    control.script({"kind": "truncated", "fraction": 0.25})
    text, chunks = stream_gpt(gpt, "Write 400 words.")
    assert count_words(text) == 100
    assert chunks[-1].choices[0].finish_reason == "length"


def test_truncated_reply_reports_stop_reason_max_tokens(claude, control):
    control.script({"kind": "truncated"})
    message = ask_claude(claude, "Write 400 words.")
    assert message.stop_reason == "max_tokens" and count_words(message.content[0].text) == 120


def test_empty_reply_has_no_text_and_stops(gpt, claude, control):
    control.script({"kind": "empty"}, {"kind": "empty"})
    reply = ask_gpt(gpt, "Write 400 words.")
    assert reply.choices[0].message.content == "" and reply.choices[0].finish_reason == "stop"
    message = ask_claude(claude, "Write 400 words.")
    assert message.content == [] and message.stop_reason == "end_turn"


def test_refusal_reply_apologises(gpt, control):
    control.script({"kind": "refusal"})
    assert ask_gpt(gpt, "Write 400 words.").choices[0].message.content == "I'm sorry, but I can't help with that."


def test_echo_reply_repeats_the_prompt(claude, control):
    control.script({"kind": "echo"})
    assert ask_claude(claude, "Say this back.").content[0].text == "Say this back."


def test_rate_limit_raises_rate_limit_error_with_retry_after(gpt, claude, control):
    control.script({"kind": "rate_limit", "retry_after": 7}, {"kind": "rate_limit"})
    with pytest.raises(openai.RateLimitError) as gpt_error:
        ask_gpt(gpt, "Write 10 words.")
    assert gpt_error.value.response.headers["retry-after"] == "7"
    assert gpt_error.value.code == "rate_limit_exceeded"
    with pytest.raises(anthropic.RateLimitError) as claude_error:
        ask_claude(claude, "Write 10 words.")
    assert claude_error.value.response.headers["retry-after"] == "1"
    assert claude_error.value.body["error"]["type"] == "rate_limit_error"


def test_server_error_raises_internal_server_error(gpt, claude, control):
    control.script({"kind": "server_error"}, {"kind": "server_error"})
    with pytest.raises(openai.InternalServerError):
        ask_gpt(gpt, "Write 10 words.")
    with pytest.raises(anthropic.InternalServerError):
        ask_claude(claude, "Write 10 words.")


def test_slow_reply_is_answered_after_a_request_sent_later(gpt, claude, control):
    slow = {"x-fake-behaviour": "slow:delay=2"}
    with in_flight(control, lambda: ask_gpt(gpt, "Write 50 words.", extra_headers=slow),
                   lambda: stream_claude(claude, "Write 50 words.", extra_headers=slow)) as (reply, stream):
        assert count_words(ask_gpt(gpt, "Write 20 words.").choices[0].message.content) == 20
        assert not reply.done() and not stream.done()
    assert count_words(reply.result().choices[0].message.content) == 50
    assert count_words(stream.result()[0]) == 50


def test_hang_times_out_the_client_without_blocking_others(server, gpt, control):
    control.script({"kind": "hang", "max_seconds": 30})
    hanging = openai.OpenAI(base_url=server.openai_base_url, api_key="test", max_retries=0, timeout=2)
    with in_flight(control, lambda: ask_gpt(hanging, "hi")) as [hung]:
        assert count_words(ask_gpt(gpt, "Write 20 words.").choices[0].message.content) == 20
        assert not hung.done()
    assert isinstance(hung.exception(), openai.APITimeoutError)
    wait_until(lambda: control.requests()[0]["status"] == 499)


def test_anthropic_hang_raises_api_timeout_error(claude, control):
    control.script({"kind": "hang"})
    with pytest.raises(anthropic.APITimeoutError):
        ask_claude(claude.with_options(timeout=0.5), "hi")


def test_long_document_never_repeats_a_paragraph(gpt):
    text = ask_gpt(gpt, "Write 2,400 words about a harbour town.").choices[0].message.content
    paragraphs = text.split("\n\n")
    assert len(paragraphs) >= 20 and len(set(paragraphs)) == len(paragraphs)
    assert all(40 <= count_words(paragraph) <= 120 for paragraph in paragraphs)
    assert all(re.match(r"[A-Z]", p) and p.endswith(".") for p in paragraphs)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text)


def test_same_prompt_gives_same_text_and_other_prompts_differ(gpt):
    first = ask_gpt(gpt, "Write 120 words about tides.").choices[0].message.content
    again = ask_gpt(gpt, "Write 120 words about tides.").choices[0].message.content
    other = ask_gpt(gpt, "Write 120 words about canals.").choices[0].message.content
    reseeded = ask_gpt(gpt, "Write 120 words about tides.", seed=7).choices[0].message.content
    assert first == again and first != other and first != reseeded


def test_request_log_records_chunk_header_and_behaviour(gpt, claude, control):
    chunk = f"{uuid.uuid4()}:3"
    ask_gpt(gpt, "Write 30 words.", max_tokens=500, extra_headers={"x-longform-chunk": chunk})
    control.script({"kind": "server_error"})
    with pytest.raises(anthropic.InternalServerError):
        ask_claude(claude, "Write 30 words.", extra_headers={"x-longform-chunk": chunk})
    first, second = control.requests()
    assert first["chunk"] == chunk and first["path"] == "/v1/chat/completions" and first["max_tokens"] == 500
    assert first["messages"] == [{"role": "user", "content": "Write 30 words."}] and first["status"] == 200
    assert second["chunk"] == chunk and second["behaviour"] == {"kind": "server_error"}
    assert second["status"] == 500 and second["model"] == "fake-claude" and second["stream"] is False
    assert control.requests(since=second["index"]) == [second]


def test_script_is_consumed_in_order_then_normal_resumes(gpt, control):
    control.script({"kind": "refusal"}, {"kind": "empty"})
    contents = [ask_gpt(gpt, "Write 25 words.").choices[0].message.content for _ in range(3)]
    assert contents[0].startswith("I'm sorry") and contents[1] == "" and count_words(contents[2]) == 25


def test_default_behaviour_applies_until_reset(gpt, control):
    control.set_default({"kind": "short", "fraction": 0.2})
    assert count_words(ask_gpt(gpt, "Write 100 words.").choices[0].message.content) == 20
    assert count_words(ask_gpt(gpt, "Write 100 words.").choices[0].message.content) == 20
    control.set_default({"kind": "normal"})
    assert count_words(ask_gpt(gpt, "Write 100 words.").choices[0].message.content) == 100


def test_header_selects_behaviour_for_one_request(gpt):
    reply = ask_gpt(gpt, "Write 100 words.", extra_headers={"x-fake-behaviour": "truncated:fraction=0.4"})
    assert count_words(reply.choices[0].message.content) == 40 and reply.choices[0].finish_reason == "length"
    assert count_words(ask_gpt(gpt, "Write 100 words.").choices[0].message.content) == 100


def test_unknown_behaviour_is_rejected(server, gpt):
    response = httpx.post(f"{server.root_url}/_control/script", json={"behaviours": [{"kind": "explode"}]})
    assert response.status_code == 400
    with pytest.raises(openai.BadRequestError):
        ask_gpt(gpt, "hi", extra_headers={"x-fake-behaviour": "explode"})


def test_environment_default_applies_at_startup(monkeypatch):
    monkeypatch.setenv("FAKE_LLM_DEFAULT", "short:fraction=0.1")
    with running_fake_llm() as other:
        gpt = openai.OpenAI(base_url=other.openai_base_url, api_key="test", max_retries=0)
        assert count_words(ask_gpt(gpt, "Write 300 words.").choices[0].message.content) == 30


def test_models_are_listed(gpt):
    assert "fake-gpt" in [model.id for model in gpt.models.list()]


def test_model_named_after_a_behaviour_misbehaves_only_for_that_model(server) -> None:
    client = openai.OpenAI(base_url=server.openai_base_url, api_key="test", max_retries=0)
    short = client.chat.completions.create(
        model="fake/short:fraction=0.5", messages=[{"role": "user", "content": "Write 200 words."}]
    )
    normal = client.chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": "Write 200 words."}]
    )
    assert len(short.choices[0].message.content.split()) == 100
    assert len(normal.choices[0].message.content.split()) == 200
