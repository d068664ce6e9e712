# The first version's engine, frozen (commit bb3222c): the oracle that engine v2 with no new
# option set must reproduce to the digit (test_defaults_unchanged.py). Do not edit.

# ruff: noqa
# mypy: ignore-errors
"""Trade journal entries -> per-agent percentage returns, with the reason for every rejection.

The selection rule mirrors the Firestore query Maestro runs for each agent
(`where agent_id == X order by closed_at desc limit lookback_trades`), so that an offline run on a
journal file and a Cloud Functions run on the same documents see the same trades.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Final

# Amounts outside this band are refused: no real trade needs them, and they keep every
# intermediate value far from the Decimal context's exponent limits.
MAX_ABS_AMOUNT: Final = Decimal("1e15")
MIN_ABS_NONZERO_AMOUNT: Final = Decimal("1e-15")
MAX_AMOUNT_TEXT_LENGTH: Final = 64
_MIN_ADJUSTED: Final = MIN_ABS_NONZERO_AMOUNT.adjusted()
_MAX_ADJUSTED: Final = MAX_ABS_AMOUNT.adjusted() - 1
_HUNDRED: Final = Decimal(100)
_UTC: Final = dt.UTC


class Rejection(StrEnum):
    """Why a closed trade of a configured agent was not used."""

    REALIZED_PNL_MISSING = "realized_pnl_missing"
    REALIZED_PNL_INVALID = "realized_pnl_invalid"
    ENTRY_PRICE_MISSING = "entry_price_missing"
    ENTRY_PRICE_INVALID = "entry_price_invalid"
    QUANTITY_MISSING = "quantity_missing"
    QUANTITY_INVALID = "quantity_invalid"
    NON_POSITIVE_CAPITAL = "non_positive_capital"
    CLOSED_AT_INVALID = "closed_at_invalid"


# The amounts a return needs, with the rejection for each when missing or invalid.
_AMOUNT_FIELDS: Final = (
    ("realized_pnl", Rejection.REALIZED_PNL_MISSING, Rejection.REALIZED_PNL_INVALID),
    ("entry_price", Rejection.ENTRY_PRICE_MISSING, Rejection.ENTRY_PRICE_INVALID),
    ("quantity", Rejection.QUANTITY_MISSING, Rejection.QUANTITY_INVALID),
)


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One trade journal document: its id and its fields, as Firestore or a file gave them."""

    trade_id: str
    data: Mapping[str, Any]


@dataclass(slots=True)
class AgentTrades:
    """What the selection kept for one agent: the returns in percent, newest first, and the
    rejected trades counted by reason."""

    returns_pct: list[Decimal] = field(default_factory=list)
    rejected: Counter[Rejection] = field(default_factory=Counter)


def parse_amount(value: object) -> Decimal | None:
    """A finite decimal from a journal amount (a decimal string or a JSON number), or None when
    the value is not one: None, booleans, '', 'NaN', 'Infinity', maps, lists, out-of-range
    magnitudes. Floats go through their shortest repr, never their binary expansion."""
    # The hot path of the engine (3 calls per trade): the common case, a plain decimal string,
    # costs one type check, one Decimal() and one exponent check.
    if type(value) is str:
        # Decimal() also takes '1_000', 'NaN', 'Infinity' and 'sNaN'; the first is refused here,
        # the others by is_finite().
        if len(value) > MAX_AMOUNT_TEXT_LENGTH or "_" in value:
            return None
        try:
            amount = Decimal(value)
        except InvalidOperation:
            return None
        if not amount.is_finite():
            return None
    elif isinstance(value, bool):
        return None
    elif isinstance(value, int):
        if abs(value) > MAX_ABS_AMOUNT:
            return None
        amount = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            return None
        amount = Decimal(repr(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            return None
        amount = value
    else:
        return None
    # |amount| in [1e-15, 1e15) for sure when the leading digit's exponent is in [-15, 14];
    # only the rare rest needs the exact comparison.
    if not amount or _MIN_ADJUSTED <= amount.adjusted() <= _MAX_ADJUSTED:
        return amount
    magnitude = abs(amount)
    if magnitude > MAX_ABS_AMOUNT or magnitude < MIN_ABS_NONZERO_AMOUNT:
        return None
    return amount


def trade_return_pct(data: Mapping[str, Any]) -> Decimal | Rejection:
    """return (percent) = realized_pnl / (entry_price x |quantity|) x 100, or why it has none.
    Must run inside the engine's Decimal context (see weighting.ENGINE_CONTEXT)."""
    amounts = []
    for name, missing, invalid in _AMOUNT_FIELDS:
        raw = data.get(name)
        if raw is None:
            return missing
        amount = parse_amount(raw)
        if amount is None:
            return invalid
        amounts.append(amount)
    pnl, price, quantity = amounts
    capital = price * abs(quantity)
    if capital <= 0:
        return Rejection.NON_POSITIVE_CAPITAL
    return pnl * _HUNDRED / capital


def select_agent_trades(
    entries: Iterable[JournalEntry], agent_ids: Iterable[str], lookback_trades: int
) -> dict[str, AgentTrades]:
    """Per configured agent: its `lookback_trades` most recent closed trades (closed_at
    descending, in Firestore's order), turned into returns. Open trades (closed_at missing or
    null) and other agents' trades are ignored; invalid trades among the selected ones are counted
    as rejected, not replaced by older ones."""
    candidates: dict[str, list[tuple[tuple[Any, ...], JournalEntry]]] = {
        agent_id: [] for agent_id in agent_ids
    }
    for entry in entries:
        agent_id = entry.data.get("agent_id")
        if not isinstance(agent_id, str) or agent_id not in candidates:
            continue
        closed_at = entry.data.get("closed_at")
        if closed_at is None:
            continue
        candidates[agent_id].append((_closed_at_order_key(closed_at, entry.trade_id), entry))

    selected: dict[str, AgentTrades] = {}
    for agent_id, ranked in candidates.items():
        ranked.sort(key=lambda pair: pair[0], reverse=True)
        trades = AgentTrades()
        for _, entry in ranked[:lookback_trades]:
            closed_at = entry.data["closed_at"]
            outcome = (
                trade_return_pct(entry.data)
                if isinstance(closed_at, dt.datetime)
                else Rejection.CLOSED_AT_INVALID
            )
            if isinstance(outcome, Rejection):
                trades.rejected[outcome] += 1
            else:
                trades.returns_pct.append(outcome)
        selected[agent_id] = trades
    return selected


# Firestore orders values of different types by type first: null < booleans < numbers <
# timestamps < strings < bytes < references < geo points < arrays < maps. A closed_at of the
# wrong type therefore sorts before every timestamp in a descending query and takes a slot.
TIMESTAMP_RANK: Final = 3
STRING_RANK: Final = 4


def closed_at_rank(closed_at: object) -> int:
    """The rank of closed_at's type in Firestore's order (None is never asked: open trades)."""
    if isinstance(closed_at, dt.datetime):
        return TIMESTAMP_RANK
    if isinstance(closed_at, str):
        return STRING_RANK
    if isinstance(closed_at, bool):
        return 1
    if isinstance(closed_at, int | float | Decimal):
        return 2
    if isinstance(closed_at, bytes):
        return 5
    if isinstance(closed_at, list):
        return 8
    if isinstance(closed_at, Mapping):
        return 9
    return 6


def _closed_at_order_key(closed_at: object, trade_id: str) -> tuple[Any, ...]:
    if isinstance(closed_at, dt.datetime):
        # A naive datetime (a file without an offset) is read as UTC.
        return (3, closed_at if closed_at.tzinfo else closed_at.replace(tzinfo=_UTC), trade_id)
    if isinstance(closed_at, str):
        return (4, closed_at, trade_id)
    # Within the other wrong types only determinism matters: they are all rejected.
    return (closed_at_rank(closed_at), repr(closed_at), trade_id)
