"""Pairwise-complete daily covariance and correlation (pandas' .cov() / .corr()): each pair
over the days on which both agents are defined (their records end on the as-of date, so those
days are the shorter record's). A pair with fewer than 2 common days has no covariance (0 in a
portfolio's variance). Must run inside ENGINE_CONTEXT."""

from __future__ import annotations

from decimal import Decimal
from operator import mul
from typing import Final, NamedTuple

from .daily import Centred, DailyRecord

_ZERO: Final = Decimal(0)


class PairStatistics(NamedTuple):
    """A pair's covariance and each agent's variance over their common days."""

    covariance: Decimal
    first_variance: Decimal
    second_variance: Decimal

    @property
    def correlation(self) -> Decimal | None:
        """None when either variance is 0."""
        if not self.first_variance or not self.second_variance:
            return None
        return self.covariance / (self.first_variance * self.second_variance).sqrt()


def pair_statistics(first: DailyRecord, second: DailyRecord) -> PairStatistics | None:
    """The sample covariance of (x, y), (x, x) and (y, y) over the pair's common days,
    sum((x - mean x) (y - mean y)) / (n - 1), from each record's deviations over them
    (DailyRecord.centred: the shorter record's are its whole record's, kept and worked out
    once, not once a pair). None below 2 common days."""
    count = min(len(first.returns_pct), len(second.returns_pct))
    if count < 2:
        return None
    x, y = first.centred(count), second.centred(count)
    divisor = count - 1
    shared = _shared(first, x, second, y)
    return PairStatistics(shared / divisor, x.squares / divisor, y.squares / divisor)


def _shared(first: DailyRecord, x: Centred, second: DailyRecord, y: Centred) -> Decimal:
    """sum((x - mean x) (y - mean y)) from 0, in order; an agent with itself: its squares."""
    if first is second:
        return x.squares
    return sum(map(mul, x.deviations, y.deviations), _ZERO)


def pair_covariance(first: DailyRecord, second: DailyRecord) -> Decimal | None:
    """The pair's sample covariance over its common days (pair_statistics' first number)."""
    count = min(len(first.returns_pct), len(second.returns_pct))
    if count < 2:
        return None
    return _shared(first, first.centred(count), second, second.centred(count)) / (count - 1)


def pair_correlation(first: DailyRecord, second: DailyRecord) -> Decimal | None:
    """None when either agent's variance over the common days is 0 (or there are fewer than
    2 of them)."""
    statistics = pair_statistics(first, second)
    return None if statistics is None else statistics.correlation
