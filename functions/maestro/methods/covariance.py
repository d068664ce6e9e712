"""Pairwise-complete daily covariance and correlation (pandas' .cov() / .corr()): each pair
over the days on which both agents are defined (their records end on the as-of date, so those
days are the shorter record's). A pair with fewer than 2 common days has no covariance (0 in a
portfolio's variance). Must run inside ENGINE_CONTEXT."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Final, NamedTuple

from .daily import DailyRecord

_ZERO: Final = Decimal(0)


def covariance(first: Sequence[Decimal], second: Sequence[Decimal]) -> Decimal | None:
    count = len(first)
    if count < 2:
        return None
    mean_first = sum(first, _ZERO) / count
    mean_second = sum(second, _ZERO) / count
    products = ((x - mean_first) * (y - mean_second) for x, y in zip(first, second, strict=True))
    return sum(products, _ZERO) / (count - 1)


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
    """In one pass, the very numbers covariance() gives for (x, y), (x, x) and (y, y) over the
    pair's common days. None below 2 common days."""
    x, y = first.overlap(second)
    count = len(x)
    if count < 2:
        return None
    mean_x, mean_y = sum(x, _ZERO) / count, sum(y, _ZERO) / count
    shared = first_squares = second_squares = _ZERO
    for value_x, value_y in zip(x, y, strict=True):
        deviation_x, deviation_y = value_x - mean_x, value_y - mean_y
        shared += deviation_x * deviation_y
        first_squares += deviation_x * deviation_x
        second_squares += deviation_y * deviation_y
    divisor = count - 1
    return PairStatistics(shared / divisor, first_squares / divisor, second_squares / divisor)


def pair_covariance(first: DailyRecord, second: DailyRecord) -> Decimal | None:
    return covariance(*first.overlap(second))


def pair_correlation(first: DailyRecord, second: DailyRecord) -> Decimal | None:
    """None when either agent's variance over the common days is 0 (or there are fewer than
    2 of them)."""
    statistics = pair_statistics(first, second)
    return None if statistics is None else statistics.correlation
