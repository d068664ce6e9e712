"""The Sharpe ratio of a per-trade track record, and the statuses that say when it means
anything: Sharpe = (mean - rf_daily) / s, s the sample standard deviation (n - 1), or with a
half-life the weighted one (moments.py). rf_daily = risk_free_rate / 252 x 100, in percent
per trade. Must run inside ENGINE_CONTEXT."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from .moments import Moments

_ZERO: Final = Decimal(0)


class AgentStatus(StrEnum):
    """Whether an agent's score means anything (in this order of precedence)."""

    OK = "ok"
    NO_TRADES = "no_trades"  # 0 valid returns: score 0
    INSUFFICIENT_DATA = "insufficient_data"  # 1 valid return: no deviation, score 0
    ZERO_VOLATILITY = "zero_volatility"  # all returns equal (decided on the data): score 0
    PSR_UNDEFINED = "psr_undefined"  # score psr only: fewer than 3 trades or no real root


@dataclass(frozen=True, slots=True)
class AgentStatistics:
    """Sharpe ratio inputs and output of one agent; returns are percentages per trade."""

    sharpe: Decimal
    mean_return_pct: Decimal
    std_return_pct: Decimal
    status: AgentStatus

    @property
    def is_performing(self) -> bool:
        """A meaningful Sharpe ratio above zero (a score may ask for more: weighting.py)."""
        return self.status is AgentStatus.OK and self.sharpe > 0


def agent_statistics(
    returns_pct: tuple[Decimal, ...] | list[Decimal], stats: Moments, rf_daily_pct: Decimal
) -> AgentStatistics:
    """The status, then the Sharpe ratio where it is defined."""
    count = stats.n
    if count == 0:
        return AgentStatistics(_ZERO, _ZERO, _ZERO, AgentStatus.NO_TRADES)
    if count == 1:
        return AgentStatistics(_ZERO, stats.mean, _ZERO, AgentStatus.INSUFFICIENT_DATA)
    # Decided on the data, not on the computed s: equal returns whose mean rounds in the last
    # digit would otherwise leave a spurious s of 1e-50 and an astronomic Sharpe.
    first = returns_pct[0]
    if all(value == first for value in returns_pct):
        return AgentStatistics(_ZERO, first, _ZERO, AgentStatus.ZERO_VOLATILITY)
    assert stats.variance is not None
    std = stats.variance.sqrt()
    return AgentStatistics((stats.mean - rf_daily_pct) / std, stats.mean, std, AgentStatus.OK)
