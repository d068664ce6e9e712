"""Journal writes classified once, at the door: the kind of change, the agents it concerns, and
why a write is ignored."""

from __future__ import annotations

from typing import Any

import pytest

from maestro.events import EventKind, Ignored, IgnoredReason, TradeEvent, classify_trade_write

from .helpers import closed

CLOSED = closed("A", 1, "5").data
OPEN = {**CLOSED, "closed_at": None, "realized_pnl": None}


def classify(before: Any, after: Any) -> TradeEvent | Ignored:
    return classify_trade_write("t1", "event-1", before, after, None if after is None else 7)


@pytest.mark.parametrize(
    ("before", "after", "kind", "agents"),
    [
        (None, CLOSED, EventKind.CLOSE, {"A"}),  # created closed
        (OPEN, CLOSED, EventKind.CLOSE, {"A"}),  # closed_at set
        ({**OPEN, "agent_id": "B"}, CLOSED, EventKind.CLOSE, {"A"}),  # the open one's agent: none
        (CLOSED, None, EventKind.DELETE, {"A"}),
        (CLOSED, OPEN, EventKind.REOPEN, {"A"}),
        (CLOSED, {**CLOSED, "realized_pnl": "6"}, EventKind.EDIT, {"A"}),
        (CLOSED, {**CLOSED, "agent_id": "B"}, EventKind.EDIT, {"A", "B"}),  # moved: both
        (CLOSED, {**CLOSED, "allocated_capital": "100"}, EventKind.EDIT, {"A"}),
        (None, {**CLOSED, "agent_id": 7}, EventKind.CLOSE, set()),  # no string agent: none
    ],
)
def test_each_kind_of_change_and_the_agents_it_concerns(
    before: Any, after: Any, kind: EventKind, agents: set[str]
) -> None:
    event = classify(before, after)
    assert isinstance(event, TradeEvent)
    assert (event.kind, set(event.agent_ids)) == (kind, agents)
    assert event.commit_ns == (None if after is None else 7)
    assert (event.closed is not None) == (kind is EventKind.CLOSE)


def test_a_close_carries_the_trade_as_it_closed() -> None:
    event = classify(OPEN, CLOSED)
    assert isinstance(event, TradeEvent) and event.closed is not None
    assert event.closed.trade_id == "t1" and event.closed.realized_pnl == 5
    assert event.describe() == "trade closed"


def test_an_edit_names_what_changed() -> None:
    event = classify(CLOSED, {**CLOSED, "quantity": "3", "entry_price": "7"})
    assert isinstance(event, TradeEvent)
    assert event.changed_fields == ("entry_price", "quantity")
    assert event.describe() == "closed trade changed: entry_price, quantity"


@pytest.mark.parametrize(
    ("before", "after", "reason"),
    [
        (None, OPEN, IgnoredReason.OPEN_TRADE),
        (OPEN, {**OPEN, "symbol": "QQQ"}, IgnoredReason.OPEN_TRADE),
        (OPEN, None, IgnoredReason.OPEN_TRADE),
        (CLOSED, {**CLOSED, "note": "scaled out"}, IgnoredReason.NOTHING_WEIGHTS_USE),
    ],
)
def test_writes_that_change_nothing_weights_use_are_ignored_with_their_reason(
    before: Any, after: Any, reason: IgnoredReason
) -> None:
    assert classify(before, after) == Ignored(reason)


@pytest.mark.parametrize(
    ("field", "old", "new"),
    [("realized_pnl", 1, True), ("quantity", 0, False), ("entry_price", 0, -0.0)],
)
def test_an_edit_to_a_value_python_calls_equal_is_still_an_edit(
    field: str, old: object, new: object
) -> None:
    """1 == True in Python, but a realized_pnl of true is rejected: the trade changed."""
    event = classify({**CLOSED, field: old}, {**CLOSED, field: new})
    assert isinstance(event, TradeEvent) and event.changed_fields == (field,)
