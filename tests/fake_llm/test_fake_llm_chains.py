"""Probabilistic and chained behaviours, random lengths and latency, through the real SDKs."""

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest

from fake_llm import running_fake_llm
from fake_llm.prose import count_words
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


def test_latency_delays_each_reply_without_holding_up_the_others(gpt):
    header = {"x-fake-behaviour": "latency:seconds=0.5"}

    def timed(number):
        started = time.monotonic()
        reply = ask_gpt(gpt, f"Request {number}: write 20 words.", extra_headers=header)
        return time.monotonic() - started, words_of(reply)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(timed, range(16)))
    assert time.monotonic() - started < 4
    assert all(seconds >= 0.5 and words == 20 for seconds, words in results)


def test_latency_streams_the_first_token_after_the_delay(claude):
    messages = [{"role": "user", "content": "Write 50 words."}]
    started = time.monotonic()
    with claude.messages.stream(model="fake/latency:seconds=0.4", max_tokens=500, messages=messages) as stream:
        first = next(stream.text_stream)
        waited = time.monotonic() - started
        text = first + "".join(stream.text_stream)
    assert waited >= 0.4 and count_words(text) == 50
