"""Probabilistic and chained behaviours, random lengths and latency, through the real SDKs."""

import threading
from functools import partial

import httpx
import openai
import pytest

from fake_llm import running_fake_llm
from fake_llm.prose import count_words
from tests.fake_llm.in_flight import in_flight
from tests.fake_llm.sdk import ask_claude, ask_gpt

pytestmark = pytest.mark.timeout(60)

TOPICS = ("tides", "canals", "orchards", "bells", "ferries", "kilns")


def words_of(reply):
    return count_words(reply.choices[0].message.content)


def test_random_length_ignores_the_asked_length_but_repeats_per_prompt(gpt):
    header = {"x-fake-behaviour": "random_length:min=0.5,max=1.5"}
    replies = [ask_gpt(gpt, f"Write 200 words about {topic}.", extra_headers=header) for topic in TOPICS]
    counts = [words_of(reply) for reply in replies]
    assert all(100 <= count <= 300 for count in counts) and len(set(counts)) > 1
    assert all(reply.choices[0].finish_reason == "stop" for reply in replies)
    assert words_of(ask_gpt(gpt, f"Write 200 words about {TOPICS[0]}.", extra_headers=header)) == counts[0]


def test_random_length_defaults_to_a_fifth_to_nearly_double(claude):
    messages = [ask_claude(claude, f"Write 500 words on {topic}.", model="fake/random_length") for topic in TOPICS]
    assert all(100 <= count_words(message.content[0].text) <= 900 for message in messages)
    assert all(message.stop_reason == "end_turn" for message in messages)


def test_random_length_past_max_tokens_is_cut_with_finish_reason_length(gpt):
    header = {"x-fake-behaviour": "random_length:min=1.5,max=1.8"}
    reply = ask_gpt(gpt, "Write 400 words.", max_tokens=300, extra_headers=header)
    assert reply.choices[0].finish_reason == "length" and words_of(reply) == 225


def test_probability_applies_a_behaviour_to_about_that_share_of_requests(gpt):
    contents = [ask_gpt(gpt, "Write 5 words.", model="fake/empty:probability=0.3").choices[0].message.content
                for _ in range(40)]
    assert 3 <= contents.count("") <= 24
    assert all(count_words(content) == 5 for content in contents if content)


def test_first_behaviour_of_a_chain_whose_draw_hits_wins(gpt, control):
    spec = "refusal:probability=0+rate_limit:probability=1,retry_after=3+empty"
    with pytest.raises(openai.RateLimitError) as error:
        ask_gpt(gpt, "Write 30 words.", model=f"fake/{spec}")
    assert error.value.response.headers["retry-after"] == "3"
    unlucky = {"x-fake-behaviour": "refusal:probability=0+empty:probability=0"}
    assert words_of(ask_gpt(gpt, "Write 30 words.", extra_headers=unlucky)) == 30
    first, second = control.requests()
    assert first["spec"] == spec and first["status"] == 429 and first["reply"] is None
    assert first["behaviour"] == {"kind": "rate_limit", "probability": 1, "retry_after": 3}
    assert second["behaviour"] == {"kind": "normal"} and second["reply"] == "prose"


def test_a_chain_set_as_json_falls_through_to_its_next_behaviour(gpt, control):
    state = control.set_default([{"kind": "empty", "probability": 0.5}, {"kind": "short", "fraction": 0.5}])
    assert state["default"] == [{"kind": "empty", "probability": 0.5}, {"kind": "short", "fraction": 0.5}]
    counts = [words_of(ask_gpt(gpt, "Write 10 words.")) for _ in range(30)]
    assert set(counts) == {0, 5}


def test_draws_differ_per_request_but_replay_on_a_fresh_server():
    def empties_in_a_fresh_run():
        with running_fake_llm(default_behaviour="empty:probability=0.5") as fresh:
            client = openai.OpenAI(base_url=fresh.openai_base_url, api_key="test", max_retries=0)
            return [ask_gpt(client, "Write 5 words.").choices[0].message.content == "" for _ in range(12)]

    first = empties_in_a_fresh_run()
    assert len(set(first)) == 2 and empties_in_a_fresh_run() == first


def test_probability_outside_zero_to_one_is_rejected(server, gpt):
    with pytest.raises(openai.BadRequestError):
        ask_gpt(gpt, "hi", extra_headers={"x-fake-behaviour": "empty:probability=1.5"})
    chain = [{"kind": "empty"}, {"kind": "short", "probability": -0.1}]
    assert httpx.post(f"{server.root_url}/_control/default", json=chain).status_code == 400


def test_latency_delays_each_reply_without_holding_up_the_others(gpt, control):
    header = {"x-fake-behaviour": "latency:seconds=3"}
    calls = [partial(ask_gpt, gpt, f"Request {n}: write 20 words.", extra_headers=header) for n in range(16)]
    with in_flight(control, *calls) as delayed:
        assert [request["status"] for request in control.requests()] == [None] * 16  # all waiting at once
        assert words_of(ask_gpt(gpt, "Write 10 words.")) == 10
        assert not any(reply.done() for reply in delayed)
    assert [words_of(reply.result()) for reply in delayed] == [20] * 16


def test_latency_streams_the_first_token_after_the_delay(gpt, claude, control):
    answered = threading.Event()

    def stream():
        messages = [{"role": "user", "content": "Write 50 words."}]
        with claude.messages.stream(model="fake/latency:seconds=2", max_tokens=500, messages=messages) as stream:
            first = next(stream.text_stream)
            answered_before_first_token = answered.is_set()
            return answered_before_first_token, first + "".join(stream.text_stream)

    with in_flight(control, stream) as [streamed]:
        assert words_of(ask_gpt(gpt, "Write 10 words.")) == 10
        answered.set()
    answered_first, text = streamed.result()
    assert answered_first and count_words(text) == 50
