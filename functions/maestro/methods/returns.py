"""An agent's per-trade track record: the return of each selected valid trade, newest first,
on the notional or the allocated basis, simple or log, and each trade's weight when the record
decays with a half-life. Must run inside ENGINE_CONTEXT."""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from operator import attrgetter
from typing import Final, cast

from ..journal import ClosedTrade, ClosedTradeColumns, Rejection, return_pct_on
from ..precision import ENGINE_CONTEXT
from . import ReturnBasis, ReturnTransform

_HUNDRED: Final = Decimal(100)
_TWO: Final = Decimal(2)


@dataclass(frozen=True, slots=True)
class TradeTrack:
    """Valid returns in percent, newest first; `weights` (newest first, summing to 1) when the
    record decays with a half-life, None for equal weights; rejected trades by reason; the UTC
    instant each valid return closed (its day: the daily record, daily.py)."""

    returns_pct: tuple[Decimal, ...]
    weights: tuple[Decimal, ...] | None = None
    rejected: Mapping[Rejection, int] = field(default_factory=dict)
    closes: Sequence[dt.datetime] = ()
    # For each valid return, its place among the selected trades (0 the newest).
    positions: tuple[int, ...] = ()

    @property
    def days(self) -> tuple[dt.date, ...]:
        """The UTC day each valid return closed. Worked out when asked (the daily record):
        with the defaults only the newest is read (newest_day)."""
        return tuple(map(_DATE, self.closes))

    @property
    def newest_day(self) -> dt.date | None:
        return max(self.closes).date() if self.closes else None

    def newest(self, selected: int, half_life_trades: int | None) -> TradeTrack:
        """The track record of the newest `selected` selected trades alone (an analysis
        lookback): rejected trades keep their places, the half-life weights start again."""
        count = bisect.bisect_left(self.positions, selected)
        weights = half_life_weights(count, half_life_trades) if half_life_trades else None
        return TradeTrack(
            self.returns_pct[:count], weights, {}, self.closes[:count], self.positions[:count]
        )


def trade_track(
    trades: Sequence[ClosedTrade],
    transform: ReturnTransform = ReturnTransform.SIMPLE,
    basis: ReturnBasis = ReturnBasis.NOTIONAL,
    half_life_trades: int | None = None,
) -> TradeTrack:
    """The track record of an agent's selected trades (newest first). Rejected trades keep
    their place in the selection and add nothing."""
    # Trades built a column at a time (the CLI's typed path) have their returns and closes as
    # columns already, and every return valid: 200,000 trades' fields read one by one, their
    # types checked and their days worked out were 30 ms (docs/performance.md 7).
    columns = trades if isinstance(trades, ClosedTradeColumns) else None
    outcomes: Sequence[Decimal | Rejection]
    if basis is ReturnBasis.NOTIONAL:
        # Each trade's notional return was computed once, when it was built; trade_return()
        # inlined (a call a trade).
        outcomes = (
            columns.notional_return if columns is not None else list(map(_NOTIONAL_RETURN, trades))
        )
        if transform is ReturnTransform.LOG:  # log_return_pct() inlined (a call a trade)
            outcomes = [log_return_of_text(str(o)) if type(o) is Decimal else o for o in outcomes]
    else:
        outcomes = [trade_return(trade, transform, basis) for trade in trades]
    closes = (
        columns.closed_at
        if columns is not None
        else tuple(map(_CLOSED_AT, trades))  # a rejected trade's may be text: filtered below
    )
    every_valid = (
        columns is not None
        and basis is ReturnBasis.NOTIONAL
        and transform is ReturnTransform.SIMPLE
    )
    # map() and count() over every trade, each agent, every run: 4-8% faster than the loops
    # written out (measured at 100 and 1,000 trades).
    positions: Sequence[int] = range(len(outcomes))
    rejected: dict[Rejection, int] = {}
    if not every_valid and list(map(type, outcomes)).count(Decimal) < len(outcomes):
        positions = [p for p, outcome in enumerate(outcomes) if type(outcome) is Decimal]
        rejected = dict(Counter(o for o in outcomes if type(o) is Rejection))
        outcomes = [outcomes[p] for p in positions]
        closes = tuple(closes[p] for p in positions)
    returns = tuple(cast(Sequence[Decimal], outcomes))
    weights = half_life_weights(len(returns), half_life_trades) if half_life_trades else None
    valid_closes = cast(Sequence[dt.datetime], closes)  # a valid trade's closed_at: a datetime
    return TradeTrack(returns, weights, rejected, valid_closes, tuple(positions))


_NOTIONAL_RETURN: Final = attrgetter("notional_return")
_CLOSED_AT: Final = attrgetter("closed_at")
_DATE: Final = dt.datetime.date  # valid trades' closes: UTC datetimes


def trade_return(
    trade: ClosedTrade, transform: ReturnTransform, basis: ReturnBasis
) -> Decimal | Rejection:
    """One trade's return (percent) on a basis, simple or log, or why it has none."""
    if basis is ReturnBasis.NOTIONAL:
        outcome = trade.notional_return
    else:
        outcome = return_pct_on(trade.closed_at_rank, trade.realized_pnl, trade.allocated_capital)
    if type(outcome) is Decimal and transform is ReturnTransform.LOG:
        return log_return_pct(outcome)
    return outcome


# Decimal.ln costs 22-25 us at 50 digits; a warm instance hands the same window trades to every
# close, so the logarithms of the last LOG_RETURNS_KEPT simple returns are kept (about 4 MB).
LOG_RETURNS_KEPT: Final = 16_384


def log_return_pct(simple_pct: Decimal) -> Decimal | Rejection:
    """100 x ln(1 + r / 100); a loss of the whole capital or more has none. Computed in
    ENGINE_CONTEXT, whatever the caller's context (the result is kept: log_return_of_text)."""
    return log_return_of_text(str(simple_pct))


@functools.lru_cache(maxsize=LOG_RETURNS_KEPT)
def log_return_of_text(simple_pct: str) -> Decimal | Rejection:
    """log_return_pct() of Decimal(simple_pct), kept by the return's text: looking a return up
    by its text costs about 0.2 us; by the Decimal itself, 0.8 us when the Decimal is new (its
    hash is worked out then: every return of a fresh read of the journal) and next to nothing
    after. The text names the Decimal exactly (digits and exponent), and the logarithm depends
    on its value alone: 0 for 0, 0.0 and 0E-30, and any other growth's logarithm irrational,
    rounded to 50 digits."""
    with localcontext(ENGINE_CONTEXT):
        growth = 1 + Decimal(simple_pct) / _HUNDRED
        if growth <= 0:
            return Rejection.LOSS_EXCEEDS_CAPITAL
        return _HUNDRED * growth.ln()


@functools.lru_cache(maxsize=64)
def half_life_weights(count: int, half_life: int) -> tuple[Decimal, ...]:
    """w_i proportional to 2^(-i / half_life), i = 0 for the newest, normalised to 1
    (skfolio's EWMu: lambda = 2^(-1/half_life)). Kept per (count, half-life): every agent with
    a full window, and every run, asks for the same ones (computed in ENGINE_CONTEXT, whatever
    the caller's context)."""
    if count == 0:
        return ()
    with localcontext(ENGINE_CONTEXT):
        return _half_life_weights(count, half_life)


def _half_life_weights(count: int, half_life: int) -> tuple[Decimal, ...]:
    decay = _TWO ** (Decimal(-1) / half_life)
    raw = [Decimal(1)]
    for _ in range(count - 1):  # decay^i by successive products: a power each costs 30 of them
        raw.append(raw[-1] * decay)
    scale = 1 / sum(raw, Decimal(0))
    return tuple([w * scale for w in raw])
