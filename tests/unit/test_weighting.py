"""The weighting semantics, one hand-computed case per rule (arithmetic written out)."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest

from maestro.config import MaestroConfig
from maestro.methods.bounds import bounded_weights
from maestro.methods.moments import moments
from maestro.methods.returns import TradeTrack
from maestro.methods.sharpe import AgentStatistics, AgentStatus
from maestro.methods.sharpe import agent_statistics as statistics_of
from maestro.methods.softmax import softmax_shares as softmax
from maestro.precision import ENGINE_CONTEXT
from maestro.result import WeightReason
from maestro.weighting import (
    compute_weights,
    quantize_weights,
    risk_free_rate_daily_pct,
)

from .helpers import closed, with_returns

TOLERANCE = Decimal("1e-45")  # the engine computes with 50 significant digits


def agent_statistics(returns: list[Decimal], rf_daily_pct: Decimal) -> AgentStatistics:
    """The Sharpe statistics of these returns (equal weights), inside ENGINE_CONTEXT."""
    track = TradeTrack(tuple(returns))
    return statistics_of(track.returns_pct, moments(track), rf_daily_pct)


def softmax_shares(
    sharpes: dict[str, Decimal], total: Decimal, floor: Decimal
) -> tuple[dict[str, Decimal], frozenset[str]]:
    """The softmax allocator (temperature 1) with the floor rule, inside ENGINE_CONTEXT."""
    bounded = bounded_weights(softmax(sharpes, Decimal(1)), total, floor, None)
    return bounded.weights, bounded.floored


def exact_sum(values: object) -> Decimal:
    with localcontext(prec=200):
        return sum(values, Decimal(0))  # type: ignore[call-overload, no-any-return]


def d(value: str) -> list[str]:
    return [value]


# --- risk-free rate units -------------------------------------------------------------------


def test_risk_free_rate_is_converted_from_annual_fraction_to_daily_percent() -> None:
    # 0.0252 a year / 252 trading days = 0.0001 a day = 0.01 %
    with localcontext(ENGINE_CONTEXT):
        assert risk_free_rate_daily_pct(Decimal("0.0252")) == Decimal("0.01")
        # the default 0.04: 0.04 / 252 x 100 = 1/63 % = 0.015873...
        assert abs(risk_free_rate_daily_pct(Decimal("0.04")) - Decimal(1) / 63) < TOLERANCE


# --- Sharpe and status ----------------------------------------------------------------------


def test_sharpe_uses_the_sample_standard_deviation() -> None:
    # returns 1, 2, 3, 4: mean 2.5; squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5;
    # sample variance 5 / (4 - 1) = 5/3; s = sqrt(5/3) = 1.2909944...
    # rf_daily 0.01 (0.0252 a year): Sharpe = (2.5 - 0.01) / sqrt(5/3) = 2.49 x sqrt(0.6)
    # = 1.928745...
    with localcontext(ENGINE_CONTEXT):
        stats = agent_statistics([Decimal(v) for v in (1, 2, 3, 4)], Decimal("0.01"))
        expected_std = (Decimal(5) / 3).sqrt()
        expected_sharpe = Decimal("2.49") * Decimal("0.6").sqrt()
    assert stats.status is AgentStatus.OK
    assert stats.mean_return_pct == Decimal("2.5")
    assert abs(stats.std_return_pct - expected_std) < TOLERANCE
    assert abs(stats.sharpe - expected_sharpe) < TOLERANCE
    assert str(stats.sharpe)[:8] == "1.928745"


@pytest.mark.parametrize(
    ("returns", "status", "mean"),
    [
        ([], AgentStatus.NO_TRADES, Decimal(0)),
        (["7"], AgentStatus.INSUFFICIENT_DATA, Decimal(7)),
        (["2", "2", "2"], AgentStatus.ZERO_VOLATILITY, Decimal(2)),
    ],
)
def test_degenerate_agents_get_sharpe_zero(
    returns: list[str], status: AgentStatus, mean: Decimal
) -> None:
    with localcontext(ENGINE_CONTEXT):
        stats = agent_statistics([Decimal(v) for v in returns], Decimal(0))
    assert (stats.status, stats.sharpe, stats.mean_return_pct, stats.std_return_pct) == (
        status,
        0,
        mean,
        0,
    )
    assert not stats.is_performing


def test_equal_returns_that_round_are_still_zero_volatility() -> None:
    # pnl 1 on capital 3 gives 33.33...% (rounded in the 50th digit) three times; summing and
    # dividing by 3 need not give the same rounded value back, which would leave s ~ 1e-48 and a
    # Sharpe of ~1e49. The engine decides zero volatility on the data.
    entries = [closed("A", minute, "1", price="3") for minute in range(3)]
    result = compute_weights(entries, MaestroConfig(agent_ids=("A",)))
    assert result.agents["A"].status == "zero_volatility"
    assert result.agents["A"].sharpe == 0


def test_a_negative_sharpe_is_not_performing() -> None:
    with localcontext(ENGINE_CONTEXT):
        stats = agent_statistics([Decimal(-1), Decimal(-3)], Decimal(0))
    assert stats.status is AgentStatus.OK
    assert stats.sharpe < 0
    assert not stats.is_performing


# --- softmax with floors --------------------------------------------------------------------


def test_softmax_splits_in_proportion_to_exp_of_sharpe() -> None:
    # Sharpe A - Sharpe B = ln 3, so A gets 3 parts and B 1 part of 0.9: 0.675 and 0.225.
    with localcontext(ENGINE_CONTEXT):
        ln3 = Decimal(3).ln()
        shares, raised = softmax_shares({"A": 1 + ln3, "B": Decimal(1)}, Decimal("0.9"), Decimal(0))
    assert abs(shares["A"] - Decimal("0.675")) < TOLERANCE
    assert abs(shares["B"] - Decimal("0.225")) < TOLERANCE
    assert raised == frozenset()


def test_softmax_subtracts_the_max_so_huge_sharpes_do_not_overflow() -> None:
    # exp(10**6) overflows any context; exp(0) and exp(-1) do not: A = 1/(1+e^-1) = 0.7310585...
    with localcontext(ENGINE_CONTEXT):
        shares, _ = softmax_shares(
            {"A": Decimal(10**6), "B": Decimal(10**6 - 1)}, Decimal(1), Decimal(0)
        )
        expected = 1 / (1 + Decimal(-1).exp())
    assert abs(shares["A"] - expected) < TOLERANCE
    assert str(shares["A"])[:9] == "0.7310585"


def test_a_share_below_the_floor_is_raised_to_it() -> None:
    # B's softmax share is e^-4.9 / (1 + e^-4.9) = 0.0074 < 0.05, so B = 0.05 and A = 0.95.
    with localcontext(ENGINE_CONTEXT):
        shares, raised = softmax_shares(
            {"A": Decimal(5), "B": Decimal("0.1")}, Decimal(1), Decimal("0.05")
        )
    assert shares == {"A": Decimal("0.95"), "B": Decimal("0.05")}
    assert raised == {"B"}


def test_floors_are_re_applied_until_no_share_falls_below() -> None:
    # floor 0.3; exp(Sharpe - max) = 1, 1/2, 1/10 for A, B, C (sum 1.6).
    # Pass 1: 0.625, 0.3125, 0.0625 -> C below, C = 0.3, 0.7 left.
    # Pass 2: A = 0.7 x 1/1.5 = 0.4667, B = 0.7 x 0.5/1.5 = 0.2333 -> B below, B = 0.3, 0.4 left.
    # Pass 3: A alone gets 0.4. B was above the floor in pass 1 and still ends on it.
    with localcontext(ENGINE_CONTEXT):
        sharpes = {"A": Decimal(3), "B": 3 - Decimal(2).ln(), "C": 3 - Decimal(10).ln()}
        shares, raised = softmax_shares(sharpes, Decimal(1), Decimal("0.3"))
    assert shares == {"A": Decimal("0.4"), "B": Decimal("0.3"), "C": Decimal("0.3")}
    assert raised == {"B", "C"}


def test_quantized_weights_add_up_exactly_and_keep_their_order() -> None:
    # thirds: 0.333...3 (28 digits) x 3 = 0.999...9; the missing 1e-28 goes to the largest
    # remainder; all tie, so to the highest Sharpe, then (Sharpes tied) to the greatest agent id.
    with localcontext(ENGINE_CONTEXT):
        third = Decimal(1) / 3
        thirds = {"A": third, "B": third, "C": third}
        by_sharpe = quantize_weights(thirds, Decimal(1), "ABC", {"A": 2, "B": 1, "C": 0})
        by_id = quantize_weights(thirds, Decimal(1), "ABC", dict.fromkeys("ABC", Decimal(0)))
    assert by_sharpe["A"] == Decimal("0." + "3" * 27 + "4")
    assert by_sharpe["B"] == by_sharpe["C"] == Decimal("0." + "3" * 28)
    assert by_id["C"] == Decimal("0." + "3" * 27 + "4")
    assert exact_sum(by_sharpe.values()) == exact_sum(by_id.values()) == 1


# --- whole runs -----------------------------------------------------------------------------


def hand_case_entries() -> list[object]:
    return [
        *with_returns("A", ["1", "3"]),  # mean 2, s = sqrt(2): Sharpe sqrt(2) = 1.41421...
        *with_returns("B", ["2", "4"]),  # mean 3, s = sqrt(2): Sharpe 3/sqrt(2) = 2.12132...
        *with_returns("C", ["-1", "-3"]),  # Sharpe -sqrt(2): not performing
        *with_returns("D", ["5"]),  # one trade: insufficient_data
    ]


def test_floor_mode_hand_case() -> None:
    # rf 0. C and D are not performing: 0.05 each; A and B share 1 - 2 x 0.05 = 0.9.
    # Sharpe A - Sharpe B = sqrt(2) - 3/sqrt(2) = -1/sqrt(2) = -0.7071...; x = e^-0.7071 = 0.49307
    # A = 0.9 x x / (1 + x) = 0.2972146...; B = 0.9 / (1 + x) = 0.6027853...
    config = MaestroConfig(agent_ids=("A", "B", "C", "D"), risk_free_rate=Decimal(0))
    result = compute_weights(hand_case_entries(), config)  # type: ignore[arg-type]
    with localcontext(ENGINE_CONTEXT):
        x = (-(Decimal(2).sqrt()) / 2).exp()
        expected_a = Decimal("0.9") * x / (1 + x)
    assert abs(result.weights["A"] - expected_a) <= Decimal("1e-28")
    assert str(result.weights["A"])[:9] == "0.2972146"
    assert result.weights["C"] == result.weights["D"] == Decimal("0.05")
    assert exact_sum(result.weights.values()) == 1
    assert result.agents["B"].weight_reason is WeightReason.SOFTMAX
    assert result.agents["C"].weight_reason is WeightReason.NOT_PERFORMING_FLOOR
    assert result.agents["D"].status == "insufficient_data"
    assert result.agents["D"].mean_return_pct == 5
    assert result.agents["A"].sharpe == Decimal("1.414213562373095048801688724")  # 28 digits
    assert result.warnings == ()


def test_enforce_performance_gives_losers_zero_and_winners_share_one() -> None:
    # A and B share 1: A = x / (1 + x) = 0.33023..., B = 1 / (1 + x) = 0.66976...
    config = MaestroConfig(
        agent_ids=("A", "B", "C", "D"), risk_free_rate=Decimal(0), enforce_performance=True
    )
    result = compute_weights(hand_case_entries(), config)  # type: ignore[arg-type]
    with localcontext(ENGINE_CONTEXT):
        x = (-(Decimal(2).sqrt()) / 2).exp()
        expected_b = 1 / (1 + x)
    assert result.weights["C"] == result.weights["D"] == 0
    assert abs(result.weights["B"] - expected_b) <= Decimal("1e-28")
    assert exact_sum(result.weights.values()) == 1
    assert result.agents["C"].weight_reason is WeightReason.NOT_PERFORMING_ZERO


def test_no_performing_agent_splits_equally_and_sums_to_exactly_one() -> None:
    entries = [*with_returns("A", ["-1", "-2"]), *with_returns("B", ["3"])]
    result = compute_weights(entries, MaestroConfig(agent_ids=("A", "B", "C")))
    # 1/3 each, to 28 places; the one missing 1e-28 goes to the higher Sharpe (B and C have 0,
    # A is negative), then to the greater id: C. A negative Sharpe never gets the extra quantum.
    assert result.weights == {
        "A": Decimal("0." + "3" * 28),
        "B": Decimal("0." + "3" * 28),
        "C": Decimal("0." + "3" * 27 + "4"),
    }
    assert exact_sum(result.weights.values()) == 1
    assert {a.weight_reason for a in result.agents.values()} == {WeightReason.NONE_PERFORMING_EQUAL}


def test_no_performing_agent_under_enforce_is_all_zero_with_a_warning() -> None:
    entries = with_returns("A", ["-1", "-2"])
    config = MaestroConfig(agent_ids=("A", "B"), enforce_performance=True)
    result = compute_weights(entries, config)
    assert result.weights == {"A": 0, "B": 0}
    assert len(result.warnings) == 1
    assert "no agent is performing" in result.warnings[0]


def test_a_zero_floor_gives_non_performers_nothing_even_without_enforce() -> None:
    config = MaestroConfig(
        agent_ids=("A", "B", "C", "D"), risk_free_rate=Decimal(0), min_floor_weight=Decimal(0)
    )
    result = compute_weights(hand_case_entries(), config)  # type: ignore[arg-type]
    assert result.weights["C"] == result.weights["D"] == 0
    assert exact_sum(result.weights.values()) == 1


def test_the_risk_free_rate_can_turn_a_winner_into_a_loser() -> None:
    # returns 0.01 and 0.03: mean 0.02 % a trade. rf 0.0756 a year = 0.03 % a day > mean.
    entries = [*with_returns("A", ["0.01", "0.03"]), *with_returns("B", ["1", "3"])]
    at_zero = compute_weights(
        entries, MaestroConfig(agent_ids=("A", "B"), risk_free_rate=Decimal(0))
    )
    at_rate = compute_weights(
        entries, MaestroConfig(agent_ids=("A", "B"), risk_free_rate=Decimal("0.0756"))
    )
    assert at_zero.agents["A"].sharpe > 0
    assert at_rate.agents["A"].sharpe < 0
    assert at_rate.weights["A"] == Decimal("0.05")


def test_lookback_limits_the_trades_used() -> None:
    entries = with_returns("A", ["10", "-50", "1", "2", "3"])  # minutes 0..4; newest 3, 2, 1
    result = compute_weights(entries, MaestroConfig(agent_ids=("A",), lookback_trades=3))
    assert result.agents["A"].trades_used == 3
    assert result.agents["A"].mean_return_pct == 2


def test_rejections_are_reported_per_agent() -> None:
    entries = [
        *with_returns("A", ["1", "2"]),
        closed("A", 9, "NaN"),
        closed("A", 10, "1", price="0"),
    ]
    result = compute_weights(entries, MaestroConfig(agent_ids=("A",)))
    assert result.agents["A"].trades_rejected == 2
    assert result.agents["A"].rejection_reasons == {
        "non_positive_capital": 1,
        "realized_pnl_invalid": 1,
    }


def test_json_form_is_lossless_and_has_the_documented_shape() -> None:
    config = MaestroConfig(agent_ids=("A", "B", "C", "D"), risk_free_rate=Decimal(0))
    result = compute_weights(hand_case_entries(), config)  # type: ignore[arg-type]
    payload = result.to_json_dict()
    assert set(payload) == {"weights", "agents", "config", "warnings"}
    assert {agent: Decimal(text) for agent, text in payload["weights"].items()} == result.weights
    assert set(payload["agents"]["A"]) >= {
        "sharpe",
        "mean_return",
        "std_return",
        "trades_used",
        "trades_rejected",
        "status",
    }
    assert Decimal(payload["agents"]["A"]["sharpe"]) == result.agents["A"].sharpe
    assert payload["config"] == config.to_json_dict()


def test_table_lists_agents_by_weight_with_percent_and_sharpe() -> None:
    config = MaestroConfig(agent_ids=("A", "B", "C", "D"), risk_free_rate=Decimal(0))
    table = compute_weights(hand_case_entries(), config).render_table()  # type: ignore[arg-type]
    lines = table.splitlines()
    assert lines[0] == "MAESTRO AGENT WEIGHTS"
    assert [line.split()[0] for line in lines[3:7]] == ["B", "A", "C", "D"]
    assert "60.28%" in lines[3] and "2.1213" in lines[3]
    assert lines[-2].split() == ["Total", "100.00%"]
    assert lines[-1] == "* thin evidence: fewer than 10 valid trades"  # the hand case is small
