"""The moments of a per-trade track record: the mean, the unbiased variance (sample, or
weighted: skfolio's measures.variance(sample_weight), pandas ewm(...).var(bias=False)), n_eff,
and the population central moments that skewness and kurtosis rest on. Must run inside
ENGINE_CONTEXT.

The sums run by map() in C: each the loop s += term from 0, in order, so the same digits as
the loop written out, without the interpreter's cost per return."""

from __future__ import annotations

import functools
from collections.abc import Sequence
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

    m3 and m4 are worked out with the rest when the caller says it will read them (moments(
    higher=True): the deviations are then shared), otherwise when first read (in the context
    then current, which must be ENGINE_CONTEXT): with the defaults only the diagnostics read
    them, and they are most of the cost of the moments."""

    n: int
    n_eff: Decimal
    mean: Decimal
    variance: Decimal | None
    m2: Decimal
    track: TradeTrack = field(repr=False, compare=False)
    higher: tuple[Decimal, Decimal] | None = field(default=None, repr=False, compare=False)

    @property
    def m3(self) -> Decimal:
        return self._higher[0]

    @property
    def m4(self) -> Decimal:
        return self._higher[1]

    @cached_property
    def _higher(self) -> tuple[Decimal, Decimal]:
        if self.higher is not None:
            return self.higher
        returns = self.track.returns_pct
        return _higher(self.n, list(map(sub, returns, repeat(self.mean))), self.track.weights)

    @property
    def skewness(self) -> Decimal | None:
        """g3 = m3 / m2^1.5 (population; None when m2 is 0)."""
        return self.m3 / (self.m2 * self.m2.sqrt()) if self.m2 > 0 else None

    @property
    def kurtosis(self) -> Decimal | None:
        """g4 = m4 / m2^2, non-excess (3 for a normal distribution; None when m2 is 0)."""
        return self.m4 / (self.m2 * self.m2) if self.m2 > 0 else None


def moments(track: TradeTrack, higher: bool = False) -> Moments:
    """`higher`: m3 and m4 too, now (the caller will read them)."""
    returns, weights = track.returns_pct, track.weights
    n = len(returns)
    if n == 0:
        return Moments(0, _ZERO, _ZERO, None, _ZERO, track, (_ZERO, _ZERO) if higher else None)
    if weights is None:
        # The first version's arithmetic, exactly (weighting.agent_statistics).
        mean = sum(returns, _ZERO) / n
        deviations = list(map(sub, returns, repeat(mean)))
        squares = list(map(mul, deviations, deviations))
        s2 = sum(squares, _ZERO)
        variance = s2 / (n - 1) if n > 1 else None
        both = _higher(n, deviations, None, squares) if higher else None
        return Moments(n, Decimal(n), mean, variance, s2 / n, track, both)
    mean = sum(map(mul, weights, returns), _ZERO)
    deviations = list(map(sub, returns, repeat(mean)))
    m2 = sum(map(mul, map(mul, weights, deviations), deviations), _ZERO)  # w x d x d
    n_eff = effective_count(weights)
    variance = m2 * n_eff / (n_eff - 1) if n > 1 else None
    both = _higher(n, deviations, weights) if higher else None
    return Moments(n, n_eff, mean, variance, m2, track, both)


@functools.lru_cache(maxsize=64)
def effective_count(weights: tuple[Decimal, ...]) -> Decimal:
    """n_eff = 1 / sum(w^2). Kept per weights: half-life weights are themselves kept per
    (count, half-life) (returns.half_life_weights), so every agent with a full window, and
    every run, asks for the same ones (the same tuple: found by identity). Computed in the
    caller's context, which must be ENGINE_CONTEXT."""
    return 1 / sum(map(mul, weights, weights), _ZERO)


def _higher(
    n: int,
    deviations: list[Decimal],
    weights: Sequence[Decimal] | None,
    squares: list[Decimal] | None = None,
) -> tuple[Decimal, Decimal]:
    """(m3, m4): s3 += [w x] d^2 x d and s4 += [w x] d^2 x d^2, from 0, in order."""
    if squares is None:
        squares = list(map(mul, deviations, deviations))
    if weights is None:
        s3 = sum(map(mul, squares, deviations), _ZERO)
        s4 = sum(map(mul, squares, squares), _ZERO)
        return (s3 / n, s4 / n) if n else (_ZERO, _ZERO)
    weighted = list(map(mul, weights, squares))
    s3 = sum(map(mul, weighted, deviations), _ZERO)
    s4 = sum(map(mul, weighted, squares), _ZERO)
    return s3, s4
