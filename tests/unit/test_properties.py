"""Properties of the engine over generated journals (hypothesis), and cross-checks against
independent float oracles (statistics.stdev, a float softmax with the same floor rule)."""

from __future__ import annotations

import math
import random
import statistics
from decimal import Decimal, localcontext

from hypothesis import given, settings
from hypothesis import strategies as st

from maestro.config import MaestroConfig
from maestro.journal import JournalEntry
from maestro.weighting import compute_weights

from .helpers import closed

AGENTS = ("A", "B", "C", "D", "E")


@st.composite
def journals(draw: st.DrawFn) -> tuple[list[JournalEntry], MaestroConfig]:
    agent_count = draw(st.integers(1, len(AGENTS)))
    agents = AGENTS[:agent_count]
    entries: list[JournalEntry] = []
    minute = 0
    for agent in agents:
        for _ in range(draw(st.integers(0, 12))):
            minute += 1
            pnl_cents = draw(st.integers(-5_000, 5_000))
            quantity = draw(st.sampled_from(["1", "2", "-3", "0.5"]))
            price = draw(st.sampled_from(["10", "100", "37.5"]))
            entries.append(closed(agent, minute, str(Decimal(pnl_cents) / 100), price, quantity))
    floor = draw(st.sampled_from([Decimal(0), Decimal("0.01"), Decimal("0.05"), Decimal("0.1")]))
    if floor * agent_count > 1:
        floor = Decimal(0)
    config = MaestroConfig(
        agent_ids=agents,
        lookback_trades=draw(st.integers(2, 15)),
        risk_free_rate=draw(
            st.sampled_from([Decimal("-0.5"), Decimal(0), Decimal("0.04"), Decimal("0.9")])
        ),
        min_floor_weight=floor,
        enforce_performance=draw(st.booleans()),
    )
    return entries, config


def exact_sum(values: object) -> Decimal:
    with localcontext(prec=200):
        return sum(values, Decimal(0))  # type: ignore[call-overload, no-any-return]


def none_performing(result: object) -> bool:
    return all(a.status != "ok" or a.sharpe <= 0 for a in result.agents.values())  # type: ignore[attr-defined]


@settings(max_examples=300, deadline=None)
@given(journals())
def test_weights_sum_to_exactly_one(case: tuple[list[JournalEntry], MaestroConfig]) -> None:
    entries, config = case
    result = compute_weights(entries, config)
    if config.enforce_performance and none_performing(result):
        assert all(weight == 0 for weight in result.weights.values())
        assert result.warnings
    else:
        assert exact_sum(result.weights.values()) == 1


@settings(max_examples=300, deadline=None)
@given(journals())
def test_a_higher_sharpe_never_gets_a_lower_weight(
    case: tuple[list[JournalEntry], MaestroConfig],
) -> None:
    entries, config = case
    agents = compute_weights(entries, config).agents
    for first in agents.values():
        for second in agents.values():
            if first.sharpe > second.sharpe:
                assert first.weight >= second.weight, (first, second)


@settings(max_examples=300, deadline=None)
@given(journals())
def test_floors_are_respected(case: tuple[list[JournalEntry], MaestroConfig]) -> None:
    entries, config = case
    result = compute_weights(entries, config)
    for agent in result.agents.values():
        performing = agent.status == "ok" and agent.sharpe > 0
        if not config.enforce_performance:
            assert agent.weight >= config.min_floor_weight
        elif not performing:
            assert agent.weight == 0
        assert 0 <= agent.weight <= 1


@settings(max_examples=200, deadline=None)
@given(journals(), st.randoms(use_true_random=False))
def test_invariant_to_the_order_of_trades_and_of_agent_ids(
    case: tuple[list[JournalEntry], MaestroConfig], rng: random.Random
) -> None:
    entries, config = case
    shuffled_entries = list(entries)
    rng.shuffle(shuffled_entries)
    shuffled_ids = list(config.agent_ids)
    rng.shuffle(shuffled_ids)
    shuffled_config = MaestroConfig(
        agent_ids=tuple(shuffled_ids),
        lookback_trades=config.lookback_trades,
        risk_free_rate=config.risk_free_rate,
        min_floor_weight=config.min_floor_weight,
        enforce_performance=config.enforce_performance,
    )
    original = compute_weights(entries, config)
    shuffled = compute_weights(shuffled_entries, shuffled_config)
    assert dict(original.weights) == dict(shuffled.weights)
    assert dict(original.agents) == dict(shuffled.agents)


@settings(max_examples=200, deadline=None)
@given(journals())
def test_decimal_everywhere(case: tuple[list[JournalEntry], MaestroConfig]) -> None:
    entries, config = case
    result = compute_weights(entries, config)
    for agent in result.agents.values():
        for value in (agent.weight, agent.sharpe, agent.mean_return_pct, agent.std_return_pct):
            assert type(value) is Decimal
    payload = result.to_json_dict()
    for agent_id, text in payload["weights"].items():
        assert isinstance(text, str)
        assert Decimal(text) == result.weights[agent_id]


# --- independent oracles --------------------------------------------------------------------


def float_returns(entries: list[JournalEntry], agent: str, lookback: int) -> list[float]:
    mine = sorted(
        (e for e in entries if e.data["agent_id"] == agent),
        key=lambda e: e.data["closed_at"],
        reverse=True,
    )[:lookback]
    return [
        float(e.data["realized_pnl"])
        / (float(e.data["entry_price"]) * abs(float(e.data["quantity"])))
        * 100
        for e in mine
    ]


def float_weights(entries: list[JournalEntry], config: MaestroConfig) -> dict[str, float]:
    """The documented semantics re-implemented in floats, independently of the engine."""
    rf = float(config.risk_free_rate) / 252 * 100
    floor = float(config.min_floor_weight)
    sharpes: dict[str, float | None] = {}
    for agent in config.agent_ids:
        returns = float_returns(entries, agent, config.lookback_trades)
        if len(returns) < 2 or len(set(returns)) == 1:
            sharpes[agent] = None
        else:
            sharpes[agent] = (statistics.fmean(returns) - rf) / statistics.stdev(returns)
    performing = {a: s for a, s in sharpes.items() if s is not None and s > 0}
    if not performing:
        value = 0.0 if config.enforce_performance else 1 / len(config.agent_ids)
        return dict.fromkeys(config.agent_ids, value)
    outside = 0.0 if config.enforce_performance else floor
    weights = {a: outside for a in config.agent_ids if a not in performing}
    remaining = 1 - outside * len(weights)
    active = dict(performing)
    while active:
        top = max(active.values())
        exps = {a: math.exp(s - top) for a, s in active.items()}
        total = sum(exps.values())
        shares = {a: remaining * e / total for a, e in exps.items()}
        below = [a for a, share in shares.items() if share < outside]
        if not below:
            weights.update(shares)
            break
        for agent in below:
            weights[agent] = outside
            remaining -= outside
            del active[agent]
    return weights


@settings(max_examples=300, deadline=None)
@given(journals())
def test_weights_match_a_float_oracle(case: tuple[list[JournalEntry], MaestroConfig]) -> None:
    entries, config = case
    result = compute_weights(entries, config)
    oracle = float_weights(entries, config)
    for agent in config.agent_ids:
        assert math.isclose(float(result.weights[agent]), oracle[agent], abs_tol=1e-9), agent


@settings(max_examples=300, deadline=None)
@given(journals())
def test_std_and_mean_match_the_statistics_module(
    case: tuple[list[JournalEntry], MaestroConfig],
) -> None:
    entries, config = case
    result = compute_weights(entries, config)
    for agent in config.agent_ids:
        returns = float_returns(entries, agent, config.lookback_trades)
        detail = result.agents[agent]
        if len(returns) >= 2:
            assert math.isclose(
                float(detail.std_return_pct), statistics.stdev(returns), rel_tol=1e-9, abs_tol=1e-12
            )
        if returns:
            assert math.isclose(
                float(detail.mean_return_pct),
                statistics.fmean(returns),
                rel_tol=1e-9,
                abs_tol=1e-12,
            )
