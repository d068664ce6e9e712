"""The Sortino ratio per trade, as empyrical defines it: (mean - rf_daily) / DD with
DD = sqrt(sum(min(0, r_i - rf_daily)^2) / n) over all n returns (target rf_daily; zeros
counted, zipline#747 / empyrical#49-51), or sqrt(sum(w_i min(0, r_i - rf_daily)^2)) with a
half-life. No return below rf_daily (DD = 0): the Sharpe of the same returns, recorded as a
fallback. Must run inside ENGINE_CONTEXT."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from . import Fallback
from .score import ScoreInputs, ScoreOutcome
from .sharpe import AgentStatus

_ZERO: Final = Decimal(0)


def downside_deviation(inputs: ScoreInputs) -> Decimal:
    rf = inputs.rf_daily_pct
    below = [min(_ZERO, r - rf) for r in inputs.track.returns_pct]
    weights = inputs.track.weights
    if weights is None:
        square_mean = sum((d * d for d in below), _ZERO) / len(below)
    else:
        square_mean = sum((w * d * d for w, d in zip(weights, below, strict=True)), _ZERO)
    return square_mean.sqrt()


def sortino_score(inputs: ScoreInputs) -> ScoreOutcome:
    statistics = inputs.statistics
    if statistics.status is not AgentStatus.OK:
        return ScoreOutcome(_ZERO, _ZERO)
    deviation = downside_deviation(inputs)
    if deviation == 0:
        return ScoreOutcome(
            statistics.sharpe,
            statistics.std_return_pct,
            fallbacks=(Fallback.SORTINO_NO_DOWNSIDE,),
        )
    return ScoreOutcome((inputs.moments.mean - inputs.rf_daily_pct) / deviation, deviation)
