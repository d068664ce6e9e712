"""What a score is given and what it answers (the Score protocol), and the Sharpe score.
Adding a score is a module with one function of this shape and a line in weighting.SCORES."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from . import Fallback
from .moments import Moments
from .returns import TradeTrack
from .sharpe import AgentStatistics, AgentStatus


@dataclass(frozen=True, slots=True)
class ScoreInputs:
    track: TradeTrack
    moments: Moments
    statistics: AgentStatistics  # the Sharpe ratio and the status
    rf_daily_pct: Decimal
    psr: Decimal | None  # the probabilistic Sharpe ratio, when defined (psr.py)


@dataclass(frozen=True, slots=True)
class ScoreOutcome:
    """The score, the deviation it divides by (for the drawdown penalty), and, when the score
    overrides the status or fell back, which and why."""

    value: Decimal
    deviation: Decimal
    status: AgentStatus | None = None
    fallbacks: tuple[Fallback, ...] = ()


class Score(Protocol):
    def __call__(self, inputs: ScoreInputs) -> ScoreOutcome: ...


def sharpe_score(inputs: ScoreInputs) -> ScoreOutcome:
    statistics = inputs.statistics
    return ScoreOutcome(statistics.sharpe, statistics.std_return_pct)
