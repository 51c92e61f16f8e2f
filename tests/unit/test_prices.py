"""The price table (services/gateway/prices.py): a cost only when every model has a price, a bad
file refused at start-up naming its entry."""

import json

import pytest

from services.gateway.costs import job_cost
from services.gateway.prices import Price, PriceFileError, PriceTable, load_prices, parse_prices

TABLE = parse_prices({"gpt-4o-mini": {"input": 0.15, "output": 0.60, "cached_input": 0.075},
                      "claude-*": {"input": 3, "output": 15}, "claude-3-haiku": {"input": 0.25, "output": 1.25}})


def test_an_exact_name_wins_over_a_glob_and_a_glob_prices_the_rest_of_its_family():
    assert TABLE.price_of("claude-3-haiku") == Price(0.25, 1.25)
    assert TABLE.price_of("claude-sonnet-4") == Price(3.0, 15.0)
    assert TABLE.price_of("gpt-4o") is None


def test_a_cost_is_tokens_times_the_price_per_million_with_cached_input_at_its_own_price():
    tokens = {"input": 1_000_000, "output": 500_000, "cached_input": 400_000}
    assert TABLE.cost_of("gpt-4o-mini", tokens) == pytest.approx(0.6 * 0.15 + 0.4 * 0.075 + 0.5 * 0.60)
    assert TABLE.cost_of("claude-x", {"input": 2_000, "output": 1_000, "cached_input": 2_000}) == pytest.approx(0.021)


def test_a_job_of_several_models_is_priced_only_when_every_model_has_a_price():
    priced = {"gpt-4o-mini": {"input": 2_000_000, "output": 0}, "claude-3-haiku": {"input": 0, "output": 1_000_000}}
    assert TABLE.total(priced) == pytest.approx(0.30 + 1.25)
    assert TABLE.total({**priced, "llama-3": {"input": 10, "output": 10}}) is None
    assert TABLE.total({**priced, "llama-3": {"input": 0, "output": 0}}) == pytest.approx(1.55)  # spent nothing
    assert PriceTable().total(priced) is None  # no price file: unknown, never 0


def test_a_job_whose_tokens_were_not_kept_by_model_has_an_unknown_cost_not_a_partial_one():
    row = {"tokens_in": 2_500, "tokens_out": 600, "tokens_by_model": {"gpt-4o-mini": {"input": 500, "output": 100}}}
    assert job_cost(row, TABLE)["cost_usd"] is None
    whole = {**row, "tokens_in": 500, "tokens_out": 100}
    assert job_cost(whole, TABLE)["cost_usd"] == pytest.approx(0.000135)
    assert job_cost(whole, PriceTable())["cost_usd"] is None


def test_no_file_is_an_empty_table_and_yaml_and_json_files_read_alike(tmp_path):
    assert load_prices(None) == PriceTable()
    (tmp_path / "p.yaml").write_text('"claude-*": {input: 3, output: 15}\nm: {input: 1, output: 2}\n')
    (tmp_path / "p.json").write_text(json.dumps({"claude-*": {"input": 3, "output": 15}, "m": {"input": 1, "output": 2}}))
    assert load_prices(str(tmp_path / "p.yaml")) == load_prices(str(tmp_path / "p.json"))


@pytest.mark.parametrize("data, named", [
    ({"gpt-4o": {"input": 1}}, "entry 'gpt-4o': missing output"),
    ({"gpt-4o": {"input": 1, "output": -2}}, "entry 'gpt-4o': output must be a number"),
    ({"gpt-4o": {"input": "cheap", "output": 2}}, "entry 'gpt-4o': input must be a number"),
    ({"gpt-4o": {"input": True, "output": 2}}, "entry 'gpt-4o': input must be a number"),
    ({"gpt-4o": {"input": 1, "output": 2, "cache": 1}}, "entry 'gpt-4o': unknown key(s) cache"),
    ({"gpt-4o": 2.5}, "entry 'gpt-4o': expected a mapping"),
    (["gpt-4o"], "must map model names to prices"),
])
def test_a_bad_entry_is_refused_with_its_name(data, named):
    with pytest.raises(PriceFileError, match="LONGFORM_PRICES") as refused:
        parse_prices(data)
    assert named in str(refused.value)


def test_an_unreadable_or_malformed_file_is_refused_with_its_path(tmp_path):
    with pytest.raises(PriceFileError, match="cannot read"):
        load_prices(str(tmp_path / "missing.yaml"))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(PriceFileError, match="bad.json is not valid JSON"):
        load_prices(str(tmp_path / "bad.json"))


def test_a_gateway_with_a_bad_price_file_does_not_start(tmp_path):
    from services.gateway.config import GatewaySettings
    from services.gateway.main import create_app

    (tmp_path / "prices.yaml").write_text("gpt-4o: {input: 0.15}\n")
    settings = GatewaySettings(database_url="postgresql://unused/unused", prices=str(tmp_path / "prices.yaml"))
    with pytest.raises(PriceFileError, match="entry 'gpt-4o': missing output"):
        create_app(settings)
