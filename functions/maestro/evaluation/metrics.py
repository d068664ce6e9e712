"""Each policy's figures over the scoring period, from its daily series R (fractions), with
rf per day = risk_free_rate / 365: total and annualised return (compound, 365 days a year);
the annualised Sharpe (mean of R - rf over its sample standard deviation, x sqrt(365)); the
Sortino ratio (empyrical: target rf, downside over all days, denominator n, x sqrt(365)); the
maximum drawdown of the equity including the starting 1; Calmar (annualised return / maximum
drawdown); the average one-way turnover over the rebalances whose weights earn in the period
(the replay's first excluded; cash counted); the average effective number of agents
(1 / sum h^2, over dates with any holding); the PSR of the daily Sharpe against 0 (population
moments, as in engine v2). Across policies, the deflated Sharpe ratio of the best (mlfinlab:
SR* = sigma(SRs) [(1 - g) Phi^-1(1 - 1/N) + g Phi^-1(1 - 1/(N e))], sigma the population
deviation of the policies' daily Sharpes, g Euler's constant; N = 1: SR* = 0). None where a
figure is undefined. Must run inside ENGINE_CONTEXT."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from ..methods.moments import moments
from ..methods.normal import normal_quantile
from ..methods.psr import probabilistic_sharpe
from ..methods.returns import TradeTrack
from .execution import one_way_turnover
from .replay import PolicyReplay

DAYS_PER_YEAR: Final = 365
EULER_GAMMA: Final = Decimal("0.57721566490153286060651209008240243104215933593992")
_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)
_HUNDRED: Final = Decimal(100)


@dataclass(frozen=True, slots=True)
class Figures:
    days: int
    total_return: Decimal
    annualised_return: Decimal
    sharpe: Decimal | None  # annualised
    sortino: Decimal | None  # annualised
    max_drawdown: Decimal
    calmar: Decimal | None
    turnover: Decimal | None
    effective_agents: Decimal | None
    psr: Decimal | None
    daily_sharpe: Decimal | None  # not annualised: the deflated Sharpe ratio's trials
    daily_series: tuple[Decimal, ...]  # R over the scoring period
    equity_curve: tuple[Decimal, ...]  # the equity at the end of each scored date, from 1


@dataclass(frozen=True, slots=True)
class Deflated:
    best: str
    trials: int
    expected_max_sharpe: Decimal  # SR*, daily
    dsr: Decimal | None


def figures(run: PolicyReplay, start: int, every_days: int, rf_annual: Decimal) -> Figures:
    series = run.returns[start:]
    n = len(series)
    rf = rf_annual / DAYS_PER_YEAR
    equity, peak, worst, curve = _ONE, _ONE, _ZERO, []
    for value in series:
        equity *= 1 + value
        curve.append(equity)
        peak = max(peak, equity)
        worst = max(worst, (peak - equity) / peak)
    annualised = equity ** (Decimal(DAYS_PER_YEAR) / n) - 1 if equity > 0 else -_ONE
    mean = sum(series, _ZERO) / n
    excess = mean - rf
    daily_sharpe = sortino = None
    if n >= 2:
        variance = sum(((r - mean) ** 2 for r in series), _ZERO) / (n - 1)
        if variance > 0:
            daily_sharpe = excess / variance.sqrt()
        downside = sum((min(_ZERO, r - rf) ** 2 for r in series), _ZERO) / n
        if downside > 0:
            sortino = excess / downside.sqrt() * _annualiser()
    track = TradeTrack(tuple(r * _HUNDRED for r in series))  # PSR is scale-free
    psr = probabilistic_sharpe(daily_sharpe, moments(track)) if daily_sharpe is not None else None
    return Figures(
        days=n,
        total_return=equity - 1,
        annualised_return=annualised,
        sharpe=None if daily_sharpe is None else daily_sharpe * _annualiser(),
        sortino=sortino,
        max_drawdown=worst,
        calmar=annualised / worst if worst > 0 else None,
        turnover=_average_turnover(run, start, every_days),
        effective_agents=_effective_agents(run, start),
        psr=psr,
        daily_sharpe=daily_sharpe,
        daily_series=series,
        equity_curve=tuple(curve),
    )


def _annualiser() -> Decimal:
    return Decimal(DAYS_PER_YEAR).sqrt()


def _average_turnover(run: PolicyReplay, start: int, every_days: int) -> Decimal | None:
    """Over the rebalances after the first whose weights earn on a scored date (rebalance k
    earns on dates k x every_days + 1 to (k + 1) x every_days)."""
    last = len(run.returns) - 1
    counted = [
        one_way_turnover(run.rebalances[k - 1].held, run.rebalances[k].held)
        for k in range(1, len(run.rebalances))
        if (k + 1) * every_days >= start and k * every_days + 1 <= last
    ]
    return sum(counted, _ZERO) / len(counted) if counted else None


def _effective_agents(run: PolicyReplay, start: int) -> Decimal | None:
    values = []
    for number in run.earning[start:]:
        if number is None:
            continue
        squares = sum((w * w for w in run.rebalances[number].held.values()), _ZERO)
        if squares > 0:
            values.append(1 / squares)
    return sum(values, _ZERO) / len(values) if values else None


def deflated_sharpe(results: Mapping[str, Figures]) -> Deflated | None:
    """The deflated Sharpe ratio of the policy with the highest Sharpe, N = the policies with
    a Sharpe. None when none has one."""
    trials = {name: f.daily_sharpe for name, f in results.items() if f.daily_sharpe is not None}
    if not trials:
        return None
    best = max(trials, key=lambda name: (trials[name], name))
    expected = expected_max_sharpe(list(trials.values()))
    figures_best = results[best]
    track = TradeTrack(tuple(r * _HUNDRED for r in figures_best.daily_series))
    dsr = probabilistic_sharpe(trials[best], moments(track), against=expected)
    return Deflated(best, len(trials), expected, dsr)


def expected_max_sharpe(sharpes: Sequence[Decimal]) -> Decimal:
    """SR* of mlfinlab's deflated_sharpe_ratio: the expected maximum of N Sharpe ratios drawn
    with the trials' population deviation."""
    count = len(sharpes)
    if count < 2:
        return _ZERO
    mean = sum(sharpes, _ZERO) / count
    deviation = (sum(((s - mean) ** 2 for s in sharpes), _ZERO) / count).sqrt()
    n = Decimal(count)
    return deviation * (
        (1 - EULER_GAMMA) * normal_quantile(1 - 1 / n)
        + EULER_GAMMA * normal_quantile(1 - 1 / (n * _ONE.exp()))
    )
