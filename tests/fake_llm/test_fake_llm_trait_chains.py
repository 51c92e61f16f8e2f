"""Traits in chains: each drawn for on its own, wherever it stands, on top of the one behaviour
the rest of the chain picks; in text and JSON forms."""

import json
import random

import openai
import pytest

from fake_llm.behaviours import NORMAL, chain_from_text
from fake_llm.chatter import PREAMBLES
from fake_llm.prose import count_words
from tests.fake_llm.sdk import ask_gpt, schema_format

pytestmark = pytest.mark.timeout(60)

MEMORY = {"type": "object", "properties": {"summary": {"type": "string"}, "ledger": {"type": "array"}}}
OUTLINE_PROMPT = "Plan it. OUTLINE_JSON\nTotal length: 6000 words\nDepth: 2"
SUMMARY_PROMPT = "Answer with SUMMARY: and LEDGER:\nSummarise the chapter in 80 words."


def is_json(text):
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return False
    return True


def test_a_chain_of_traits_picks_no_trait_as_its_behaviour() -> None:
    chain = chain_from_text("ignore_formats+chatty:echo=1+reject_formats:probability=0+no_usage")
    rng = random.Random(7)
    assert chain.pick(rng) == NORMAL
    assert sorted(chain.traits(rng)) == ["chatty", "ignore_formats", "no_usage"]
    assert chain.as_text() == "ignore_formats+chatty:echo=1+reject_formats:probability=0+no_usage"


def test_traits_apply_on_top_of_the_behaviour_the_chain_picks(gpt, control) -> None:
    with pytest.raises(openai.InternalServerError):
        ask_gpt(gpt, OUTLINE_PROMPT, model="fake/ignore_formats+server_error")
    chatty = "chatty:preamble=1,closing=0,echo=0,template=0,label=0,heading=0"
    reply = ask_gpt(gpt, SUMMARY_PROMPT, model=f"fake/{chatty}+short:fraction=0.5+ignore_formats",
                    response_format=schema_format("memory", MEMORY))
    text = reply.choices[0].message.content
    assert "{" not in text and text.startswith(PREAMBLES) and count_words(text.split("\n\n", 1)[1]) == 40
    entry = control.requests()[-1]
    assert entry["traits"] == ["chatty", "ignore_formats"] and entry["behaviour"]["kind"] == "short"
    assert entry["format"] == "json_schema:memory" and entry["reply"] == "prose"


def test_traits_combine_with_a_chain_that_is_sometimes_empty_and_sometimes_failing(gpt, control) -> None:
    spec = "fake/ignore_formats+chatty+empty:probability=0.3+rate_limit:probability=0.1+random_length"
    texts = []
    for topic in range(40):
        try:
            texts.append(ask_gpt(gpt, f"{OUTLINE_PROMPT}\nTopic {topic}.", model=spec,
                                 response_format=schema_format("outline", MEMORY)).choices[0].message.content)
        except openai.RateLimitError:
            pass
    written = [text for text in texts if text]
    assert 3 <= texts.count("") <= 25 and len({count_words(text) for text in written}) > 5
    assert all("{" not in text for text in written)
    logged = control.requests()
    assert all(entry["traits"] == ["chatty", "ignore_formats"] for entry in logged)
    assert {entry["behaviour"]["kind"] for entry in logged} <= {"empty", "rate_limit", "random_length"}


def test_a_traits_probability_is_drawn_for_each_request(gpt, control) -> None:
    texts = [ask_gpt(gpt, f"{SUMMARY_PROMPT}\nChapter {n}.", model="fake/ignore_formats:probability=0.5",
                     response_format=schema_format("memory", MEMORY)).choices[0].message.content for n in range(30)]
    obeyed = [is_json(text) for text in texts]
    assert 0 < sum(obeyed) < len(texts)
    assert [entry["traits"] == [] for entry in control.requests()] == obeyed


def test_reject_formats_refuses_before_any_other_trait_or_behaviour_applies(gpt) -> None:
    spec = "fake/ignore_formats+reject_formats+chatty"
    with pytest.raises(openai.BadRequestError):
        ask_gpt(gpt, SUMMARY_PROMPT, model=spec, response_format=schema_format("memory", MEMORY))
    assert "SUMMARY:" not in ask_gpt(gpt, SUMMARY_PROMPT, model=spec).choices[0].message.content


def test_traits_set_as_json_apply_as_their_text_form_does(gpt, control) -> None:
    chain = [{"kind": "ignore_formats"}, {"kind": "chatty", "preamble": 1}, {"kind": "no_usage"}]
    assert control.set_default(chain)["default"] == chain
    reply = ask_gpt(gpt, OUTLINE_PROMPT, response_format=schema_format("outline", MEMORY))
    text = reply.choices[0].message.content
    assert "{" not in text and any(p in text for p in PREAMBLES) and reply.usage is None
