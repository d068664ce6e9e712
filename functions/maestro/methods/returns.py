"""An agent's per-trade track record: the return of each selected valid trade, newest first,
on the notional or the allocated basis, simple or log, and each trade's weight when the record
decays with a half-life. Must run inside ENGINE_CONTEXT."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from ..journal import ClosedTrade, Rejection, return_pct_on
from . import ReturnBasis, ReturnTransform

_HUNDRED: Final = Decimal(100)
_TWO: Final = Decimal(2)


@dataclass(frozen=True, slots=True)
class TradeTrack:
    """Valid returns in percent, newest first; `weights` (newest first, summing to 1) when the
    record decays with a half-life, None for equal weights; rejected trades by reason; the UTC
    day each valid return closed (for the daily record, daily.py)."""

    returns_pct: tuple[Decimal, ...]
    weights: tuple[Decimal, ...] | None = None
    rejected: Mapping[Rejection, int] = field(default_factory=dict)
    days: tuple[dt.date, ...] = ()


def trade_track(
    trades: Sequence[ClosedTrade],
    transform: ReturnTransform = ReturnTransform.SIMPLE,
    basis: ReturnBasis = ReturnBasis.NOTIONAL,
    half_life_trades: int | None = None,
) -> TradeTrack:
    """The track record of an agent's selected trades (newest first). Rejected trades keep
    their place in the selection and add nothing."""
    returns: list[Decimal] = []
    days: list[dt.date] = []
    rejected: Counter[Rejection] = Counter()
    if basis is ReturnBasis.NOTIONAL and transform is ReturnTransform.SIMPLE:
        # The default, on every run: each trade's return is computed once, when it is built.
        for trade in trades:
            outcome = trade.notional_return
            if isinstance(outcome, Rejection):
                rejected[outcome] += 1
            else:
                returns.append(outcome)
                days.append(trade.closed_at.date())  # type: ignore[union-attr]
        trades = ()
    for trade in trades:
        if basis is ReturnBasis.NOTIONAL:
            outcome = trade.notional_return
        else:
            outcome = return_pct_on(
                trade.closed_at_rank, trade.realized_pnl, trade.allocated_capital
            )
        if not isinstance(outcome, Rejection) and transform is ReturnTransform.LOG:
            outcome = log_return_pct(outcome)
        if isinstance(outcome, Rejection):
            rejected[outcome] += 1
        else:
            returns.append(outcome)
            days.append(trade.closed_at.date())  # type: ignore[union-attr]
    weights = half_life_weights(len(returns), half_life_trades) if half_life_trades else None
    return TradeTrack(tuple(returns), weights, dict(rejected), tuple(days))


def log_return_pct(simple_pct: Decimal) -> Decimal | Rejection:
    """100 x ln(1 + r / 100); a loss of the whole capital or more has none."""
    growth = 1 + simple_pct / _HUNDRED
    if growth <= 0:
        return Rejection.LOSS_EXCEEDS_CAPITAL
    return _HUNDRED * growth.ln()


def half_life_weights(count: int, half_life: int) -> tuple[Decimal, ...]:
    """w_i proportional to 2^(-i / half_life), i = 0 for the newest, normalised to 1
    (skfolio's EWMu: lambda = 2^(-1/half_life))."""
    if count == 0:
        return ()
    decay = _TWO ** (Decimal(-1) / half_life)
    raw = [decay**i for i in range(count)]
    total = sum(raw, Decimal(0))
    return tuple(w / total for w in raw)
