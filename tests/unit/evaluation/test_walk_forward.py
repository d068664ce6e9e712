"""Walk-forward evaluation: hand-computed replays (3 dates, 2 agents) with the arithmetic
written out, the execution rules, the scoring period, no look-ahead, the baselines, and the
incremental replay against recomputing the engine from the journal at every rebalance."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, localcontext
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maestro.config import MaestroConfig
from maestro.evaluation.calendar import Calendar
from maestro.evaluation.execution import held_weights, one_way_turnover
from maestro.evaluation.metrics import expected_max_sharpe
from maestro.evaluation.policies import Policy, PolicyError, parse_policies
from maestro.evaluation.walk_forward import EvaluationError, evaluate
from maestro.journal import JournalEntry
from maestro.methods import ReturnBasis
from maestro.methods.moments import moments
from maestro.methods.psr import probabilistic_sharpe
from maestro.methods.returns import TradeTrack
from maestro.precision import ENGINE_CONTEXT
from maestro.weighting import compute_weights

from ..methods.helpers import A_PCT_NEWEST_FIRST, A, close

D = Decimal
DAY0 = dt.datetime(2026, 1, 1, 15, 0, tzinfo=dt.UTC)


def trade(agent: str, day: int, pnl: str, minute: int = 0) -> JournalEntry:
    """Capital 100: the return in percent is the pnl."""
    data = {
        "agent_id": agent,
        "closed_at": DAY0 + dt.timedelta(days=day, minutes=minute),
        "realized_pnl": pnl,
        "entry_price": "100",
        "quantity": "1",
    }
    return JournalEntry(f"{agent}-{day}-{minute}", data)


# A: 2 %, 1 %, -1 % on days 0, 1, 2; B: -1 %, 3 %, 2 %.
JOURNAL = [
    *(trade("A", day, pnl) for day, pnl in enumerate(["2", "1", "-1"])),
    *(trade("B", day, pnl) for day, pnl in enumerate(["-1", "3", "2"])),
]


class Scripted:
    """Targets given per rebalance (the execution rules and the arithmetic, without the
    engine)."""

    def __init__(self, by_index: dict[int, dict[str, str]]) -> None:
        self.by_index = by_index

    def __call__(self, policy: Policy, index: int) -> dict[str, Decimal]:
        return {agent: D(w) for agent, w in self.by_index[index].items()}


def policy(name: str = "p", **rules: str) -> Policy:
    config = MaestroConfig(agent_ids=("A", "B"))
    return Policy(name, config, **{k: D(v) for k, v in rules.items()})


def test_equal_weight_by_hand() -> None:
    # Day 0 nothing is held (R = 0); the scoring period starts the day after the first date by
    # whose end both agents have a valid trade: day 1. Held 1/2 each from the end of day 0:
    # R1 = (0.5 x 1 + 0.5 x 3) / 100 = 0.02, R2 = (0.5 x -1 + 0.5 x 2) / 100 = 0.005.
    policies = parse_policies({"p": {"agent_ids": ["A", "B"]}})
    evaluation = evaluate(JOURNAL, policies, risk_free_rate=D(0))
    equal = evaluation.figures["equal_weight"]
    assert evaluation.start == 1 and equal.daily_series == (D("0.02"), D("0.005"))
    assert equal.total_return == D("1.02") * D("1.005") - 1  # 0.0251
    with localcontext(ENGINE_CONTEXT):
        assert equal.annualised_return == (D("1.02") * D("1.005")) ** (D(365) / 2) - 1
    # mean 0.0125, sample sd sqrt(2 x 0.0075^2) = 0.0106066..., x sqrt(365)
    assert close(equal.sharpe, 0.0125 / np.std([0.02, 0.005], ddof=1) * 365**0.5, 9)  # type: ignore[arg-type]
    assert equal.max_drawdown == 0 and equal.calmar is None and equal.sortino is None
    assert equal.turnover == 0 and equal.effective_agents == 2


def test_the_band_and_the_turnover_cap_by_hand() -> None:
    targets = Scripted(
        {0: {"A": "1", "B": "0"}, 1: {"A": "0.5", "B": "0.5"}, 2: {"A": "0", "B": "1"}}
    )
    plain, banded, capped = (
        policy("plain"),
        policy("banded", rebalance_band="0.5"),
        policy("capped", max_turnover="0.2"),
    )
    evaluation = evaluate(JOURNAL, [plain, banded, capped], risk_free_rate=D(0), targets=targets)
    held = {
        name: [r.held for r in evaluation.replays[name].rebalances] for name in evaluation.replays
    }
    # plain: the targets. R1 = 1 x 1 / 100, R2 = (0.5 x -1 + 0.5 x 2) / 100.
    assert evaluation.figures["plain"].daily_series == (D("0.01"), D("0.005"))
    # banded: |0.5 - 1| = 0.5 does not strictly exceed 0.5: keep (1, 0); then |0 - 1| = 1 does.
    assert held["banded"] == [
        {"A": D(1), "B": D(0)},
        {"A": D(1), "B": D(0)},
        {"A": D(0), "B": D(1)},
    ]
    assert evaluation.figures["banded"].daily_series == (D("0.01"), D("-0.01"))
    # capped: (1, 0) -> (0.5, 0.5) is a turnover of (0.5 + 0.5) / 2 = 0.5 > 0.2: move 0.2 / 0.5
    # = 40 % of the way, to (0.8, 0.2); then (0.8, 0.2) -> (0, 1) is 0.8: 25 %, to (0.6, 0.4).
    assert held["capped"][1] == {"A": D("0.8"), "B": D("0.2")}
    assert held["capped"][2] == {"A": D("0.6"), "B": D("0.4")}
    # R2 = (0.8 x -1 + 0.2 x 2) / 100 = -0.004; turnover averaged over rebalances 1 and 2
    # (the first is excluded; rebalance 2 earns on no date, the calendar ends): 0.2.
    assert evaluation.figures["capped"].daily_series == (D("0.01"), D("-0.004"))
    assert evaluation.figures["capped"].turnover == D("0.2")


def test_cash_counts_in_turnover() -> None:
    # From all in A to nothing held (enforce_performance with none performing): A -1, cash +1.
    assert one_way_turnover({"A": D(1), "B": D(0)}, {"A": D(0), "B": D(0)}) == 1
    assert held_weights({"A": D(0), "B": D(0)}, {"A": D(1), "B": D(0)}, None, D("0.5")) == {
        "A": D("0.5"),
        "B": D(0),
    }


def test_the_scoring_period_start() -> None:
    late = [*JOURNAL[:3], trade("B", 1, "3"), trade("B", 2, "2")]  # B's first trade on day 1
    policies = parse_policies({"p": {"agent_ids": ["A", "B"]}})
    assert evaluate(late, policies).start == 2
    assert evaluate(late, policies, start=dt.date(2026, 1, 2)).start == 1
    with pytest.raises(EvaluationError, match="no date to score"):
        evaluate(late, policies, start=dt.date(2026, 1, 4))
    only_a = JOURNAL[:3]
    with pytest.raises(EvaluationError, match="no valid closed trade of B"):
        evaluate(only_a, policies)


def test_no_look_ahead() -> None:
    """A trade on day 2 that changes the weights: the rebalance at the end of day 1 does not
    see it; the one at the end of day 2 does."""
    base = [trade("A", d, p, m) for d, p in ((0, "2"), (1, "1")) for m in (0, 1)] + [
        trade("B", d, p, m) for d, p in ((0, "1"), (1, "2")) for m in (0, 1)
    ]
    planted = trade("A", 2, "-40")
    policies = parse_policies({"p": {"agent_ids": ["A", "B"], "min_floor_weight": "0"}})
    without = evaluate([*base, trade("B", 2, "1")], policies)
    with_it = evaluate([*base, trade("B", 2, "1"), planted], policies)
    targets = [r.target for r in with_it.replays["p"].rebalances]
    assert targets[:2] == [r.target for r in without.replays["p"].rebalances][:2]
    assert targets[2] != without.replays["p"].rebalances[2].target
    config = policies[0].config
    assert config is not None
    seen_then = [e for e in [*base, trade("B", 2, "1"), planted] if e.data["closed_at"].day <= 2]
    assert targets[1] == dict(compute_weights(seen_then, config).weights)


def test_a_policy_equal_to_a_baseline_scores_the_same() -> None:
    policies = parse_policies({"mine": {"agent_ids": ["A", "B"]}})
    evaluation = evaluate(JOURNAL, policies)
    assert evaluation.figures["mine"] == evaluation.figures["seed_default"]


def test_the_deflated_sharpe_ratio_of_methods_md() -> None:
    # Input A, trials [SR_A, 0.1, 0.2, 0.3]: SR* = 0.137381 (mlfinlab, methods.md). Its DSR,
    # 0.774035, uses pandas' bias-corrected moments; ours are the population's (as engine v2's
    # PSR), so the oracle is mlfinlab's formula with scipy's bias=True moments.
    from scipy import stats as scipy_stats

    with localcontext(ENGINE_CONTEXT):
        stats = moments(TradeTrack(A_PCT_NEWEST_FIRST))
        assert stats.variance is not None
        sharpe = stats.mean / stats.variance.sqrt()
        expected = expected_max_sharpe([sharpe, D("0.1"), D("0.2"), D("0.3")])
        dsr = probabilistic_sharpe(sharpe, stats, against=expected)
        assert expected_max_sharpe([sharpe]) == 0
    assert close(expected, 0.137381)
    sample = A
    sr, star = float(sharpe), float(expected)
    g3 = scipy_stats.skew(sample, bias=True)
    g4 = scipy_stats.kurtosis(sample, fisher=False, bias=True)
    oracle = scipy_stats.norm.cdf(
        (sr - star) * (len(sample) - 1) ** 0.5 / (1 - g3 * sr + (g4 - 1) / 4 * sr**2) ** 0.5
    )
    assert close(dsr, float(oracle), 12)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "expected a JSON object"),
        ({"equal_weight": {}}, "policies.equal_weight: a baseline"),
        ({"a": {"lookback_trades": 1}}, "policies.a.lookback_trades"),
        ({"a": {"rebalance_band": "2"}}, "policies.a.rebalance_band: must be from 0 to 1"),
        (
            {"a": {"agent_ids": ["A", "B"]}, "b": {"agent_ids": ["A"]}},
            "policies.b.agent_ids: every policy must configure the same agents as a",
        ),
        ({"a": "sharpe"}, "policies.a: expected a JSON object"),
    ],
)
def test_bad_policies_are_refused_naming_the_policy(raw: Any, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policies(raw)


class FromScratch:
    """The engine run on the journal as it stood at each rebalance, from the entries (what
    the incremental replay must equal)."""

    def __init__(self, calendar: Calendar, entries: Sequence[JournalEntry]) -> None:
        self.calendar, self.entries = calendar, entries

    def __call__(self, policy: Policy, index: int) -> dict[str, Decimal]:
        agents = tuple(self.calendar.returns_pct)
        if policy.config is None:
            return dict.fromkeys(agents, Decimal(1) / len(agents))
        day = self.calendar.dates[index]
        seen = [
            e
            for e in self.entries
            if isinstance(e.data.get("closed_at"), dt.datetime)
            and e.data["closed_at"].date() <= day
        ]
        result = compute_weights(seen, policy.config)
        weights = dict(result.weights)
        if result.exposure is not None:
            weights = {a: w * result.exposure for a, w in weights.items()}
        return weights


OPTIONS = st.sampled_from(
    [
        {},
        {"lookback_trades": 3},
        {"half_life_trades": 2, "score": "sortino"},
        {"allocator": "inverse_volatility", "target_volatility": "0.2"},
        {"min_confidence": "0.5", "enforce_performance": True, "min_floor_weight": "0"},
        {"return_transform": "log", "drawdown_penalty": "0.3", "max_weight": "0.6"},
    ]
)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "C"]),
            st.integers(0, 9),
            st.integers(0, 3),
            st.sampled_from(["2", "-1", "0.5", "-3", "4", "x", "1"]),
        ),
        min_size=3,
        max_size=40,
    ),
    options=OPTIONS,
    every=st.integers(1, 3),
)
def test_the_incremental_replay_equals_recomputing_from_the_journal(
    rows: list[tuple[str, int, int, str]], options: dict[str, Any], every: int
) -> None:
    entries = list({(a, d, m): trade(a, d, p, m) for a, d, m, p in rows}.values())
    raw = {"p": {"agent_ids": ["A", "B", "C"], **options}}
    policies = parse_policies(raw)
    try:
        incremental = evaluate(entries, policies, every_days=every, start=dt.date(2026, 1, 1))
    except EvaluationError:
        return  # no valid trade at all
    scratch = evaluate(
        entries,
        policies,
        every_days=every,
        start=dt.date(2026, 1, 1),
        targets=FromScratch(incremental.calendar, entries),
    )
    for name in incremental.replays:
        assert incremental.replays[name].rebalances == scratch.replays[name].rebalances
        assert incremental.figures[name] == scratch.figures[name]


def test_returns_on_the_allocated_basis() -> None:
    """With --return-basis allocated, the calendar's returns are pnl / allocated_capital x 100:
    here 2 on 200 (1 %) where the notional gives 2 %; a trade without allocated_capital is not
    valid on that basis and adds nothing."""
    entries = [
        JournalEntry(e.trade_id, {**e.data, "allocated_capital": "200"}) for e in JOURNAL[:5]
    ] + [JOURNAL[5]]
    policies = parse_policies({"p": {"agent_ids": ["A", "B"]}})
    allocated = evaluate(entries, policies, basis=ReturnBasis.ALLOCATED, risk_free_rate=D(0))
    assert allocated.calendar.returns_pct["A"] == (D(1), D("0.5"), D("-0.5"))
    assert allocated.calendar.returns_pct["B"] == (D("-0.5"), D("1.5"), D(0))  # B-2: no capital
    # equal weight: R1 = (0.5 x 0.5 + 0.5 x 1.5) / 100, R2 = (0.5 x -0.5 + 0) / 100
    assert allocated.figures["equal_weight"].daily_series == (D("0.01"), D("-0.0025"))
