"""Daily track records: calendar days in UTC. The as-of date is the newest selected valid close
of any configured agent. An agent's daily return is the sum of the returns of its selected
valid trades closing that day; 0 on a day without one, from the day of its oldest selected
valid trade to the as-of date; undefined before. Daily volatility is the sample standard
deviation (n - 1) of those days, unweighted; the daily Sharpe, (mean - rf / 365 x 100) / std,
annualised with sqrt(365). Users compare Maestro with their backtester's Sharpe, which is
time-based: both are reported. Must run inside ENGINE_CONTEXT."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from .returns import TradeTrack

DAYS_PER_YEAR: Final = 365
_ZERO: Final = Decimal(0)
_HUNDRED: Final = Decimal(100)


@dataclass(frozen=True, slots=True)
class DailyRecord:
    """One return per calendar day from `start` to the as-of date (none: no valid trade)."""

    start: dt.date | None
    returns_pct: tuple[Decimal, ...]

    def overlap(self, other: DailyRecord) -> tuple[tuple[Decimal, ...], tuple[Decimal, ...]]:
        """Both records over the days on which both are defined (they end on the same day)."""
        count = min(len(self.returns_pct), len(other.returns_pct))
        return self.returns_pct[len(self.returns_pct) - count :], other.returns_pct[
            len(other.returns_pct) - count :
        ]


@dataclass(frozen=True, slots=True)
class DailyStatistics:
    days: int
    volatility_pct: Decimal | None  # None below 2 days
    sharpe_annualised: Decimal | None  # None below 2 days or with no volatility


def daily_record(track: TradeTrack, as_of: dt.date | None) -> DailyRecord:
    days = track.days
    if not days or as_of is None:
        return DailyRecord(None, ())
    start = min(days)
    totals = [_ZERO] * ((as_of - start).days + 1)
    for value, day in zip(track.returns_pct, days, strict=True):
        totals[(day - start).days] += value
    return DailyRecord(start, tuple(totals))


def sample_variance(values: tuple[Decimal, ...]) -> Decimal | None:
    if len(values) < 2:
        return None
    mean = sum(values, _ZERO) / len(values)
    return sum(((value - mean) ** 2 for value in values), _ZERO) / (len(values) - 1)


def daily_statistics(record: DailyRecord, risk_free_rate_annual: Decimal) -> DailyStatistics:
    days = record.returns_pct
    variance = sample_variance(days)
    if variance is None:
        return DailyStatistics(len(days), None, None)
    volatility = variance.sqrt()
    if volatility == 0:
        return DailyStatistics(len(days), volatility, None)
    mean = sum(days, _ZERO) / len(days)
    excess = mean - risk_free_rate_annual / DAYS_PER_YEAR * _HUNDRED
    return DailyStatistics(
        len(days), volatility, excess / volatility * Decimal(DAYS_PER_YEAR).sqrt()
    )
