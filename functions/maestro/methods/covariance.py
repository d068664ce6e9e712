"""Pairwise-complete daily covariance and correlation (pandas' .cov() / .corr()): each pair
over the days on which both agents are defined (their records end on the as-of date, so those
days are the shorter record's). A pair with fewer than 2 common days has no covariance (0 in a
portfolio's variance). Must run inside ENGINE_CONTEXT."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Final

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


def pair_covariance(first: DailyRecord, second: DailyRecord) -> Decimal | None:
    return covariance(*first.overlap(second))


def pair_correlation(first: DailyRecord, second: DailyRecord) -> Decimal | None:
    """None when either agent's variance over the common days is 0 (or there are fewer than
    2 of them)."""
    x, y = first.overlap(second)
    shared = covariance(x, y)
    first_variance, second_variance = covariance(x, x), covariance(y, y)
    if shared is None or not first_variance or not second_variance:
        return None
    return shared / (first_variance * second_variance).sqrt()
