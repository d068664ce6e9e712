# The first version's engine, frozen (commit bb3222c): the oracle that engine v2 with no new
# option set must reproduce to the digit (test_defaults_unchanged.py). Do not edit.

# ruff: noqa
# mypy: ignore-errors
"""The weighting semantics, in exact Decimal arithmetic: returns -> Sharpe -> softmax -> floors.

Every rule is stated once, here, beside the code that applies it; tests/unit/test_weighting.py
pins each with a hand-computed case. No float is used anywhere in this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from enum import StrEnum
from typing import Final

from maestro.config import WEIGHT_DECIMAL_PLACES, MaestroConfig
from .journal import AgentTrades, JournalEntry, Rejection, select_agent_trades
from .result import AgentResult, WeightReason, WeightsResult

# 50 significant digits inside the computation (the requirement is at least 28); results are
# rounded to OUTPUT_DIGITS and weights quantised to WEIGHT_QUANTUM. Errors that would mean a bug
# (invalid operation, division by zero, overflow) raise instead of producing NaN or Infinity.
ENGINE_CONTEXT: Final = Context(
    prec=50,
    rounding=ROUND_HALF_EVEN,
    Emax=999_999,
    Emin=-999_999,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
OUTPUT_DIGITS: Final = 28
WEIGHT_QUANTUM: Final = Decimal(1).scaleb(-WEIGHT_DECIMAL_PLACES)
TRADING_DAYS_PER_YEAR: Final = 252
_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)
_HUNDRED: Final = Decimal(100)
_OUTPUT_CONTEXT: Final = Context(
    prec=OUTPUT_DIGITS, rounding=ROUND_HALF_EVEN, Emax=999_999, Emin=-999_999
)


class AgentStatus(StrEnum):
    """Whether an agent's Sharpe ratio means anything."""

    OK = "ok"
    NO_TRADES = "no_trades"  # 0 valid returns: Sharpe 0
    INSUFFICIENT_DATA = "insufficient_data"  # 1 valid return: no sample deviation, Sharpe 0
    ZERO_VOLATILITY = "zero_volatility"  # all returns equal (s = 0): Sharpe 0


@dataclass(frozen=True, slots=True)
class AgentStatistics:
    """Sharpe ratio inputs and output of one agent; returns are percentages per trade."""

    sharpe: Decimal
    mean_return_pct: Decimal
    std_return_pct: Decimal
    status: AgentStatus

    @property
    def is_performing(self) -> bool:
        """Performing: a meaningful Sharpe ratio above zero."""
        return self.status is AgentStatus.OK and self.sharpe > 0


def risk_free_rate_daily_pct(risk_free_rate_annual: Decimal) -> Decimal:
    """The annual risk-free fraction as a percentage per trading day: 0.04 -> 0.04 / 252 x 100."""
    return risk_free_rate_annual / TRADING_DAYS_PER_YEAR * _HUNDRED


def agent_statistics(
    returns_pct: Sequence[Decimal], risk_free_daily_pct: Decimal
) -> AgentStatistics:
    """Sharpe = (mean - rf_daily) / s, s the sample standard deviation (n - 1).
    Must run inside ENGINE_CONTEXT."""
    count = len(returns_pct)
    if count == 0:
        return AgentStatistics(_ZERO, _ZERO, _ZERO, AgentStatus.NO_TRADES)
    mean = sum(returns_pct, _ZERO) / count
    if count == 1:
        return AgentStatistics(_ZERO, mean, _ZERO, AgentStatus.INSUFFICIENT_DATA)
    # Decided on the data, not on the computed s: equal returns whose mean rounds in the last
    # digit would otherwise leave a spurious s of 1e-50 and an astronomic Sharpe.
    first = returns_pct[0]
    if all(value == first for value in returns_pct):
        return AgentStatistics(_ZERO, first, _ZERO, AgentStatus.ZERO_VOLATILITY)
    variance = sum(((value - mean) ** 2 for value in returns_pct), _ZERO) / (count - 1)
    std = variance.sqrt()
    return AgentStatistics((mean - risk_free_daily_pct) / std, mean, std, AgentStatus.OK)


def softmax_shares(
    sharpes: Mapping[str, Decimal], total: Decimal, floor: Decimal
) -> tuple[dict[str, Decimal], frozenset[str]]:
    """Split `total` in proportion to exp(Sharpe - max Sharpe). An agent whose share would fall
    below `floor` gets exactly `floor` and the others re-share what remains, repeated until none
    falls below, so a higher Sharpe never gets a lower weight. Returns the shares and the agents
    raised to the floor. Must run inside ENGINE_CONTEXT."""
    shares: dict[str, Decimal] = {}
    raised: set[str] = set()
    active = dict(sharpes)
    remaining = total
    while active:
        top = max(active.values())
        exponentials = {agent: (sharpe - top).exp() for agent, sharpe in active.items()}
        denominator = sum(exponentials.values(), _ZERO)
        proposal = {agent: remaining * e / denominator for agent, e in exponentials.items()}
        below = [agent for agent, share in proposal.items() if share < floor]
        if not below:
            shares.update(proposal)
            break
        # total >= floor x len(sharpes) (config validation), so not every agent can be below.
        for agent in below:
            shares[agent] = floor
            raised.add(agent)
            del active[agent]
            remaining -= floor
    return shares, frozenset(raised)


def quantize_weights(
    exact: Mapping[str, Decimal],
    target_total: Decimal,
    adjustable: Iterable[str],
    sharpes: Mapping[str, Decimal],
) -> dict[str, Decimal]:
    """Round to WEIGHT_QUANTUM so that the weights add up to `target_total` exactly.

    Largest remainder method: round every weight down, then hand the missing quanta one by one to
    the adjustable agents with the largest remainders (ties: larger weight, higher Sharpe, then
    agent id). This keeps the order of the weights, so a higher Sharpe still never gets a lower
    weight (even in the equal split), and leaves exact weights (floors) untouched."""
    floored = {
        agent: value.quantize(WEIGHT_QUANTUM, rounding=ROUND_DOWN) for agent, value in exact.items()
    }
    missing = int((target_total - sum(floored.values(), _ZERO)) / WEIGHT_QUANTUM)
    if missing:
        candidates = sorted(
            adjustable,
            key=lambda agent: (exact[agent] - floored[agent], exact[agent], sharpes[agent], agent),
            reverse=True,
        )
        if not 0 < missing <= len(candidates):
            raise ArithmeticError(f"cannot spread {missing} quanta over {len(candidates)} weights")
        for agent in candidates[:missing]:
            floored[agent] += WEIGHT_QUANTUM
    return floored


def compute_weights(entries: Iterable[JournalEntry], config: MaestroConfig) -> WeightsResult:
    """The whole engine: journal entries -> WeightsResult, in one Decimal context.

    Weights (P = performing agents, floor = min_floor_weight):
    - enforce_performance False: every agent outside P gets exactly floor; P shares
      1 - floor x (agents outside P) by softmax with floors (softmax_shares).
    - enforce_performance True: agents outside P get 0; P shares 1 by softmax.
    - P empty: 1/N each (enforce False), or 0 each with a warning (enforce True), the one case
      whose weights do not sum to 1.
    """
    with localcontext(ENGINE_CONTEXT):
        selected = select_agent_trades(entries, config.agent_ids, config.lookback_trades)
        return weights_from_selection(selected, config)


def weights_from_selection(
    selected: Mapping[str, AgentTrades], config: MaestroConfig
) -> WeightsResult:
    """The engine from each agent's selected trades on (what compute_weights does after the
    selection; the rolling windows of Cloud Functions runs hold exactly that selection)."""
    with localcontext(ENGINE_CONTEXT):
        rf_daily = risk_free_rate_daily_pct(config.risk_free_rate)
        stats = {
            agent: agent_statistics(selected[agent].returns_pct, rf_daily)
            for agent in config.agent_ids
        }
        performing = {agent: s.sharpe for agent, s in stats.items() if s.is_performing}
        outsiders = [agent for agent in config.agent_ids if agent not in performing]
        floor = config.min_floor_weight
        warnings: list[str] = []
        reasons: dict[str, WeightReason] = {}

        if not performing:
            if config.enforce_performance:
                exact = dict.fromkeys(config.agent_ids, _ZERO)
                target = _ZERO
                reasons = dict.fromkeys(config.agent_ids, WeightReason.NONE_PERFORMING_ZERO)
                warnings.append(
                    "no agent is performing (status ok and Sharpe > 0) and enforce_performance "
                    "is on: every weight is 0, nothing is allocated"
                )
            else:
                exact = dict.fromkeys(config.agent_ids, _ONE / len(config.agent_ids))
                target = _ONE
                reasons = dict.fromkeys(config.agent_ids, WeightReason.NONE_PERFORMING_EQUAL)
            adjustable: list[str] = list(config.agent_ids)
        else:
            outsider_weight = _ZERO if config.enforce_performance else floor
            share_floor = _ZERO if config.enforce_performance else floor
            exact = dict.fromkeys(outsiders, outsider_weight)
            shares, raised = softmax_shares(
                performing, _ONE - outsider_weight * len(outsiders), share_floor
            )
            exact.update(shares)
            target = _ONE
            for agent in outsiders:
                reasons[agent] = (
                    WeightReason.NOT_PERFORMING_ZERO
                    if config.enforce_performance
                    else WeightReason.NOT_PERFORMING_FLOOR
                )
            for agent in performing:
                reasons[agent] = (
                    WeightReason.RAISED_TO_FLOOR if agent in raised else WeightReason.SOFTMAX
                )
            adjustable = [agent for agent in performing if agent not in raised]

        weights = quantize_weights(
            exact, target, adjustable, {agent: s.sharpe for agent, s in stats.items()}
        )
        agents = {
            agent: AgentResult(
                agent_id=agent,
                weight=_normalized(weights[agent]),
                sharpe=_rounded(stats[agent].sharpe),
                mean_return_pct=_rounded(stats[agent].mean_return_pct),
                std_return_pct=_rounded(stats[agent].std_return_pct),
                status=stats[agent].status.value,
                trades_used=len(selected[agent].returns_pct),
                trades_rejected=sum(selected[agent].rejected.values()),
                rejection_reasons=_reason_counts(selected[agent].rejected),
                weight_reason=reasons[agent],
            )
            for agent in config.agent_ids
        }
    return WeightsResult(
        weights={agent: agents[agent].weight for agent in config.agent_ids},
        agents=agents,
        config=config,
        warnings=tuple(warnings),
    )


def _rounded(value: Decimal) -> Decimal:
    return _OUTPUT_CONTEXT.plus(value).normalize(_OUTPUT_CONTEXT)


def _normalized(weight: Decimal) -> Decimal:
    # Exact (at most 28 decimal places); normalize only drops trailing zeros.
    return weight.normalize(ENGINE_CONTEXT)


def _reason_counts(rejected: Mapping[Rejection, int]) -> dict[str, int]:
    return {reason.value: rejected[reason] for reason in sorted(rejected, key=lambda r: r.value)}
