"""The moments of a per-trade track record: the mean, the unbiased variance (sample, or
weighted: skfolio's measures.variance(sample_weight), pandas ewm(...).var(bias=False)), n_eff,
and the population central moments that skewness and kurtosis rest on. Must run inside
ENGINE_CONTEXT."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from itertools import repeat
from operator import mul, sub
from typing import Final

from .returns import TradeTrack

_ZERO: Final = Decimal(0)


@dataclass(frozen=True)
class Moments:
    """n returns; n_eff = 1 / sum(w^2) (n with equal weights); `variance` unbiased, None below
    2 returns; m2, m3, m4 the (weighted) population central moments, mean of (r - mean)^k.

    m3 and m4 are worked out when first read (in the context then current, which must be
    ENGINE_CONTEXT): with the defaults only the diagnostics read them, and they are most of
    the cost of the moments."""

    n: int
    n_eff: Decimal
    mean: Decimal
    variance: Decimal | None
    m2: Decimal
    track: TradeTrack = field(repr=False, compare=False)
    # With a half-life (or no return), each r - mean as m2 took it: m3 and m4 take the same.
    deviations: tuple[Decimal, ...] | None = field(default=None, repr=False, compare=False)

    @property
    def m3(self) -> Decimal:
        return self._higher[0]

    @property
    def m4(self) -> Decimal:
        return self._higher[1]

    @cached_property
    def _higher(self) -> tuple[Decimal, Decimal]:
        """(m3, m4), in one pass: s3 += [w x] d^2 x d and s4 += [w x] d^2 x d^2 from 0, in
        order, each d = r - mean."""
        mean, returns, weights = self.mean, self.track.returns_pct, self.track.weights
        if weights is None:
            s3 = s4 = _ZERO
            for value in returns:
                deviation = value - mean
                square = deviation * deviation
                s3 += square * deviation
                s4 += square * square
            return (s3 / self.n, s4 / self.n) if returns else (_ZERO, _ZERO)
        # Weighted, map() measured faster than the loop (723 against 822 us for 1,000 returns;
        # unweighted, slower): the same operations in the same order.
        deviations = self.deviations
        assert deviations is not None
        squares = list(map(mul, deviations, deviations))
        weighted = list(map(mul, weights, squares))
        return sum(map(mul, weighted, deviations), _ZERO), sum(map(mul, weighted, squares), _ZERO)

    # Kept once worked out, as m3 and m4 are: the PSR, MinTRL and the diagnostics each read
    # them (in ENGINE_CONTEXT, as m3 and m4).
    @cached_property
    def skewness(self) -> Decimal | None:
        """g3 = m3 / m2^1.5 (population; None when m2 is 0)."""
        return self.m3 / (self.m2 * self.m2.sqrt()) if self.m2 > 0 else None

    @cached_property
    def kurtosis(self) -> Decimal | None:
        """g4 = m4 / m2^2, non-excess (3 for a normal distribution; None when m2 is 0)."""
        return self.m4 / (self.m2 * self.m2) if self.m2 > 0 else None


def moments(track: TradeTrack) -> Moments:
    returns, weights = track.returns_pct, track.weights
    n = len(returns)
    if n == 0:
        return Moments(0, _ZERO, _ZERO, None, _ZERO, track, ())
    if weights is None:
        # The first version's arithmetic, exactly (weighting.agent_statistics).
        mean = sum(returns, _ZERO) / n
        s2 = _ZERO
        for value in returns:
            deviation = value - mean
            s2 += deviation * deviation
        variance = s2 / (n - 1) if n > 1 else None
        return Moments(n, Decimal(n), mean, variance, s2 / n, track)
    mean = sum(map(mul, weights, returns), _ZERO)  # map() measured faster than a generator
    deviations = tuple(map(sub, returns, repeat(mean)))
    m2 = _ZERO
    for w, deviation in zip(weights, deviations, strict=True):
        m2 += w * deviation * deviation
    n_eff = effective_count(weights)
    variance = m2 * n_eff / (n_eff - 1) if n > 1 else None
    return Moments(n, n_eff, mean, variance, m2, track, deviations)


@functools.lru_cache(maxsize=64)
def effective_count(weights: tuple[Decimal, ...]) -> Decimal:
    """n_eff = 1 / sum(w^2). Kept per weights: half-life weights are themselves kept per
    (count, half-life) (returns.half_life_weights), so every agent with a full window, and
    every run, asks for the same ones (the same tuple: found by identity). Computed in the
    caller's context, which must be ENGINE_CONTEXT."""
    return 1 / sum(map(mul, weights, weights), _ZERO)
