"""A model's tokens per word (services/generator/token_rates.py): learned from the usage the
provider reports, never from our own estimates, short replies or usage gone wrong."""

from services.common.llm import Completion
from services.generator.token_rates import TokenRates

PROSE = " ".join(["river"] * 100)


def reply(tokens: int | None, text: str = PROSE, estimated: bool = False, tokenized: bool = False) -> Completion:
    return Completion(text=text, truncated=False, finish_reason="stop", model="m", input_tokens=10,
                      output_tokens=tokens, latency_ms=1, first_token_ms=1, usage_estimated=estimated,
                      usage_tokenized=tokenized)


def test_the_configured_rate_stands_until_the_model_answers_and_each_reply_moves_it() -> None:
    rates = TokenRates()
    assert rates.per_word("m", 2.0) == 2.0
    rates.observed("m", reply(130))
    assert rates.per_word("m", 2.0) == 1.3 and rates.per_word("other", 2.0) == 2.0
    rates.observed("m", reply(230))
    assert 1.3 < rates.per_word("m", 2.0) < 2.3  # a running rate: one odd reply does not own it


def test_estimated_missing_or_absurd_usage_and_short_replies_teach_nothing() -> None:
    rates = TokenRates()
    for odd in (reply(130, estimated=True), reply(None), reply(0), reply(5), reply(5_000), reply(20, "a few words")):
        rates.observed("m", odd)
    assert rates.per_word("m", 2.0) == 2.0


def test_a_count_by_the_servers_own_tokenizer_teaches_it_as_reported_usage_would() -> None:
    """llama.cpp's server streams no usage; its tokenizer endpoint counts the reply exactly."""
    rates = TokenRates()
    rates.observed("m", reply(125, estimated=True, tokenized=True))
    assert rates.per_word("m", 2.0) == 1.25
