"""The probabilistic Sharpe ratio and the minimum track record length (Bailey and Lopez de
Prado; mlfinlab's statistics.probabilistic_sharpe_ratio and minimum_track_record_length, with
SR* = 0): PSR = Phi(SR x sqrt(n - 1) / sqrt(1 - g3 SR + (g4 - 1) / 4 x SR^2)), SR the Sharpe
ratio per trade, g3 = m3 / m2^1.5 and g4 = m4 / m2^2 from population central moments (not
quantstats' formula, which counts SR^2 / 2 twice: methods.md). With a half-life, the weighted
moments and sqrt(n_eff - 1). Must run inside ENGINE_CONTEXT."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from . import Fallback
from .moments import Moments
from .normal import normal_cdf
from .score import ScoreInputs, ScoreOutcome
from .sharpe import AgentStatus

_ZERO: Final = Decimal(0)
_FOUR: Final = Decimal(4)
MIN_TRADES: Final = 3


def _root_term(sharpe: Decimal, stats: Moments) -> Decimal | None:
    """1 - g3 SR + (g4 - 1) / 4 x SR^2, or None when the moments are undefined."""
    skewness, kurtosis = stats.skewness, stats.kurtosis
    if skewness is None or kurtosis is None:
        return None
    return 1 - skewness * sharpe + (kurtosis - 1) / _FOUR * sharpe * sharpe


def probabilistic_sharpe(
    sharpe: Decimal, stats: Moments, against: Decimal = _ZERO
) -> Decimal | None:
    """PSR against SR* = `against` (0 for the engine; the deflated Sharpe ratio passes its
    expected maximum), or None: fewer than 3 trades, or a non-positive term under the root."""
    if stats.n < MIN_TRADES:
        return None
    term = _root_term(sharpe, stats)
    if term is None or term <= 0:
        return None
    return normal_cdf((sharpe - against) * (stats.n_eff - 1).sqrt() / term.sqrt())


def minimum_track_record(sharpe: Decimal, stats: Moments, z: Decimal) -> Decimal | None:
    """MinTRL in trades for confidence Phi(z) against SR* = 0: 1 + term x (z / SR)^2; None
    when SR <= 0 (no track record is long enough) or the moments are undefined."""
    term = _root_term(sharpe, stats) if stats.n >= MIN_TRADES else None
    if term is None or sharpe <= 0:
        return None
    return 1 + term * (z / sharpe) ** 2


def psr_score(inputs: ScoreInputs) -> ScoreOutcome:
    statistics = inputs.statistics
    if statistics.status is not AgentStatus.OK:
        return ScoreOutcome(_ZERO, _ZERO)
    if inputs.psr is None:
        return ScoreOutcome(
            _ZERO, _ZERO, status=AgentStatus.PSR_UNDEFINED, fallbacks=(Fallback.PSR_UNDEFINED,)
        )
    return ScoreOutcome(inputs.psr, statistics.std_return_pct)
