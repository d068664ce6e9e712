"""The moments of a per-trade track record: the mean, the unbiased variance (sample, or
weighted: skfolio's measures.variance(sample_weight), pandas ewm(...).var(bias=False)), n_eff,
and the population central moments that skewness and kurtosis rest on. Must run inside
ENGINE_CONTEXT."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from .returns import TradeTrack

_ZERO: Final = Decimal(0)


@dataclass(frozen=True, slots=True)
class Moments:
    """n returns; n_eff = 1 / sum(w^2) (n with equal weights); `variance` unbiased, None below
    2 returns; m2, m3, m4 the (weighted) population central moments, mean of (r - mean)^k."""

    n: int
    n_eff: Decimal
    mean: Decimal
    variance: Decimal | None
    m2: Decimal
    m3: Decimal
    m4: Decimal

    @property
    def skewness(self) -> Decimal | None:
        """g3 = m3 / m2^1.5 (population; None when m2 is 0)."""
        return self.m3 / (self.m2 * self.m2.sqrt()) if self.m2 > 0 else None

    @property
    def kurtosis(self) -> Decimal | None:
        """g4 = m4 / m2^2, non-excess (3 for a normal distribution; None when m2 is 0)."""
        return self.m4 / (self.m2 * self.m2) if self.m2 > 0 else None


def moments(track: TradeTrack) -> Moments:
    returns, weights = track.returns_pct, track.weights
    n = len(returns)
    if n == 0:
        return Moments(0, _ZERO, _ZERO, None, _ZERO, _ZERO, _ZERO)
    if weights is None:
        # The first version's arithmetic, exactly (weighting.agent_statistics).
        mean = sum(returns, _ZERO) / n
        s2 = s3 = s4 = _ZERO
        for value in returns:  # one pass (the hot path of every run)
            deviation = value - mean
            square = deviation * deviation
            s2 += square
            s3 += square * deviation
            s4 += square * square
        variance = s2 / (n - 1) if n > 1 else None
        return Moments(n, Decimal(n), mean, variance, s2 / n, s3 / n, s4 / n)
    mean = sum((w * r for w, r in zip(weights, returns, strict=True)), _ZERO)
    deviations = [r - mean for r in returns]
    m2 = sum((w * d * d for w, d in zip(weights, deviations, strict=True)), _ZERO)
    m3 = sum((w * d**3 for w, d in zip(weights, deviations, strict=True)), _ZERO)
    m4 = sum((w * d**4 for w, d in zip(weights, deviations, strict=True)), _ZERO)
    n_eff = 1 / sum((w * w for w in weights), _ZERO)
    variance = m2 * n_eff / (n_eff - 1) if n > 1 else None
    return Moments(n, n_eff, mean, variance, m2, m3, m4)
