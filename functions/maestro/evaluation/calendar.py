"""The evaluation's calendar: every UTC date from the first to the last valid close of a
configured agent, and each agent's daily return on it, the sum of the simple returns (percent)
of its valid trades closing that date, 0 when none. Every policy earns these same returns; a
policy's own return_transform or basis changes only how it scores. Must run inside
ENGINE_CONTEXT."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from ..journal import TIMESTAMP_RANK, ClosedTrade, JournalEntry, select_agent_trades
from ..methods import ReturnBasis, ReturnTransform
from ..methods.returns import trade_return

_ZERO: Final = Decimal(0)


@dataclass(frozen=True, slots=True)
class Calendar:
    dates: tuple[dt.date, ...]
    returns_pct: Mapping[str, tuple[Decimal, ...]]  # per agent, one per date
    first_valid: Mapping[str, dt.date | None]  # each agent's first valid close


def dated_trades(
    entries: Iterable[JournalEntry], agent_ids: Sequence[str]
) -> dict[str, list[ClosedTrade]]:
    """Each configured agent's closed trades with a timestamp, oldest first (ascending
    order_key): the engine's own selection with no lookback, reversed. A closed_at of another
    type has no date: such trades cannot be replayed and are left out (the weights command
    still counts them)."""
    entries = list(entries)
    selected = select_agent_trades(entries, agent_ids, max(1, len(entries)))
    return {
        agent: [trade for trade in reversed(trades) if trade.closed_at_rank == TIMESTAMP_RANK]
        for agent, trades in selected.items()
    }


def day_of(trade: ClosedTrade) -> dt.date:
    assert isinstance(trade.closed_at, dt.datetime)
    return trade.closed_at.date()


def build_calendar(
    trades: Mapping[str, Sequence[ClosedTrade]], basis: ReturnBasis
) -> Calendar | None:
    """None when no configured agent has a valid trade on the basis."""
    valid: dict[str, list[tuple[dt.date, Decimal]]] = {agent: [] for agent in trades}
    for agent, agent_trades in trades.items():
        for trade in agent_trades:
            outcome = trade_return(trade, ReturnTransform.SIMPLE, basis)
            if type(outcome) is Decimal:
                valid[agent].append((day_of(trade), outcome))
    days = [day for returns in valid.values() for day, _ in returns]
    if not days:
        return None
    first, last = min(days), max(days)
    dates = tuple(first + dt.timedelta(days=i) for i in range((last - first).days + 1))
    returns_pct: dict[str, tuple[Decimal, ...]] = {}
    for agent, returns in valid.items():
        totals = [_ZERO] * len(dates)
        for day, value in returns:
            totals[(day - first).days] += value
        returns_pct[agent] = tuple(totals)
    first_valid = {agent: min((d for d, _ in r), default=None) for agent, r in valid.items()}
    return Calendar(dates, returns_pct, first_valid)
