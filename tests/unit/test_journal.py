"""Journal entries -> returns: amount parsing, the return formula, selection and rejections."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, localcontext
from typing import NamedTuple

import pytest

from maestro.journal import (
    ClosedAtOrder,
    ClosedTradeColumns,
    JournalEntry,
    Rejection,
    TradeAmounts,
    closed_trade,
    parse_amount,
)
from maestro.journal import select_agent_trades as select_trades
from maestro.methods import ReturnBasis, ReturnTransform
from maestro.methods.returns import trade_track

from .helpers import T0, closed


def trade_return_pct(data: dict[str, object]) -> Decimal | Rejection:
    """The return of a closed trade with these amounts (ClosedTrade.return_pct)."""
    trade = closed_trade(JournalEntry("t", {"closed_at": T0, **data}))
    assert trade is not None
    return trade.return_pct()


class Selected(NamedTuple):
    returns_pct: list[Decimal]
    rejected: dict[Rejection, int]


def select_agent_trades(
    entries: list[JournalEntry], agent_ids: list[str], lookback_trades: int
) -> dict[str, Selected]:
    """The selection, as the engine reads it (its default track record): each agent's returns
    and rejections."""
    selected = select_trades(entries, agent_ids, lookback_trades)
    tracks = {agent: trade_track(trades) for agent, trades in selected.items()}
    return {
        agent: Selected(list(track.returns_pct), dict(track.rejected))
        for agent, track in tracks.items()
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.50", Decimal("12.50")),
        ("-3", Decimal(-3)),
        (" 7.25 ", Decimal("7.25")),
        ("1e3", Decimal(1000)),
        (42, Decimal(42)),
        (0.1, Decimal("0.1")),  # shortest repr, not 0.1000000000000000055511...
        (Decimal("2.5"), Decimal("2.5")),
        ("0", Decimal(0)),
    ],
)
def test_parse_amount_accepts_decimal_strings_and_numbers(raw: object, expected: Decimal) -> None:
    assert parse_amount(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "NaN",
        "nan",
        "Infinity",
        "-inf",
        "1e999999",
        "1e-999999",
        "1e999999999",  # beyond the engine context's exponents: refused, never an Overflow
        "-1e-999999999",
        "",
        "  ",
        "1_000",
        "12,5",
        "0x10",
        True,
        False,
        None,
        {"amount": 1},
        [1],
        float("nan"),
        float("inf"),
        10**16,
        "9" * 65,
    ],
)
def test_parse_amount_refuses_what_is_not_a_finite_decimal(raw: object) -> None:
    assert parse_amount(raw) is None


def test_return_is_pnl_over_entry_capital_in_percent() -> None:
    # capital = 80 x |-5| = 400; 12 / 400 x 100 = 3 %
    data = {"realized_pnl": "12", "entry_price": "80", "quantity": "-5"}
    assert trade_return_pct(data) == Decimal(3)


def test_return_keeps_full_precision() -> None:
    # 1 / 3 x 100 = 33.333... to the engine's 50 significant digits
    data = {"realized_pnl": "1", "entry_price": "3", "quantity": "1"}
    with localcontext(prec=5):  # the thread's context does not matter: ENGINE_CONTEXT does
        value = trade_return_pct(data)
    assert isinstance(value, Decimal)
    assert str(value) == "33." + "3" * 48


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"entry_price": "1", "quantity": "1"}, Rejection.REALIZED_PNL_MISSING),
        (
            {"realized_pnl": None, "entry_price": "1", "quantity": "1"},
            Rejection.REALIZED_PNL_MISSING,
        ),
        (
            {"realized_pnl": "NaN", "entry_price": "1", "quantity": "1"},
            Rejection.REALIZED_PNL_INVALID,
        ),
        ({"realized_pnl": "1"}, Rejection.ENTRY_PRICE_MISSING),
        (
            {"realized_pnl": "1", "entry_price": True, "quantity": "1"},
            Rejection.ENTRY_PRICE_INVALID,
        ),
        ({"realized_pnl": "1", "entry_price": "1"}, Rejection.QUANTITY_MISSING),
        ({"realized_pnl": "1", "entry_price": "1", "quantity": ""}, Rejection.QUANTITY_INVALID),
        (
            {"realized_pnl": "1", "entry_price": "0", "quantity": "5"},
            Rejection.NON_POSITIVE_CAPITAL,
        ),
        (
            {"realized_pnl": "1", "entry_price": "10", "quantity": "0"},
            Rejection.NON_POSITIVE_CAPITAL,
        ),
        (
            {"realized_pnl": "1", "entry_price": "-10", "quantity": "2"},
            Rejection.NON_POSITIVE_CAPITAL,
        ),
    ],
)
def test_invalid_trades_are_rejected_with_a_reason(
    data: dict[str, object], reason: Rejection
) -> None:
    assert trade_return_pct(data) is reason


def test_selection_takes_the_most_recent_closed_trades_per_agent() -> None:
    entries = [closed("A", minute, str(minute)) for minute in range(10)]
    selected = select_agent_trades(entries, ["A"], lookback_trades=3)
    # minutes 9, 8, 7 are the most recent; capital 100 so return = pnl
    assert selected["A"].returns_pct == [Decimal(9), Decimal(8), Decimal(7)]


def test_open_trades_and_other_agents_are_ignored() -> None:
    open_trade = JournalEntry("open", {"agent_id": "A", "realized_pnl": "5", "entry_price": "1"})
    null_closed = JournalEntry("null", {**closed("A", 50, "5").data, "closed_at": None})
    entries = [closed("A", 1, "2"), open_trade, null_closed, closed("Z", 2, "4")]
    selected = select_agent_trades(entries, ["A", "B"], lookback_trades=10)
    assert selected["A"].returns_pct == [Decimal(2)]
    assert not selected["A"].rejected
    assert selected["B"].returns_pct == []
    assert "Z" not in selected


def test_invalid_recent_trades_are_counted_not_replaced_by_older_ones() -> None:
    entries = [
        closed("A", 1, "1"),  # oldest: outside a lookback of 3
        closed("A", 2, "2"),
        closed("A", 3, "NaN"),
        closed("A", 4, "4", quantity="0"),
    ]
    selected = select_agent_trades(entries, ["A"], lookback_trades=3)
    assert selected["A"].returns_pct == [Decimal(2)]
    assert selected["A"].rejected == {
        Rejection.REALIZED_PNL_INVALID: 1,
        Rejection.NON_POSITIVE_CAPITAL: 1,
    }


def test_closed_at_of_the_wrong_type_sorts_like_firestore_and_is_rejected() -> None:
    # In a descending Firestore query strings, arrays and maps sort before every timestamp and
    # numbers and booleans after; a wrong-typed closed_at in the window is rejected, not skipped.
    as_string = JournalEntry("s", {**closed("A", 0, "1").data, "closed_at": "2026-11-02"})
    as_number = JournalEntry("n", {**closed("A", 0, "1").data, "closed_at": 1_700_000_000})
    entries = [closed("A", 1, "1"), closed("A", 2, "2"), as_string, as_number]
    selected = select_agent_trades(entries, ["A"], lookback_trades=2)
    assert selected["A"].returns_pct == [Decimal(2)]
    assert selected["A"].rejected == {Rejection.CLOSED_AT_INVALID: 1}


def test_in_a_files_order_a_closed_at_that_is_no_timestamp_takes_no_slot() -> None:
    """Issue 16: in a file, badly formatted dates never push valid trades out of the lookback;
    documents read from Firestore keep Firestore's order (the strings take the first slots)."""
    bad = [
        JournalEntry(f"bad{i}", {**closed("A", 9, "5").data, "closed_at": text})
        for i, text in enumerate(["02/11/2026 14:40", "2026-11-02 2:41 PM"])
    ]
    entries = [closed("A", minute, str(minute + 1)) for minute in range(3)] + bad
    by_order = {
        order: trade_track(select_trades(entries, ["A"], 3, order)["A"]) for order in ClosedAtOrder
    }
    in_file = by_order[ClosedAtOrder.TIMESTAMPS_ONLY]
    assert list(in_file.returns_pct) == [Decimal(3), Decimal(2), Decimal(1)]
    assert not in_file.rejected
    from_firestore = by_order[ClosedAtOrder.FIRESTORE]
    assert list(from_firestore.returns_pct) == [Decimal(3)]
    assert dict(from_firestore.rejected) == {Rejection.CLOSED_AT_INVALID: 2}
    # the default stays Firestore's order
    assert select_trades(entries, ["A"], 3) == select_trades(
        entries, ["A"], 3, ClosedAtOrder.FIRESTORE
    )


def test_naive_datetimes_are_read_as_utc() -> None:
    naive = JournalEntry(
        "naive", {**closed("A", 0, "7").data, "closed_at": dt.datetime(2026, 11, 2, 15, 0)}
    )
    aware_earlier = closed("A", 29, "3")  # 14:59 UTC
    selected = select_agent_trades([aware_earlier, naive], ["A"], lookback_trades=1)
    assert selected["A"].returns_pct == [Decimal(7)]
    assert T0.tzinfo is not None


def test_ties_on_closed_at_break_on_trade_id_whatever_the_input_order() -> None:
    same_time = T0
    first = JournalEntry("b", {**closed("A", 0, "1").data, "closed_at": same_time})
    second = JournalEntry("a", {**closed("A", 0, "2").data, "closed_at": same_time})
    for order in ([first, second], [second, first]):
        assert select_agent_trades(order, ["A"], 1)["A"].returns_pct == [Decimal(1)]


def test_a_closed_trade_keeps_its_close_time_pnl_and_both_capital_bases() -> None:
    entry = closed("A", 3, "12.5", price="80", quantity="-5", allocated_capital="1000")
    trade = closed_trade(entry)
    assert trade is not None
    assert trade.closed_at == T0 + dt.timedelta(minutes=3)
    assert (trade.realized_pnl, trade.notional_capital) == (Decimal("12.5"), Decimal(400))
    assert trade.allocated_capital == Decimal(1000)
    assert closed_trade(JournalEntry("open", {"agent_id": "A", "closed_at": None})) is None


def test_trades_kept_as_columns_read_as_the_trades_and_track_the_same() -> None:
    entries = [
        closed("A", 3, "12.5", price="80", quantity="-5", allocated_capital="1000"),
        closed("A", 2, "-4", price="20", quantity="2"),
        closed("A", 1, "7", price="70", quantity="1", allocated_capital="350"),
        closed("A", 0, "-100", price="80", quantity="1"),  # -125 %: no logarithm
    ]
    trades = tuple(filter(None, map(closed_trade, entries)))
    ids, _, closes, pnl, notional, allocated, returns = zip(*trades, strict=True)
    columns = ClosedTradeColumns(
        ids, closes, returns, lambda: TradeAmounts(pnl, notional, allocated)
    )
    assert len(columns) == 4
    assert tuple(columns) == trades and list(iter(columns)) == list(trades)
    assert [columns[i] for i in (0, 1, 2, 3, -1)] == [*trades, trades[-1]]
    assert columns[1:] == trades[1:] and columns[::-1] == trades[::-1]
    with pytest.raises(IndexError):
        columns[4]
    # the engine reads the columns where it would read each trade's fields: the same record
    for transform in ReturnTransform:
        for basis in ReturnBasis:
            assert trade_track(columns, transform, basis, 2) == trade_track(
                trades, transform, basis, 2
            )


def test_on_the_notional_basis_the_engine_never_reads_the_amounts_of_trades_kept_as_columns() -> (
    None
):
    trades = tuple(filter(None, map(closed_trade, [closed("A", 2, "5"), closed("A", 1, "-3")])))
    ids, _, closes, _, _, _, returns = zip(*trades, strict=True)

    def never() -> TradeAmounts:
        raise AssertionError("the amounts were worked out")

    columns = ClosedTradeColumns(ids, closes, returns, never)
    for transform in ReturnTransform:
        assert trade_track(columns, transform) == trade_track(trades, transform)


@pytest.mark.parametrize(
    ("allocated", "reason"),
    [
        (None, Rejection.ALLOCATED_CAPITAL_MISSING),
        ("lots", Rejection.ALLOCATED_CAPITAL_INVALID),
        ("0", Rejection.NON_POSITIVE_ALLOCATED_CAPITAL),
        ("-5", Rejection.NON_POSITIVE_ALLOCATED_CAPITAL),
    ],
)
def test_allocated_capital_is_kept_or_rejected_with_its_reason(
    allocated: str | None, reason: Rejection
) -> None:
    trade = closed_trade(closed("A", 1, "1", allocated_capital=allocated))
    assert trade is not None and trade.allocated_capital is reason
    assert trade.return_pct() == Decimal(1)  # the notional return does not depend on it


def test_a_timestamp_in_another_zone_orders_and_reads_as_utc() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    entry = JournalEntry("p", {**closed("A", 0, "1").data, "closed_at": T0.astimezone(paris)})
    trade = closed_trade(entry)
    assert trade is not None and trade.closed_at == T0 and trade.closed_at.tzinfo is dt.UTC


@pytest.mark.parametrize(
    ("field", "raw", "reason"),
    [
        ("realized_pnl", "1,234.50", Rejection.AMOUNT_FORMAT),
        ("realized_pnl", "$12", Rejection.AMOUNT_FORMAT),
        ("realized_pnl", "12%", Rejection.AMOUNT_FORMAT),
        ("realized_pnl", "(5.00)", Rejection.AMOUNT_FORMAT),
        ("entry_price", "1 234,50", Rejection.AMOUNT_FORMAT),
        ("quantity", "1_000", Rejection.AMOUNT_FORMAT),
        ("realized_pnl", "n/a", Rejection.REALIZED_PNL_INVALID),
        ("realized_pnl", "", Rejection.REALIZED_PNL_INVALID),
        ("entry_price", "12 EUR", Rejection.ENTRY_PRICE_INVALID),
    ],
)
def test_numbers_written_for_people_are_never_guessed(
    field: str, raw: str, reason: Rejection
) -> None:
    """Issue 16: "1,234.50" is 1234.5 in one locale and 1.2345 in another; such amounts get
    their own reason, while text that is no number keeps the field's."""
    data = {"realized_pnl": "1", "entry_price": "100", "quantity": "1", field: raw}
    assert trade_return_pct(data) is reason
