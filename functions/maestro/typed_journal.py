"""The offline CLI's fast path for a well-formed JSON journal: the file decoded by a typed C
decoder (msgspec) into rows whose fields are already known to be strings, then each step the
CLI takes (duplicate ids, the lookback selection, the trades with their returns, the load
summary) done a column at a time by C-level builtins (map, sorted, Counter, min, max) instead
of a Python loop per row. The answer is the exact path's (journal_file, journal.
select_agent_trades, load_summary.summarize_load), byte for byte, or None: the caller then
takes the exact path. Nothing here decides a rule of its own.

A journal is taken here only when every row is an object with `trade_id` and `agent_id`
strings, `closed_at` an ISO-8601 string (or null), `realized_pnl`, `entry_price` and
`quantity` strings, and `allocated_capital` a string when present: msgspec refuses anything
else, and reads a subset of what `json.loads` reads (it refuses NaN and Infinity, lone
surrogates, and the same malformed texts), with duplicate keys the same way (the last one
kept). Differences left, where the exact path refuses the file (exit 2, one line) and this
one answers: an integer of more than 4,300 digits in a field Maestro ignores (json.loads
refuses it, msgspec skips it), and nesting a few levels short of the recursion limit. What
could still differ is checked, and sent to the exact path:
- closed_at: parsed by `datetime.fromisoformat`, as journal_file parses it (msgspec's own
  datetime reads "z" and rounds a seventh fraction digit, where fromisoformat refuses and
  truncates); a text it refuses makes the whole file take the exact path.
- amounts: kept as text by msgspec (its Decimal is Decimal(text), which forgets "1_000" and
  the text's length), parsed by `Decimal` per column; a column with an underscore, a text over
  64 characters, a value that is not finite or out of the band (journal.parse_amount), or a
  notional capital that is not positive is built trade by trade by journal.closed_trade
  itself; allocated_capital is read only when a trade is read whole, a text its column does
  not take then read by journal.closed_trade, row by row.
Without msgspec installed (it is a dependency of the CLI, not of the deployed functions),
every journal takes the exact path.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext
from itertools import repeat
from operator import attrgetter, is_, itemgetter, mul, truediv
from pathlib import Path
from typing import Any, Final, cast

from .early_read import journal_bytes
from .journal import (
    AMOUNT_MAX_ADJUSTED,
    AMOUNT_MIN_ADJUSTED,
    MAX_AMOUNT_TEXT_LENGTH,
    ClosedTrade,
    ClosedTradeColumns,
    JournalEntry,
    Rejection,
    TradeAmounts,
    closed_trade,
)
from .load_summary import LoadSummary, summary_of
from .methods import ReturnBasis
from .precision import ENGINE_CONTEXT

_UTC: Final = dt.UTC
_HUNDRED: Final = Decimal(100)
_ALLOCATED_MISSING: Final = Rejection.ALLOCATED_CAPITAL_MISSING
_from_iso: Final = dt.datetime.fromisoformat


@dataclass(frozen=True, slots=True)
class TypedJournal:
    """A well-formed journal, one row per trade id (the later row kept, as
    load_summary.deduplicated keeps it): the decoded rows, and as columns what every row is
    read for (the ids, the order, the load summary). `closed_at` holds what journal_file
    stores in a row (an aware datetime, naive ones read as UTC; None for an open trade),
    `closed_utc` the same instants in UTC (the order's key). The amounts are read from the
    selected rows only, an agent at a time (select_typed_trades): four passes over 200,000
    rows cost more than reading 1,000 rows that are in the processor's cache already."""

    rows: int  # as read, duplicates included
    duplicates: int
    decoded: list[Any]  # msgspec Structs: realized_pnl, entry_price, quantity, allocated_capital
    trade_id: list[str]
    # each agent id's rows, in the file's order (the ids in the order first met): grouped once
    # for both the selection and the load summary's count
    rows_of_agent: dict[str, list[int]]
    closed_at: list[dt.datetime | None]
    closed_utc: list[dt.datetime | None]
    open_trades: bool  # whether any closed_at is None (known from the parse: no scan for it)


def read_typed_journal(
    path: Path, basis: ReturnBasis, data: bytes | None = None
) -> TypedJournal | None:
    """The file as a TypedJournal (`data`: its bytes, when they were read already), or None
    when it is not one (not JSON by its name, not readable, not well-formed, msgspec not
    installed): journal_file.load_journal_file then reads it, and says what is wrong."""
    if path.suffix.lower() == ".csv":
        return None
    try:
        # taken before msgspec is asked for: bytes read early are never held past this call
        raw = journal_bytes(path) if data is None else data
    except OSError:
        return None
    try:
        import msgspec
    except ImportError:  # the CLI's dependency; never the deployed functions'
        return None
    try:
        # ASCII is UTF-8 already; a byte order mark, or text beyond ASCII: as journal_file reads it
        rows = _decoder(msgspec).decode(raw if raw.isascii() else raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, RecursionError, msgspec.DecodeError):
        return None
    if not rows:
        return None
    count = len(rows)
    trade_id = list(map(_TRADE_ID, rows))
    duplicates = 0
    if len(set(trade_id)) != count:  # the later row of an id kept, where the first one was
        kept = dict(zip(trade_id, rows, strict=True))
        duplicates, rows, trade_id = count - len(kept), list(kept.values()), list(kept)
    try:
        closed_at, closed_utc, open_trades = _moments(rows)
    except (ValueError, OverflowError):  # a text fromisoformat refuses, or one beyond UTC's
        return None  # years: the exact path rejects it, and says so
    if basis is ReturnBasis.ALLOCATED and all(map(_IS_NONE, map(_ALLOCATED, rows))):
        return None  # the column is missing: journal_file's error names it
    return TypedJournal(
        rows=count,
        duplicates=duplicates,
        decoded=rows,
        trade_id=trade_id,
        rows_of_agent=_rows_of_agent(rows),
        closed_at=closed_at,
        closed_utc=closed_utc,
        open_trades=open_trades,
    )


def _rows_of_agent(rows: list[Any]) -> dict[str, list[int]]:
    rows_of_agent: defaultdict[str, list[int]] = defaultdict(list)
    for index, agent_id in enumerate(map(_AGENT_ID, rows)):  # the one loop a row: a lookup
        rows_of_agent[agent_id].append(index)
    return dict(rows_of_agent)  # an unknown agent id is not a group: .get() says so


def _moments(
    rows: list[Any],
) -> tuple[list[dt.datetime | None], list[dt.datetime | None], bool]:
    """journal_file's closed_at for each row, its UTC instant, and whether a trade is open
    (a None); ValueError when fromisoformat refuses one."""
    stored: list[dt.datetime | None]
    try:  # every trade closed, the common case: one pass, no column of texts kept
        closed = list(map(_from_iso, map(_CLOSED_AT, rows)))
        stored, open_trades = cast(list[dt.datetime | None], closed), False
    except TypeError:  # fromisoformat(None): open trades (msgspec let through str or None)
        stored = [None if text is None else _from_iso(text) for text in map(_CLOSED_AT, rows)]
        closed = [moment for moment in stored if moment is not None]
        open_trades = True
    # fromisoformat gives UTC itself for every zero offset ("Z", "+00:00", "-00:00")
    if list(map(_TZINFO, closed)).count(_UTC) == len(closed):  # the common case
        return stored, stored, open_trades
    stored = [
        moment if moment is None or moment.tzinfo else moment.replace(tzinfo=_UTC)
        for moment in stored
    ]
    utc = [
        moment if moment is None or moment.tzinfo is _UTC else moment.astimezone(_UTC)
        for moment in stored
    ]
    return stored, utc, open_trades


def select_typed_trades(
    journal: TypedJournal, agent_ids: Sequence[str], lookback_trades: int
) -> dict[str, Sequence[ClosedTrade]]:
    """journal.select_agent_trades(entries, agent_ids, lookback_trades, TIMESTAMPS_ONLY) on the
    same rows: per configured agent its most recent closed trades, newest first (closed_at,
    then trade id, descending)."""
    groups = {agent_id: journal.rows_of_agent.get(agent_id, []) for agent_id in agent_ids}
    moments, ids = journal.closed_utc, journal.trade_id
    for agent_id, rows in groups.items():
        # open trades never take a place
        closing = (
            [index for index in rows if moments[index] is not None] if journal.open_trades else rows
        )
        when = cast(Callable[[int], dt.datetime], moments.__getitem__)
        closed = sorted(closing, key=when, reverse=True)
        if len(set(map(when, closed))) < len(closed):  # ties: the trade id decides
            closed.sort(key=lambda index: (moments[index], ids[index]), reverse=True)
        groups[agent_id] = closed[:lookback_trades]
    with localcontext(ENGINE_CONTEXT):
        # An agent at a time: its trades' columns stay in the processor's cache (200,000
        # trades at once: 383 against 280 ms, docs/performance.md 7)
        return {
            agent_id: _trades(journal, group) or tuple(map(_closed_exactly, repeat(journal), group))
            for agent_id, group in groups.items()
        }


def _trades(journal: TypedJournal, rows: list[int]) -> ClosedTradeColumns | tuple[()] | None:
    """The rows' ClosedTrades, as journal.closed_trade builds them, a column at a time (and
    kept as columns: ClosedTradeColumns); None when an amount a return rests on is not a plain
    decimal within the band, or the notional capital is not positive (the caller then asks
    journal.closed_trade, trade by trade, which says why)."""
    if not rows:
        return ()
    pick = _picker(rows)
    amounts = _notional_amounts(pick(journal.decoded))
    if amounts is None:
        return None
    pnl, notional = amounts
    return ClosedTradeColumns(
        trade_id=pick(journal.trade_id),
        closed_at=cast(tuple[dt.datetime, ...], pick(journal.closed_utc)),  # no open trade
        notional_return=tuple(map(truediv, map(mul, pnl, repeat(_HUNDRED)), notional)),
        amounts=functools.cache(functools.partial(_amounts_when_read, journal, rows)),
    )


def _notional_amounts(decoded: tuple[Any, ...]) -> tuple[list[Decimal], list[Decimal]] | None:
    """The rows' realized_pnl and notional capital (entry_price x |quantity|) as
    journal.closed_trade works them out, a column each; None when an amount is not a plain
    decimal within the band, or a capital is not positive. Must run inside ENGINE_CONTEXT."""
    pnl = _amounts(tuple(map(_PNL, decoded)))
    price = _amounts(tuple(map(_PRICE, decoded)))
    quantity_magnitude = _amounts(tuple(map(_QUANTITY, decoded)), magnitudes=True)
    if pnl is None or price is None or quantity_magnitude is None:
        return None
    notional = list(map(mul, price, quantity_magnitude))
    if min(notional) <= 0:
        return None
    return pnl, notional


def _allocated_capital(decoded: tuple[Any, ...]) -> Sequence[Decimal | Rejection] | None:
    """The rows' allocated capital as journal.closed_trade reads it (allocated_capital_missing
    where a row has none), a column; None when one is not a plain positive decimal within the
    band. Must run inside ENGINE_CONTEXT."""
    texts = tuple(map(_ALLOCATED, decoded))  # None: not in the row
    if texts.count(None) == len(texts):
        return (_ALLOCATED_MISSING,) * len(texts)
    given = [text for text in texts if text is not None] if None in texts else texts
    amounts = _amounts(tuple(given))
    if amounts is None or min(amounts) <= 0:
        return None
    if len(amounts) < len(texts):  # the rows without the field: allocated_capital_missing
        parsed = iter(amounts)
        return [_ALLOCATED_MISSING if text is None else next(parsed) for text in texts]
    return amounts


def _amounts_when_read(journal: TypedJournal, rows: list[int]) -> TradeAmounts:
    """The rows' amounts, a column each, when a trade is first read whole (the allocated
    basis, a test): allocated capital is read only then, the notional basis never needs it.
    A capital the column does not take is each row's as journal.closed_trade reads it (the
    rejection that says why)."""
    decoded = _picker(rows)(journal.decoded)
    with localcontext(ENGINE_CONTEXT):
        amounts = _notional_amounts(decoded)
        assert amounts is not None  # the same texts it took when the columns were built
        allocated = _allocated_capital(decoded)
        if allocated is None:
            allocated = [_closed_exactly(journal, row).allocated_capital for row in rows]
    return TradeAmounts(*amounts, allocated)


def _picker(rows: list[int]) -> Callable[[list[Any]], tuple[Any, ...]]:
    """The rows' values of a column (itemgetter: twice as fast as map(column.__getitem__))."""
    if len(rows) == 1:
        row = rows[0]
        return lambda column: (column[row],)
    return itemgetter(*rows)


def _amounts(texts: tuple[str, ...], *, magnitudes: bool = False) -> list[Decimal] | None:
    """journal.parse_amount's Decimal for each text (with `magnitudes`, its abs()), when every
    one is a plain finite decimal within the band; None when any is not (parse_amount then
    says why, trade by trade). Parsing each distinct text once measured no faster on 1,000
    trades."""
    longest = max(map(len, texts))
    joined = "".join(texts)
    if longest > MAX_AMOUNT_TEXT_LENGTH or "_" in joined:
        return None
    try:
        amounts = list(map(Decimal, texts))
    except InvalidOperation:
        return None
    # What a trader's journal holds: short texts of digits, '.' and '-'. Decimal read them,
    # so each is finite and in the band (_PLAIN_TEXT_LENGTH): one pass over the joined text
    # instead of two over the amounts.
    plain = (
        longest <= _PLAIN_TEXT_LENGTH
        and joined.isascii()
        and not joined.encode("ascii").translate(None, _PLAIN_CHARACTERS)
    )
    if not plain:
        if not all(map(Decimal.is_finite, amounts)):
            return None
        exponents = list(map(Decimal.adjusted, amounts))  # a zero's too: the exact path takes it
        if min(exponents) < AMOUNT_MIN_ADJUSTED or max(exponents) > AMOUNT_MAX_ADJUSTED:
            return None
    if magnitudes and not (plain and "-" not in joined):
        # abs() rounds to the context's 50 digits; a plain unsigned amount, of at most 15
        # digits, is its own magnitude, to the digit and the exponent
        return list(map(abs, amounts))
    return amounts


# A text of at most 15 characters, all digits, '.' or '-', that Decimal reads is a finite
# decimal whose leading digit's exponent is in [-14, 14] (15 integer digits at most; a
# nonzero value under 1e-14 takes 16 characters: ".000000000000001"), inside parse_amount's
# band of [-15, 14], a zero's exponent too (tests/unit/test_typed_journal.py checks it).
_PLAIN_TEXT_LENGTH: Final = 15
_PLAIN_CHARACTERS: Final = b"0123456789.-"


def _closed_exactly(journal: TypedJournal, row: int) -> ClosedTrade:
    """The row's trade, built by journal.closed_trade itself (the exact path's)."""
    trade = closed_trade(_entry(journal, row))
    assert trade is not None  # its closed_at is a timestamp: closed
    return trade


def _entry(journal: TypedJournal, row: int) -> JournalEntry:
    """The row as the exact path's journal entry (the fields a closed trade reads)."""
    decoded = journal.decoded[row]
    data: dict[str, Any] = {
        "closed_at": journal.closed_utc[row],
        "realized_pnl": decoded.realized_pnl,
        "entry_price": decoded.entry_price,
        "quantity": decoded.quantity,
    }
    if decoded.allocated_capital is not None:
        data["allocated_capital"] = decoded.allocated_capital
    return JournalEntry(journal.trade_id[row], data)


def summarize_typed(journal: TypedJournal, agent_ids: Sequence[str]) -> LoadSummary:
    """load_summary.summarize_load on the same rows (every closed_at is a timestamp or null:
    none is left out of the lookback)."""
    closes = journal.closed_at
    if journal.open_trades:
        closes = [moment for moment in closes if moment is not None]
    return summary_of(
        rows=journal.rows,
        duplicates=journal.duplicates,
        rows_by_agent=Counter({agent: len(rows) for agent, rows in journal.rows_of_agent.items()}),
        closes=closes,  # type: ignore[arg-type]
        unordered=Counter(),
        agent_ids=agent_ids,
        noun="rows",
    )


_TRADE_ID: Final = attrgetter("trade_id")
_AGENT_ID: Final = attrgetter("agent_id")
_CLOSED_AT: Final = attrgetter("closed_at")
_PNL: Final = attrgetter("realized_pnl")
_PRICE: Final = attrgetter("entry_price")
_QUANTITY: Final = attrgetter("quantity")
_TZINFO: Final = attrgetter("tzinfo")
_ALLOCATED: Final = attrgetter("allocated_capital")
_IS_NONE: Final = functools.partial(is_, None)


@functools.cache
def _decoder(msgspec: Any) -> Any:
    """msgspec's decoder of a journal: a list of rows with these fields of these types (any
    other field ignored, as the exact path ignores it)."""

    row = msgspec.defstruct(
        "Row",
        [
            ("trade_id", str),
            ("agent_id", str),
            ("closed_at", str | None),
            ("realized_pnl", str),
            ("entry_price", str),
            ("quantity", str),
            ("allocated_capital", str, None),  # null refused; absent: None
        ],
        gc=False,  # acyclic: the collector never needs to see a row
    )
    return msgspec.json.Decoder(list[row])  # type: ignore[valid-type]
