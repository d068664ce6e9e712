"""Trade journal entries -> closed trades -> per-agent percentage returns, with the reason for
every rejection. The one place that orders trades and computes returns: the offline engine, the
per-agent queries and the rolling windows (window.py) all go through ClosedTrade.

The selection rule mirrors the Firestore query Maestro runs for each agent
(`where agent_id == X order by closed_at desc limit lookback_trades`), so that an offline run on a
journal file and a Cloud Functions run on the same documents see the same trades.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext
from enum import StrEnum
from itertools import repeat
from operator import itemgetter
from typing import Any, Final, NamedTuple, overload

from .precision import ENGINE_CONTEXT

# Amounts outside this band are refused: no real trade needs them, and they keep every
# intermediate value far from the Decimal context's exponent limits.
MAX_ABS_AMOUNT: Final = Decimal("1e15")
MIN_ABS_NONZERO_AMOUNT: Final = Decimal("1e-15")
MAX_AMOUNT_TEXT_LENGTH: Final = 64
AMOUNT_MIN_ADJUSTED: Final = MIN_ABS_NONZERO_AMOUNT.adjusted()
AMOUNT_MAX_ADJUSTED: Final = MAX_ABS_AMOUNT.adjusted() - 1
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
    # The capital Maestro allocated to the agent when the trade opened (an optional field, the
    # basis of returns on allocated capital).
    ALLOCATED_CAPITAL_MISSING = "allocated_capital_missing"
    ALLOCATED_CAPITAL_INVALID = "allocated_capital_invalid"
    NON_POSITIVE_ALLOCATED_CAPITAL = "non_positive_allocated_capital"
    # With return_transform log: a loss of the whole capital or more has no logarithm.
    LOSS_EXCEEDS_CAPITAL = "loss_exceeds_capital"
    # An amount written for people, not as a plain decimal ("1,234.50", "$12", "12%", "(5)"):
    # never parsed by guess (a thousands separator in one locale is the decimal point in
    # another).
    AMOUNT_FORMAT = "amount_format"


class JournalEntry(NamedTuple):
    """One trade journal document: its id and its fields, as Firestore or a file gave them (a
    tuple: immutable, and cheap to build for every row of a large file)."""

    trade_id: str
    data: Mapping[str, Any]


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
        # Exactly a Decimal: the engine tells an amount from a Rejection by its type.
        amount = value if type(value) is Decimal else Decimal(value)
    else:
        return None
    # |amount| in [1e-15, 1e15) for sure when the leading digit's exponent is in [-15, 14];
    # only the rare rest needs the exact comparison.
    if not amount or AMOUNT_MIN_ADJUSTED <= amount.adjusted() <= AMOUNT_MAX_ADJUSTED:
        return amount
    # copy_abs(), not abs(): abs() rounds in the current context, and an exponent beyond
    # the engine context's (a text such as "1e999999999") would raise Overflow there
    magnitude = amount.copy_abs()
    if magnitude > MAX_ABS_AMOUNT or magnitude < MIN_ABS_NONZERO_AMOUNT:
        return None
    return amount


# Firestore orders values of different types by type first: null < booleans < numbers <
# timestamps < strings < bytes < references < geo points < arrays < maps. A closed_at of the
# wrong type therefore sorts before every timestamp in a descending query and takes a slot.
TIMESTAMP_RANK: Final = 3
STRING_RANK: Final = 4


class ClosedAtOrder(StrEnum):
    """How the journal's source orders closed_at, and so which closed trades a lookback slot
    can go to (the caller says: select_agent_trades, compute_weights)."""

    # Documents read from Firestore, or standing in for them (the functions, the windows, the
    # engine by default): every closed_at sorts where Firestore sorts it, so one that is not a
    # timestamp takes a slot (and is rejected there), as the query's limit gives it one.
    FIRESTORE = "firestore"
    # A journal file (the CLI): only timestamps are in time order; a closed_at that is not one
    # never takes a slot, so it cannot push valid trades out of the lookback (the load summary
    # counts it as rejected, closed_at_invalid).
    TIMESTAMPS_ONLY = "timestamps_only"


def closed_at_order(closed_at: object) -> tuple[int, dt.datetime | str]:
    """Where a closed_at value sorts, as Firestore sorts it: the rank of its type, then a value
    of that rank (a UTC datetime for timestamps, the text for strings, a deterministic text for
    the other wrong types). Within one of those other ranks the order may differ from
    Firestore's (numbers by value there, by text here), which never changes a result: they are
    all rejected for the same reason, so whichever of them fill a window's last places, its
    counts are the same. Never asked for None: that trade is open."""
    if isinstance(closed_at, dt.datetime):
        return TIMESTAMP_RANK, _as_utc(closed_at)
    if isinstance(closed_at, str):
        return STRING_RANK, closed_at
    if isinstance(closed_at, bool):
        rank = 1
    elif isinstance(closed_at, int | float | Decimal):
        rank = 2
    elif isinstance(closed_at, bytes):
        rank = 5
    elif isinstance(closed_at, list):
        rank = 8
    elif isinstance(closed_at, Mapping):
        rank = 9
    else:
        rank = 6
    return rank, repr(closed_at)


# An amount or return is a Decimal or a Rejection, told apart by `type(x) is Decimal`: a third
# of the cost of isinstance(x, Rejection) (on an enum's metaclass it takes the slow path), and
# the engine asks it of every selected trade. parse_amount() returns exact Decimals.


class ClosedTrade(NamedTuple):
    """One closed trade as every method reads it: when it closed (its place in the order) and
    each amount a return can rest on, parsed, or the reason it cannot be used. Built by
    closed_trade() (a tuple: immutable, and cheap to build for every trade of a journal).

    `closed_at` is a UTC datetime when `closed_at_rank` is TIMESTAMP_RANK; otherwise the value
    had the wrong type, sorts where Firestore sorts it, and the trade is rejected. The notional
    capital is entry_price x |quantity|, computed in ENGINE_CONTEXT; `notional_return` is the
    return on it, computed once when the trade is built (a window's trades are read by every
    run while they stay in it)."""

    trade_id: str
    closed_at_rank: int
    closed_at: dt.datetime | str
    realized_pnl: Decimal | Rejection
    notional_capital: Decimal | Rejection
    allocated_capital: Decimal | Rejection
    notional_return: Decimal | Rejection

    @property
    def order_key(self) -> tuple[int, dt.datetime | str, str]:
        """Sorting descending by this is Firestore's descending closed_at order: ties on
        closed_at fall to the document id."""
        return (self.closed_at_rank, self.closed_at, self.trade_id)

    def return_pct(self) -> Decimal | Rejection:
        """return (percent) = realized_pnl / (entry_price x |quantity|) x 100, or why there is
        none (closed_at, then realized_pnl, then the capital, in that order)."""
        return self.notional_return


class TradeAmounts(NamedTuple):
    """The amounts of some trades a return can rest on, a column each, parsed."""

    realized_pnl: Sequence[Decimal]
    notional_capital: Sequence[Decimal]
    allocated_capital: Sequence[Decimal | Rejection]


@dataclass(frozen=True, slots=True, eq=False)
class ClosedTradeColumns(Sequence[ClosedTrade]):
    """An agent's selected trades built a column at a time (the CLI's typed path,
    typed_journal), kept as columns: read as a sequence, it gives the ClosedTrades the exact
    path builds, field for field. Every one closed at a UTC timestamp with a valid notional
    return (Decimals all): the engine reads the return and close columns as they are
    (returns.trade_track) instead of a field of 1,000 tuples an agent.

    The amounts the returns rest on come from `amounts`, worked out when a trade is first read
    whole (the allocated basis, a test): on the notional basis nothing reads them, and at 200
    agents x 1,000 trades keeping them meant 400,000 more Decimals alive to the end of the
    run (47 MB, and 25 ms of the whole process in page faults, docs/performance.md 7)."""

    trade_id: Sequence[str]
    closed_at: Sequence[dt.datetime]
    notional_return: tuple[Decimal, ...]
    amounts: Callable[[], TradeAmounts]

    def __len__(self) -> int:
        return len(self.notional_return)

    @overload
    def __getitem__(self, index: int) -> ClosedTrade: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[ClosedTrade, ...]: ...

    def __getitem__(self, index: int | slice) -> ClosedTrade | tuple[ClosedTrade, ...]:
        if isinstance(index, slice):
            return tuple(self)[index]
        pnl, notional, allocated = self.amounts()
        return ClosedTrade(
            self.trade_id[index],
            TIMESTAMP_RANK,
            self.closed_at[index],
            pnl[index],
            notional[index],
            allocated[index],
            self.notional_return[index],
        )

    def __iter__(self) -> Iterator[ClosedTrade]:
        pnl, notional, allocated = self.amounts()
        columns = zip(
            self.trade_id,
            repeat(TIMESTAMP_RANK, len(self)),
            self.closed_at,
            pnl,
            notional,
            allocated,
            self.notional_return,
            strict=True,
        )
        return map(_new_trade, repeat(ClosedTrade), columns)


def return_pct_on(
    rank: int, pnl: Decimal | Rejection, capital: Decimal | Rejection
) -> Decimal | Rejection:
    """The return formula and its rejections, in order (closed_at, realized_pnl, the capital).
    Must run inside ENGINE_CONTEXT."""
    if rank != TIMESTAMP_RANK:
        return Rejection.CLOSED_AT_INVALID
    if type(pnl) is not Decimal:
        return pnl
    if type(capital) is not Decimal:
        return capital
    return pnl * _HUNDRED / capital


def closed_trade(entry: JournalEntry) -> ClosedTrade | None:
    """The journal document as a closed trade, or None while it is open (closed_at missing or
    null: a descending query puts those last, where they never matter)."""
    closed_at = entry.data.get("closed_at")
    if closed_at is None:
        return None
    with localcontext(ENGINE_CONTEXT):
        return _closed_trade(entry, *closed_at_order(closed_at))


def _closed_trade(entry: JournalEntry, rank: int, moment: dt.datetime | str) -> ClosedTrade:
    """closed_trade() once closed_at is ordered. Must run inside ENGINE_CONTEXT (the capital's
    product is rounded there). The engine's hot path, every selected trade: flat on purpose."""
    data = entry.data
    # _amount() inlined for the three amounts every trade has (a call each is a third of it).
    raw = data.get("realized_pnl")
    pnl: Decimal | Rejection | None = _PNL_MISSING if raw is None else parse_amount(raw)
    if pnl is None:
        pnl = _invalid(raw, _PNL_INVALID)
    raw = data.get("entry_price")
    notional: Decimal | Rejection | None = _PRICE_MISSING if raw is None else parse_amount(raw)
    if notional is None:
        notional = _invalid(raw, _PRICE_INVALID)
    elif type(notional) is Decimal:
        raw = data.get("quantity")
        quantity = _QUANTITY_MISSING if raw is None else parse_amount(raw)
        if quantity is None:
            notional = _invalid(raw, _QUANTITY_INVALID)
        elif type(quantity) is Decimal:
            notional = notional * abs(quantity)
            if notional <= 0:
                notional = Rejection.NON_POSITIVE_CAPITAL
        else:
            notional = quantity
    raw_allocated = data.get("allocated_capital")
    allocated: Decimal | Rejection = _ALLOCATED_MISSING
    if raw_allocated is not None:
        allocated = _amount(raw_allocated, _ALLOCATED_MISSING, _ALLOCATED_INVALID)
        if type(allocated) is Decimal and allocated <= 0:
            allocated = Rejection.NON_POSITIVE_ALLOCATED_CAPITAL
    # return_pct_on(), inlined (a call a trade).
    notional_return: Decimal | Rejection
    if rank != TIMESTAMP_RANK:
        notional_return = Rejection.CLOSED_AT_INVALID
    elif type(pnl) is not Decimal:
        notional_return = pnl
    elif type(notional) is not Decimal:
        notional_return = notional
    else:
        notional_return = pnl * _HUNDRED / notional
    return _new_trade(
        ClosedTrade, (entry.trade_id, rank, moment, pnl, notional, allocated, notional_return)
    )


def trade_from_parts(
    trade_id: str,
    rank: int,
    moment: dt.datetime | str,
    pnl: Decimal | Rejection,
    notional: Decimal | Rejection,
    allocated: Decimal | Rejection,
) -> ClosedTrade:
    """A ClosedTrade from its parsed parts, its return computed. Must run inside
    ENGINE_CONTEXT (the stored windows are decoded through here too)."""
    notional_return = return_pct_on(rank, pnl, notional)
    return _new_trade(
        ClosedTrade, (trade_id, rank, moment, pnl, notional, allocated, notional_return)
    )


# tuple.__new__ skips NamedTuple's Python-level constructor (half the cost, on the hot path).
_new_trade: Final = tuple.__new__


def newest_first(trades: Iterable[ClosedTrade]) -> list[ClosedTrade]:
    return sorted(trades, key=lambda trade: trade.order_key, reverse=True)


def select_agent_trades(
    entries: Iterable[JournalEntry],
    agent_ids: Iterable[str],
    lookback_trades: int,
    order: ClosedAtOrder = ClosedAtOrder.FIRESTORE,
) -> dict[str, tuple[ClosedTrade, ...]]:
    """Per configured agent: its `lookback_trades` most recent closed trades (closed_at
    descending, in Firestore's order), newest first. Open trades (closed_at missing or null) and
    other agents' trades are ignored; invalid trades among the selected ones stay (the engine
    counts them as rejected), never replaced by older ones. With TIMESTAMPS_ONLY, a trade whose
    closed_at is not a timestamp is left out before the slots are taken."""
    every_type = order is ClosedAtOrder.FIRESTORE
    candidates: dict[str, list[tuple[tuple[int, Any, str], JournalEntry]]] = {
        agent_id: [] for agent_id in agent_ids
    }
    for entry in entries:  # every document of a journal file: flat on purpose
        data = entry.data
        agent_id = data.get("agent_id")
        ranked = candidates.get(agent_id) if type(agent_id) is str else None
        if ranked is None:
            continue
        closed_at = data.get("closed_at")
        if closed_at is None:
            continue
        if type(closed_at) is dt.datetime and closed_at.tzinfo is _UTC:  # closed_at_order's
            ranked.append(((TIMESTAMP_RANK, closed_at, entry.trade_id), entry))  # common case
        else:
            rank, moment = closed_at_order(closed_at)
            if rank == TIMESTAMP_RANK or every_type:
                ranked.append(((rank, moment, entry.trade_id), entry))
    # Only the selected entries are parsed: the ordering needs closed_at alone.
    selected: dict[str, tuple[ClosedTrade, ...]] = {}
    with localcontext(ENGINE_CONTEXT):
        for agent_id, ranked in candidates.items():
            ranked.sort(key=_candidate_key, reverse=True)
            selected[agent_id] = tuple(
                _closed_trade(entry, key[0], key[1]) for key, entry in ranked[:lookback_trades]
            )
    return selected


_candidate_key: Final = itemgetter(0)  # (rank, closed_at, trade id): order_key


def _as_utc(moment: dt.datetime) -> dt.datetime:
    # A naive datetime (a file without an offset) is read as UTC.
    if moment.tzinfo is _UTC:
        return moment
    return moment.astimezone(_UTC) if moment.tzinfo else moment.replace(tzinfo=_UTC)


_PNL_MISSING: Final = Rejection.REALIZED_PNL_MISSING
_PNL_INVALID: Final = Rejection.REALIZED_PNL_INVALID
_PRICE_MISSING: Final = Rejection.ENTRY_PRICE_MISSING
_PRICE_INVALID: Final = Rejection.ENTRY_PRICE_INVALID
_QUANTITY_MISSING: Final = Rejection.QUANTITY_MISSING
_QUANTITY_INVALID: Final = Rejection.QUANTITY_INVALID
_ALLOCATED_MISSING: Final = Rejection.ALLOCATED_CAPITAL_MISSING
_ALLOCATED_INVALID: Final = Rejection.ALLOCATED_CAPITAL_INVALID


def _amount(raw: object, missing: Rejection, invalid: Rejection) -> Decimal | Rejection:
    if raw is None:
        return missing
    amount = parse_amount(raw)
    return _invalid(raw, invalid) if amount is None else amount


# Digits with what people write around them: separators, a sign, a currency, a percent sign,
# accounting parentheses. Anything else (letters, NaN, '') is simply invalid.
_FORMATTED_NUMBER: Final = re.compile(r"[\s()+\-$€£¥%.,'_]*\d[\d\s()+\-$€£¥%.,'_]*")


def _invalid(raw: object, invalid: Rejection) -> Rejection:
    """Why an amount that is not a plain decimal was refused: AMOUNT_FORMAT when it is a
    number written for people, the field's own reason otherwise. Off the hot path: only for
    amounts parse_amount() refused."""
    if isinstance(raw, str) and _FORMATTED_NUMBER.fullmatch(raw):
        return Rejection.AMOUNT_FORMAT
    return invalid
