"""Daily track records: calendar days in UTC. The as-of date is the newest selected valid close
of any configured agent. An agent's daily return is the sum of the returns of its selected
valid trades closing that day; 0 on a day without one, from the day of its oldest selected
valid trade to the as-of date; undefined before. Daily volatility is the sample standard
deviation (n - 1) of those days, unweighted; the daily Sharpe, (mean - rf / 365 x 100) / std,
annualised with sqrt(365). Users compare Maestro with their backtester's Sharpe, which is
time-based: both are reported. Must run inside ENGINE_CONTEXT."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import repeat
from operator import mul, sub
from typing import Final, NamedTuple

from .returns import TradeTrack

DAYS_PER_YEAR: Final = 365
_ZERO: Final = Decimal(0)
_HUNDRED: Final = Decimal(100)


class Centred(NamedTuple):
    """A record's newest days, each less their mean (covariance.py's deviations), and the sum
    of their squares: sum(d x d) from 0, in order."""

    deviations: tuple[Decimal, ...]
    squares: Decimal


@dataclass(frozen=True, slots=True)
class DailyRecord:
    """One return per calendar day from `start` to the as-of date (none: no valid trade)."""

    start: dt.date | None
    returns_pct: tuple[Decimal, ...]
    # The whole record centred, once worked out: HRP's pairs and the exposure's ask each agent
    # for it again and again (in a pair, the shorter record is whole). A longer record's newest
    # days are asked for once a pair and not kept: kept by count, they grew with agents^2 x days
    # (161 MB at 64 agents x 500 trades starting on different days, held by a warm instance).
    _whole: list[Centred] = field(default_factory=list, init=False, repr=False, compare=False)

    def centred(self, count: int) -> Centred:
        """The newest `count` days centred on their mean (sum / count), in the current context
        (ENGINE_CONTEXT: the whole record's is kept, it is not worked out again)."""
        whole = count == len(self.returns_pct)
        if whole and self._whole:
            return self._whole[0]
        days = self.returns_pct[len(self.returns_pct) - count :]
        deviations = tuple(map(sub, days, repeat(sum(days, _ZERO) / count)))
        centred = Centred(deviations, sum(map(mul, deviations, deviations), _ZERO))
        if whole:
            self._whole.append(centred)
        return centred


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
    first = start.toordinal()  # a day's place by ordinals: no timedelta a trade
    totals = [_ZERO] * ((as_of - start).days + 1)
    for value, day in zip(track.returns_pct, days, strict=True):
        totals[day.toordinal() - first] += value
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
