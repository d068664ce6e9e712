"""MaestroConfig: the seed's defaults and one test per validation rule."""

from __future__ import annotations

from decimal import Decimal

import pytest

from maestro.config import (
    MAX_RUN_AGENTS,
    MAX_RUN_TRADES,
    ConfigError,
    MaestroConfig,
    check_run_size,
)


def test_defaults_are_the_seeds() -> None:
    config = MaestroConfig()
    assert config.agent_ids == (
        "WhaleFlowAgent",
        "SentimentAgent",
        "GammaScalper",
        "SectorRotation",
    )
    assert config.lookback_trades == 100
    assert config.risk_free_rate == Decimal("0.04")
    assert config.min_floor_weight == Decimal("0.05")
    assert config.enforce_performance is False


def test_missing_keys_take_defaults() -> None:
    assert MaestroConfig.from_mapping({}) == MaestroConfig()
    assert MaestroConfig.from_mapping({"lookback_trades": 20}).lookback_trades == 20


def test_float_goes_through_shortest_repr_not_binary_expansion() -> None:
    config = MaestroConfig.from_mapping({"risk_free_rate": 0.1, "min_floor_weight": 0.05})
    assert config.risk_free_rate == Decimal("0.1")  # not 0.1000000000000000055511151231257827
    assert config.min_floor_weight == Decimal("0.05")


def test_decimal_options_accept_strings_and_integers() -> None:
    config = MaestroConfig.from_mapping({"risk_free_rate": "0.035", "min_floor_weight": 0})
    assert config.risk_free_rate == Decimal("0.035")
    assert config.min_floor_weight == Decimal(0)


def test_integral_float_lookback_is_accepted() -> None:
    # JSON has one number type: a JavaScript client may send 50.0.
    assert MaestroConfig.from_mapping({"lookback_trades": 50.0}).lookback_trades == 50


@pytest.mark.parametrize(
    ("raw", "field", "fragment"),
    [
        ({"agent_ids": []}, "agent_ids", "non-empty"),
        ({"agent_ids": "WhaleFlowAgent"}, "agent_ids", "list"),
        ({"agent_ids": ["A", "A"]}, "agent_ids", "duplicate"),
        ({"agent_ids": ["A", ""]}, "agent_ids", "entry 1"),
        ({"agent_ids": ["A", "  "]}, "agent_ids", "entry 1"),
        ({"agent_ids": ["A", 7]}, "agent_ids", "entry 1"),
        ({"agent_ids": ["__name__"]}, "agent_ids", "reserved"),
        ({"agent_ids": ["x" * 129]}, "agent_ids", "longer than 128"),
        ({"agent_ids": [f"a{i}" for i in range(257)], "min_floor_weight": 0}, "agent_ids", "256"),
        ({"lookback_trades": 1}, "lookback_trades", "from 2 to 1000"),
        ({"lookback_trades": 1001}, "lookback_trades", "from 2 to 1000"),
        ({"lookback_trades": 10.5}, "lookback_trades", "integer"),
        ({"lookback_trades": "100"}, "lookback_trades", "integer"),
        ({"lookback_trades": True}, "lookback_trades", "integer"),
        ({"risk_free_rate": "1"}, "risk_free_rate", "between -1 and 1"),
        ({"risk_free_rate": -1}, "risk_free_rate", "between -1 and 1"),
        ({"risk_free_rate": "NaN"}, "risk_free_rate", "finite"),
        ({"risk_free_rate": float("inf")}, "risk_free_rate", "finite"),
        ({"risk_free_rate": "four percent"}, "risk_free_rate", "decimal number"),
        ({"risk_free_rate": True}, "risk_free_rate", "boolean"),
        ({"risk_free_rate": None}, "risk_free_rate", "decimal number"),
        ({"min_floor_weight": "-0.01"}, "min_floor_weight", ">= 0"),
        ({"min_floor_weight": "0.26"}, "min_floor_weight", "exceeds 1"),
        # Exactly 1 is allowed; one unit in the 29th place beyond it is not.
        ({"min_floor_weight": "0.2500000000000000000000000001"}, "min_floor_weight", "exceeds 1"),
        ({"min_floor_weight": "0.05" + "0" * 30 + "1"}, "min_floor_weight", "decimal places"),
        ({"enforce_performance": "yes"}, "enforce_performance", "true or false"),
        # A short text with a huge exponent (printed in plain digits: a gigabyte; a floor's
        # product with the agent count overflowed), or a tiny one.
        ({"max_weight": "1e999999999"}, "max_weight", "between 1e-28 and 1e9 in magnitude"),
        ({"min_floor_weight": "1e999999999"}, "min_floor_weight", "in magnitude"),
        ({"temperature": "1e9"}, "temperature", "in magnitude"),
        ({"risk_free_rate": "1e-29"}, "risk_free_rate", "in magnitude"),
        ({"drawdown_penalty": 1e308}, "drawdown_penalty", "in magnitude"),
        ({"enforce_performance": 1}, "enforce_performance", "true or false"),
        ({"lookbak_trades": 10}, "lookbak_trades", "unknown option"),
    ],
)
def test_invalid_values_name_the_field(raw: dict[str, object], field: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        MaestroConfig.from_mapping(raw)
    assert caught.value.field == field
    assert fragment in str(caught.value)
    assert str(caught.value).startswith(f"{field}: ")


def test_the_functions_refuse_runs_they_cannot_afford() -> None:
    def config(agents: int, lookback: int) -> MaestroConfig:
        ids = tuple(f"a{i}" for i in range(agents))
        return MaestroConfig(agent_ids=ids, lookback_trades=lookback, min_floor_weight=Decimal(0))

    assert check_run_size(config(32, 1000)) == config(32, 1000)
    assert check_run_size(config(64, 500)) == config(64, 500)  # both limits, exactly
    with pytest.raises(ConfigError, match=r"^lookback_trades: 33 agents \(agent_ids\) x 1000 "):
        check_run_size(config(33, 1000))
    with pytest.raises(ConfigError, match=r"^agent_ids: at most 64 agents in the functions"):
        check_run_size(config(65, 10))
    assert MAX_RUN_TRADES == 32_000 and MAX_RUN_AGENTS == 64
    # MAESTRO_MAX_RUN_TRADES lowers (or raises) the read bound; the message names both fields
    assert check_run_size(config(4, 25), max_run_trades=100) == config(4, 25)
    with pytest.raises(ConfigError, match=r"more than the 100 a run may read") as refused:
        check_run_size(config(4, 26), max_run_trades=100)
    assert "agent_ids" in str(refused.value) and str(refused.value).startswith("lookback_trades")
    assert config(200, 1000).lookback_trades == 1000  # the offline engine takes it


def test_floor_times_agents_equal_to_one_is_allowed() -> None:
    config = MaestroConfig.from_mapping({"min_floor_weight": "0.25"})
    assert config.min_floor_weight * len(config.agent_ids) == 1


def test_config_must_be_an_object() -> None:
    with pytest.raises(ConfigError, match=r"^config: "):
        MaestroConfig.from_mapping(["agent_ids"])


def test_json_round_trip_is_lossless() -> None:
    config = MaestroConfig.from_mapping(
        {"agent_ids": ["B", "A"], "risk_free_rate": "0.0375", "min_floor_weight": "0.1"}
    )
    as_json = config.to_json_dict()
    assert as_json == {
        "agent_ids": ["B", "A"],
        "lookback_trades": 100,
        "risk_free_rate": "0.0375",
        "min_floor_weight": "0.1",
        "enforce_performance": False,
    }
    assert MaestroConfig.from_mapping(as_json) == config


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_weight", "1e999999999"), ("temperature", "1e99999"), ("risk_free_rate", "1e-40")],
)
def test_a_config_built_directly_is_held_to_the_same_magnitudes(field: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        MaestroConfig(**{field: Decimal(value)})
    assert caught.value.field == field and "in magnitude" in str(caught.value)
