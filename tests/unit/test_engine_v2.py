"""Engine v2's options through the whole engine: one hand-computed case per rule (the arithmetic
written out), the config's validation naming each field, and properties over generated
journals with every option (sums, floor and cap, order, permutation)."""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from maestro.config import ConfigError, MaestroConfig
from maestro.journal import JournalEntry
from maestro.methods import ReturnBasis, ReturnTransform, ScoreMethod
from maestro.precision import ENGINE_CONTEXT
from maestro.result import WeightReason
from maestro.weighting import compute_weights

from .helpers import closed, with_returns
from .methods.helpers import A_FRACTIONS

D = Decimal
A_RETURNS = [str(D(str(r)) * 100) for r in A_FRACTIONS]  # oldest first, percent


def config(**options: Any) -> MaestroConfig:
    base: dict[str, Any] = {"agent_ids": ["A", "B"], "risk_free_rate": "0", "min_floor_weight": "0"}
    return MaestroConfig.from_mapping(base | options)


def near(value: Decimal | str | None, expected: float, digits: int = 6) -> bool:
    return value is not None and abs(float(value) - expected) < 0.5 * 10**-digits


def test_sortino_scores_and_shares() -> None:
    # A: input A (Sharpe 0.453506, Sortino 1.002972); B: 1, 2, 3 (no loss: Sortino falls back to
    # its Sharpe, 2 / 1 = 2). Softmax on the scores: A's share 1 / (1 + e^(2 - 1.002972)).
    entries = with_returns("A", A_RETURNS) + with_returns("B", ["1", "2", "3"], 100)
    result = compute_weights(entries, config(score="sortino"))
    a, b = result.agents["A"], result.agents["B"]
    assert near(a.score, 1.002972) and b.score == 2
    assert near(a.sharpe, 0.453506)  # the Sharpe is still reported
    assert [f.value for f in b.fallbacks] == [
        "sortino: no return below rf_daily, so the Sharpe of the same returns"
    ]
    assert near(result.weights["A"], 1 / (1 + math.exp(2 - float(a.score))), 12)
    assert a.score_method is ScoreMethod.SORTINO


def test_psr_as_the_score_and_its_undefined_status() -> None:
    entries = with_returns("A", A_RETURNS) + with_returns("B", ["1", "3"], 100)
    result = compute_weights(entries, config(score="psr"))
    a, b = result.agents["A"], result.agents["B"]
    assert near(a.score, 0.863650)  # population moments
    assert a.diagnostics.psr == round(a.score, 12)  # diagnostics keep 12 digits
    # B: two trades, Sharpe 2 / sqrt(2) > 0, but no PSR: not performing, score 0
    assert (b.status, b.score, b.weight) == ("psr_undefined", 0, 0)
    assert result.weights["A"] == 1


def test_min_confidence_gates_performers_and_reports_mintrl() -> None:
    # A: Sharpe 0.4535 > 0 but PSR 0.8637 < 0.9: not performing; B performs alone.
    entries = with_returns("A", A_RETURNS) + with_returns("B", ["1", "2", "4", "3"], 100)
    result = compute_weights(entries, config(min_confidence="0.9", min_floor_weight="0.1"))
    a, b = result.agents["A"], result.agents["B"]
    assert a.weight == D("0.1") and a.weight_reason is WeightReason.NOT_CONFIDENT_FLOOR
    assert b.weight == D("0.9")
    # MinTRL for 90 %: 1 + term x (z / SR)^2, z = Phi^-1(0.9) = 1.281552, term = 1 - g3 SR +
    # (g4 - 1) / 4 SR^2 = 1 + 0.350115 x 0.453506 + 0.735986 / 4 x 0.205668 = 1.196621
    sr, g3, g4 = 0.4535058917813410, -0.3501147739388291, 1.7359858867496774
    term = 1 - g3 * sr + (g4 - 1) / 4 * sr**2
    assert near(a.diagnostics.min_trl, 1 + term * (1.2815515655446004 / sr) ** 2, 10)
    without = compute_weights(entries, config(min_floor_weight="0.1"))
    assert without.agents["A"].diagnostics.min_trl is None  # reported only with the option


def test_half_life_gives_the_weighted_sharpe() -> None:
    # skfolio's EWMu(half_life=4) on input A: SR 0.542173 (mean 0.92951 %, unbiased variance)
    entries = with_returns("A", A_RETURNS) + with_returns("B", ["1", "2", "3"], 100)
    result = compute_weights(entries, config(half_life_trades=4))
    a = result.agents["A"]
    assert near(a.sharpe, 0.542173) and near(a.mean_return_pct, 0.929510, 5)
    assert near(a.diagnostics.n_eff, 6.942256) and a.diagnostics.n == 8


def test_the_drawdown_penalty() -> None:
    # B's curve: 10, -5, -8, 12, -3, -6, 20 -> MDD 13 points; s the sample sd of the returns.
    returns = ["10", "-5", "-8", "12", "-3", "-6", "20"]
    entries = with_returns("A", ["1", "2", "3"]) + with_returns("B", returns, 100)
    plain = compute_weights(entries, config()).agents["B"]
    penalised = compute_weights(entries, config(drawdown_penalty="0.5")).agents["B"]
    sd = float(np.std([float(r) for r in returns], ddof=1))
    assert near(penalised.score, float(plain.score) - 0.5 * 13 / sd, 12)
    assert penalised.diagnostics.max_drawdown == 13 and penalised.diagnostics.current_drawdown == 0
    assert penalised.sharpe == plain.sharpe  # the Sharpe itself is not penalised


def test_temperature_divides_the_scores() -> None:
    # Sharpes 2 (A: 1, 2, 3) and 1 (B: 0, 1, 2, ... -> mean 1, sd 1): weights ∝ e^(s / T).
    entries = with_returns("A", ["1", "2", "3"]) + with_returns("B", ["0", "1", "2"], 100)
    for temperature in ("1", "0.5", "4"):
        result = compute_weights(entries, config(temperature=temperature))
        t = float(temperature)
        assert near(result.weights["A"], 1 / (1 + math.exp((1 - 2) / t)), 12)


def test_max_weight_caps_and_the_left_over_goes_to_non_performers() -> None:
    entries = with_returns("A", ["1", "2", "3"]) + with_returns("B", ["0", "1", "2"], 100)
    three = {"agent_ids": ["A", "B", "C"], "min_floor_weight": "0.1"}
    result = compute_weights(entries, config(**three, max_weight="0.5"))
    # C is not performing (no trades): 0.1. A and B share 0.9 by softmax on Sharpes 2 and 1:
    # A's share 0.9 / (1 + e^-1) = 0.658 > 0.5, capped; B gets the rest, 0.4.
    assert result.weights == {"A": D("0.5"), "B": D("0.4"), "C": D("0.1")}
    assert result.agents["A"].weight_reason is WeightReason.CAPPED
    assert result.agents["B"].weight_reason is WeightReason.SOFTMAX
    # At max_weight 0.4 both performers are capped (0.8 < 0.9): C gets 0.1 + 0.1.
    capped = compute_weights(entries, config(**three, max_weight="0.4"))
    assert capped.weights == {"A": D("0.4"), "B": D("0.4"), "C": D("0.2")}
    assert capped.agents["C"].weight_reason is WeightReason.NOT_PERFORMING_LEFT_OVER
    # Under enforce_performance the rest stays unallocated, and says so.
    enforced = compute_weights(entries, config(**three, max_weight="0.4", enforce_performance=True))
    assert enforced.weights == {"A": D("0.4"), "B": D("0.4"), "C": D(0)}
    assert "the rest, 0.2, is not allocated" in enforced.warnings[0]


def test_a_capped_performer_far_ahead_leaves_the_rest_their_softmax_proportions() -> None:
    # A's two returns differ by 1e-12: Sharpe ~1.414e12, so the softmax shares of B (Sharpe 2)
    # and C (1, 3: Sharpe sqrt 2) are e^(-1.4e12) and less, 0 in any Decimal context. A is
    # capped at 0.5; B and C share the other 0.5 as e^2 : e^sqrt(2), which does not underflow.
    entries = (
        with_returns("A", ["1", "1.000000000001"])
        + with_returns("B", ["1", "2", "3"], 100)
        + with_returns("C", ["1", "3"], 200)
    )
    options = {"agent_ids": ["A", "B", "C"], "min_floor_weight": "0.05", "max_weight": "0.5"}
    result = compute_weights(entries, config(**options))
    assert result.weights["A"] == D("0.5")
    assert result.agents["A"].weight_reason is WeightReason.CAPPED
    b_share = 1 / (1 + math.exp(math.sqrt(2) - 2))
    assert near(result.weights["B"], 0.5 * b_share, 12)
    assert near(result.weights["C"], 0.5 * (1 - b_share), 12)
    assert sum(result.weights.values()) == 1


def test_hrp_shares_that_round_to_0_keep_their_ratio_under_a_cap() -> None:
    # A's daily returns are ~1e-27 % (pnl 1e-15 .. 9e-15 on 1e14), B's and C's ~1 %: every
    # cluster holding A has a variance ~1e-54 of one without it, so HRP's 1 - V0 / (V0 + V1)
    # is 0 for B's and C's sides, and A's share 1. Capped at .5, A leaves B and C .5 to share;
    # their true HRP ratio is inverse variance, B : C = var C : var B (A's variance is too
    # small to move it in the first 50 digits, whichever side of the tree A is on).
    days = range(30)
    a_pnl = [f"{[3, 1, 4, 1, 5, 9, 2, 6][d % 8]}e-15" for d in days]
    b_pnl = [["1.5", "-0.5", "2", "0.25", "1"][d % 5] for d in days]
    c_pnl = [["3", "-1", "0.5", "2.5", "-0.75", "1.2"][d % 6] for d in days]
    entries = [closed("A", d * 24 * 60, a_pnl[d], price="100000000000000") for d in days]
    entries += [closed("B", d * 24 * 60 + 1, b_pnl[d]) for d in days]
    entries += [closed("C", d * 24 * 60 + 2, c_pnl[d]) for d in days]
    options = {"agent_ids": ["A", "B", "C"], "allocator": "hrp", "lookback_trades": 50}
    result = compute_weights(entries, config(**options, max_weight="0.5"))
    assert [agent.allocator.value for agent in result.agents.values()] == ["hrp"] * 3
    assert result.weights["A"] == D("0.5")
    var_b, var_c = (np.var([float(p) for p in pnl], ddof=1) for pnl in (b_pnl, c_pnl))
    assert near(result.weights["B"], 0.5 * var_c / (var_b + var_c), 12)
    assert sum(result.weights.values()) == 1


def test_log_returns_and_the_allocated_basis() -> None:
    # On 200 of allocated capital, 20 of P&L is 10 %; log: 100 ln(1.1) = 9.5310...
    entries = [
        closed("A", i, pnl, allocated_capital="200") for i, pnl in enumerate(["20", "-10", "30"])
    ] + with_returns("B", ["1", "2", "3"], 100)
    allocated = compute_weights(entries, config(return_basis="allocated"))
    assert near(allocated.agents["A"].mean_return_pct, (10 - 5 + 15) / 3, 12)
    logged = compute_weights(entries, config(return_basis="allocated", return_transform="log"))
    expected = 100 * (math.log(1.1) + math.log(0.95) + math.log(1.15)) / 3
    assert near(logged.agents["A"].mean_return_pct, expected, 12)
    # B has no allocated_capital: on that basis every trade of B is rejected.
    assert allocated.agents["B"].rejection_reasons == {"allocated_capital_missing": 3}


def test_kelly_and_analysis_lookbacks_are_reported() -> None:
    entries = with_returns("A", A_RETURNS) + with_returns("B", ["1", "2", "3"], 100)
    result = compute_weights(entries, config(kelly_scale="1", analysis_lookbacks=[3, 5]))
    a = result.agents["A"]
    assert near(a.diagnostics.kelly_fraction, 25.3129, 4)  # mu / sigma^2 on fractions
    # the Sharpe of A's newest 3 and 5 trades (0.025, 0.01, -0.005 ...):
    newest = np.array(A_FRACTIONS[::-1])
    for lookback in (3, 5):
        sample = newest[:lookback]
        assert near(a.diagnostics.analysis[lookback], sample.mean() / sample.std(ddof=1), 12)
    default = compute_weights(entries, config()).agents["A"].diagnostics.kelly_fraction
    assert near(default, 25.3129 / 2, 4)  # kelly_scale 0.5 by default


def test_a_config_shows_only_the_options_it_sets() -> None:
    set_some = MaestroConfig.from_mapping({"score": "psr", "max_weight": 0.5})
    assert set_some.to_json_dict() == {
        **MaestroConfig().to_json_dict(),
        "score": "psr",
        "max_weight": "0.5",
    }
    assert MaestroConfig.from_mapping(set_some.to_json_dict()) == set_some


@pytest.mark.parametrize(
    ("options", "field", "fragment"),
    [
        ({"score": "calmar"}, "score", "one of sharpe, sortino, psr"),
        ({"return_transform": "sqrt"}, "return_transform", "one of simple, log"),
        ({"return_basis": 3}, "return_basis", "one of notional, allocated"),
        ({"half_life_trades": 0}, "half_life_trades", "at least 1"),
        ({"half_life_trades": 2.5}, "half_life_trades", "integer"),
        ({"min_confidence": "1"}, "min_confidence", "(0, 1)"),
        ({"min_confidence": 0}, "min_confidence", "(0, 1)"),
        ({"drawdown_penalty": "-1"}, "drawdown_penalty", ">= 0"),
        ({"temperature": 0}, "temperature", "> 0"),
        ({"kelly_scale": "1.5"}, "kelly_scale", "(0, 1]"),
        ({"max_weight": "0.2"}, "max_weight", "0.2 x 4 agents is less than 1"),
        ({"max_weight": "0.1", "min_floor_weight": "0.2"}, "max_weight", "below min_floor"),
        ({"analysis_lookbacks": [1]}, "analysis_lookbacks", "from 2 to lookback_trades - 1"),
        ({"analysis_lookbacks": [100]}, "analysis_lookbacks", "(99), got 100"),
        ({"analysis_lookbacks": [5, 5]}, "analysis_lookbacks", "repeat"),
        ({"analysis_lookbacks": [2, 3, 4, 5, 6]}, "analysis_lookbacks", "at most 4"),
        ({"analysis_lookbacks": "5"}, "analysis_lookbacks", "list of integers"),
    ],
)
def test_each_option_is_validated_naming_its_field(
    options: dict[str, Any], field: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        MaestroConfig.from_mapping(options)
    assert caught.value.field == field and fragment in str(caught.value)


OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "score": st.sampled_from(["sharpe", "sortino", "psr"]),
        "return_transform": st.sampled_from(["simple", "log"]),
        "half_life_trades": st.integers(1, 12),
        "min_confidence": st.sampled_from(["0.5", "0.8", "0.95"]),
        "drawdown_penalty": st.sampled_from(["0", "0.1", "1"]),
        "temperature": st.sampled_from(["0.25", "1", "3"]),
        "max_weight": st.sampled_from(["0.3", "0.5", "1"]),
        "analysis_lookbacks": st.sampled_from([[], [2], [3, 5]]),
        "allocator": st.sampled_from(["softmax", "inverse_volatility", "hrp"]),
        "target_volatility": st.sampled_from(["0.1", "2"]),
    },
)


@st.composite
def journals(draw: st.DrawFn) -> tuple[list[JournalEntry], MaestroConfig]:
    agents = ["A", "B", "C", "D"][: draw(st.integers(1, 4))]
    entries = [
        closed(agent, minute * 600, str(draw(st.integers(-400, 600)) / 100))
        for minute in range(draw(st.integers(0, 40)))
        for agent in [draw(st.sampled_from(agents))]
    ]
    options = draw(OPTIONS)
    floor = draw(st.sampled_from(["0", "0.05", "0.1"]))
    raw = {"agent_ids": agents, "min_floor_weight": floor, "lookback_trades": 10, **options}
    raw["enforce_performance"] = draw(st.booleans())
    try:
        return entries, MaestroConfig.from_mapping(raw)
    except ConfigError:
        assume(False)
        raise


@settings(max_examples=250, deadline=None)
@given(journals())
def test_properties_with_every_option(case: tuple[list[JournalEntry], MaestroConfig]) -> None:
    entries, config_ = case
    result = compute_weights(entries, config_)
    total = sum(result.weights.values(), D(0))
    assert total == 1 or result.warnings  # unallocated only with a warning
    cap, floor = config_.max_weight, config_.min_floor_weight
    performers = [a for a in result.agents.values() if a.weight_reason.startswith("performing")]
    for agent in performers:
        assert cap is None or agent.weight <= cap
        assert config_.enforce_performance or agent.weight >= floor
    if config_.allocator.value == "softmax":
        for first in performers:  # a higher score never gets a lower weight
            for second in performers:
                if first.score > second.score:
                    assert first.weight >= second.weight
    assert (result.exposure is not None) == (config_.target_volatility is not None)
    reordered = MaestroConfig.from_mapping(
        {**config_.to_json_dict(), "agent_ids": list(reversed(config_.agent_ids))}
    )
    assert compute_weights(entries, reordered).weights == result.weights  # permutation


def test_defaults_compute_in_the_engines_context_only() -> None:
    # Nothing depends on the caller's Decimal context.
    entries = with_returns("A", A_RETURNS) + with_returns("B", ["1", "2", "3"], 100)
    with localcontext(prec=5):
        low = compute_weights(entries, config(score="psr", half_life_trades=3))
    with localcontext(ENGINE_CONTEXT):
        high = compute_weights(entries, config(score="psr", half_life_trades=3))
    assert low == high
    assert compute_weights(entries, config(return_basis="notional")).agents["A"].score == (
        compute_weights(entries, config()).agents["A"].score
    )
    assert ReturnBasis.NOTIONAL and ReturnTransform.SIMPLE  # the defaults' names


def daily_journal(days: int, agents: str = "ABC", seed: int = 3) -> list[JournalEntry]:
    """One trade a day per agent (capital 100, so the pnl is the return), `days` days."""
    rng = np.random.default_rng(seed)
    entries = []
    for a, agent in enumerate(agents):
        start = a * 2  # agents start on different days: pairs overlap differently
        for day in range(start, days):
            pnl = str(round(float(rng.normal(0.3 * (a + 1), 1 + a)), 2))
            entries.append(closed(agent, day * 24 * 60, pnl))
    return entries


def daily_series(entries: list[JournalEntry], agent: str) -> np.ndarray:
    return np.array([float(e.data["realized_pnl"]) for e in entries if e.data["agent_id"] == agent])


def test_inverse_volatility_shares_by_daily_volatility() -> None:
    entries = daily_journal(12)
    result = compute_weights(
        entries, config(agent_ids=list("ABC"), allocator="inverse_volatility", lookback_trades=50)
    )
    inverse = {a: 1 / np.std(daily_series(entries, a), ddof=1) for a in "ABC"}
    for agent in "ABC":
        assert near(result.weights[agent], inverse[agent] / sum(inverse.values()), 12)
        assert result.agents[agent].allocator.value == "inverse_volatility"
        assert near(result.agents[agent].diagnostics.daily_volatility, 1 / inverse[agent], 9)


# LdP hands scipy the square matrix on purpose (its rows become d~): scipy warns about it.
@pytest.mark.filterwarnings("ignore::scipy.cluster.hierarchy.ClusterWarning")
def test_hrp_through_the_engine_is_lopez_de_prados() -> None:
    import scipy.cluster.hierarchy as sch

    entries = daily_journal(40, "ABCD", seed=8)
    result = compute_weights(
        entries, config(agent_ids=list("ABCD"), allocator="hrp", lookback_trades=60)
    )
    series = [daily_series(entries, a) for a in "ABCD"]
    n = len(series)
    cov, corr = np.zeros((n, n)), np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            common = min(len(series[i]), len(series[j]))  # records end on the same day
            x, y = series[i][-common:], series[j][-common:]
            cov[i, j], corr[i, j] = np.cov(x, y)[0, 1], np.corrcoef(x, y)[0, 1]
    distances = np.sqrt(0.5 * (1 - corr))
    order = sch.to_tree(sch.linkage(distances, "single")).pre_order()
    weights = np.ones(n)
    items = [order]
    while items:
        items = [
            i[j:k]
            for i in items
            for j, k in ((0, len(i) // 2), (len(i) // 2, len(i)))
            if len(i) > 1
        ]
        for left, right in zip(items[::2], items[1::2], strict=True):

            def variance(ix: list[int]) -> float:
                sub = cov[np.ix_(ix, ix)]
                ivp = 1 / np.diag(sub)
                ivp /= ivp.sum()
                return float(ivp @ sub @ ivp)

            alpha = 1 - variance(left) / (variance(left) + variance(right))
            weights[left] *= alpha
            weights[right] *= 1 - alpha
    assert {a.allocator.value for a in result.agents.values()} == {"hrp"}
    for agent, expected in zip("ABCD", weights, strict=True):
        assert near(result.weights[agent], expected, 10)


def test_hrp_falls_back_with_too_few_common_days() -> None:
    entries = daily_journal(12)  # C starts on day 4: 8 common days
    result = compute_weights(
        entries, config(agent_ids=list("ABC"), allocator="hrp", lookback_trades=50)
    )
    agent = result.agents["A"]
    assert agent.allocator.value == "inverse_volatility"
    assert [f.name for f in agent.fallbacks] == ["HRP_TOO_FEW_COMMON_DAYS"]


def test_target_volatility_sets_the_exposure() -> None:
    entries = daily_journal(12)
    plain = compute_weights(entries, config(agent_ids=list("ABC"), lookback_trades=50))
    assert plain.exposure is None and "exposure" not in plain.to_json_dict()
    targeted = compute_weights(
        entries,
        config(
            agent_ids=list("ABC"), lookback_trades=50, target_volatility="0.5", max_exposure="3"
        ),
    )
    assert targeted.weights == plain.weights  # the weights still add up to 1, unchanged
    series = [daily_series(entries, a) for a in "ABC"]
    w = np.array([float(targeted.weights[a]) for a in "ABC"])
    cov = np.array(
        [
            [np.cov(x[-min(len(x), len(y)) :], y[-min(len(x), len(y)) :])[0, 1] for y in series]
            for x in series
        ]
    )
    sigma = math.sqrt(w @ cov @ w) * math.sqrt(365) / 100
    assert near(targeted.exposure, min(3, 0.5 / sigma), 12)
    assert targeted.to_json_dict()["exposure"] == str(targeted.exposure)


@pytest.mark.parametrize(
    ("options", "field", "fragment"),
    [
        ({"allocator": "erc"}, "allocator", "one of softmax, inverse_volatility, hrp"),
        ({"target_volatility": "0"}, "target_volatility", "> 0"),
        ({"max_exposure": "2"}, "max_exposure", "needs a target_volatility"),
        ({"target_volatility": "0.1", "max_exposure": "-1"}, "max_exposure", "> 0"),
    ],
)
def test_allocator_and_exposure_options_are_validated(
    options: dict[str, Any], field: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        MaestroConfig.from_mapping(options)
    assert caught.value.field == field and fragment in str(caught.value)


@settings(max_examples=150, deadline=None)
@given(journals())
def test_work_kept_from_an_earlier_run_changes_nothing(
    case: tuple[list[JournalEntry], MaestroConfig],
) -> None:
    """A warm instance hands the engine its last run's work: agents whose trades are the very
    same tuple reuse theirs. The result is the fresh run's, whatever changed."""
    from maestro.journal import select_agent_trades
    from maestro.weighting import run_engine

    entries, config_ = case
    selected = select_agent_trades(entries, config_.agent_ids, config_.lookback_trades)
    _, work = run_engine(selected, config_)
    changed = dict(selected)
    first = config_.agent_ids[0]
    changed[first] = selected[first][1:]  # the first agent's newest trade gone (as-of may move)
    reused, _ = run_engine(changed, config_, work)
    assert reused.to_json_dict() == run_engine(changed, config_)[0].to_json_dict()
    again = run_engine(selected, config_, work)[0]
    assert again.to_json_dict() == run_engine(selected, config_)[0].to_json_dict()


def test_diagnostics_are_worked_out_only_when_read() -> None:
    """The table (the CLI's default) never reads them; the JSON form (a weights document) does,
    and gets the same as a result whose diagnostics were read first."""
    import dataclasses

    entries = with_returns("A", A_RETURNS) + with_returns("B", ["1", "2", "3"], 100)
    result = compute_weights(entries, config())

    def unread() -> Any:
        raise AssertionError("diagnostics worked out")

    agents = {a: dataclasses.replace(r, diagnosis=unread) for a, r in result.agents.items()}
    untouched = dataclasses.replace(result, agents=agents)
    assert untouched.render_table() == result.render_table()
    with pytest.raises(AssertionError, match="diagnostics worked out"):
        untouched.to_json_dict()
    read_first = compute_weights(entries, config())
    assert read_first.agents["A"].diagnostics.n == len(A_RETURNS) == 8
    assert read_first.to_json_dict() == result.to_json_dict()
