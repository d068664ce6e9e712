"""What asks for a recompute, classified once at the door into a typed value (pure).

A trade journal write becomes a TradeEvent (a close, a delete, a reopening, an edit of a closed
trade) or is Ignored with its reason; nothing downstream works the kind out again. The callable
and the config trigger ask with a CallableRequest and a ConfigWritten; the task queue with a
QueuedRebuild; a trade event's delayed check (did its run finish?) with an EventCheck.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from .journal import ClosedTrade, JournalEntry, closed_trade

# The journal fields a weights computation reads: a write that changes none of them on a closed
# trade changes nothing (allocated_capital is kept in the windows for returns on that basis).
ENGINE_FIELDS: Final = (
    "agent_id",
    "closed_at",
    "realized_pnl",
    "entry_price",
    "quantity",
    "allocated_capital",
)


class EventKind(StrEnum):
    CLOSE = "close"  # a trade became closed (created closed, or closed_at set)
    DELETE = "delete"  # a closed trade was deleted
    REOPEN = "reopen"  # a closed trade's closed_at was cleared
    EDIT = "edit"  # a field weights use changed on a trade closed before and after


class IgnoredReason(StrEnum):
    OPEN_TRADE = "open trade (no closed_at before or after)"
    NOTHING_WEIGHTS_USE = "closed trade written without a change to the fields weights use"


@dataclass(frozen=True, slots=True)
class Ignored:
    reason: IgnoredReason


@dataclass(frozen=True, slots=True)
class TradeEvent:
    """A journal write that can change the weights. `agent_ids`: the agents whose trades it can
    change (a close: the agent it closed under; a delete or a reopening: the agent it had; an
    edit: both). `commit_ns`: the write's commit time (a delete's is not in the event)."""

    kind: EventKind
    trade_id: str
    event_id: str
    commit_ns: int | None
    agent_ids: frozenset[str]
    closed: ClosedTrade | None = None  # a close: the trade as it closed
    changed_fields: tuple[str, ...] = ()  # an edit: what changed

    def describe(self) -> str:
        if self.kind is EventKind.EDIT:
            return f"closed trade changed: {', '.join(self.changed_fields)}"
        return {
            EventKind.CLOSE: "trade closed",
            EventKind.DELETE: "closed trade deleted",
            EventKind.REOPEN: "closed trade reopened",
        }[self.kind]


@dataclass(frozen=True, slots=True)
class CallableRequest:
    """The callable: `force` rebuilds from the journal; `config_saved`: it saved a new config."""

    force: bool = False
    config_saved: bool = False


@dataclass(frozen=True, slots=True)
class ConfigWritten:
    """users/{uid}/maestro/config was written (by the callable, or straight to Firestore)."""


@dataclass(frozen=True, slots=True)
class QueuedRebuild:
    """A rebuild handed to the task queue (task_queue.py) by trigger runs that lost the race
    for the weights document, or failed: it answers for every close committed before
    `covers_until_ns`."""

    covers_until_ns: int


@dataclass(frozen=True, slots=True)
class EventCheck:
    """The task queue's check, well after a trade event's run began (task_queue.py), that the
    run left the event reflected: a run that crashed or timed out cannot retry itself (Python
    Firestore triggers do not retry). `started_ns`: when the run began, after the write
    committed (what a rebuild must read past, for a delete, whose commit time is unknown)."""

    trade_id: str
    event_id: str
    commit_ns: int | None
    agent_ids: frozenset[str]
    started_ns: int

    @classmethod
    def of(cls, event: TradeEvent, started_ns: int) -> EventCheck:
        return cls(event.trade_id, event.event_id, event.commit_ns, event.agent_ids, started_ns)


Request = TradeEvent | CallableRequest | ConfigWritten | QueuedRebuild | EventCheck


def classify_trade_write(
    trade_id: str,
    event_id: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    commit_ns: int | None,
) -> TradeEvent | Ignored:
    """The journal write `before` -> `after` (None: no document) as the engine sees it."""
    was_closed, now_closed = _is_closed(before), _is_closed(after)
    if not was_closed and not now_closed:
        return Ignored(IgnoredReason.OPEN_TRADE)
    if not was_closed:
        assert after is not None
        closed = closed_trade(JournalEntry(trade_id, after))
        return TradeEvent(
            EventKind.CLOSE, trade_id, event_id, commit_ns, _agents(after), closed=closed
        )
    if after is None:
        return TradeEvent(EventKind.DELETE, trade_id, event_id, None, _agents(before))
    if not now_closed:
        return TradeEvent(EventKind.REOPEN, trade_id, event_id, commit_ns, _agents(before))
    assert before is not None
    changed = tuple(name for name in ENGINE_FIELDS if not _same(before.get(name), after.get(name)))
    if not changed:
        return Ignored(IgnoredReason.NOTHING_WEIGHTS_USE)
    agents = _agents(before) | _agents(after)
    return TradeEvent(EventKind.EDIT, trade_id, event_id, commit_ns, agents, changed_fields=changed)


def _same(old: object, new: object) -> bool:
    # By type too: Python's 1 == True and 0 == -0.0, but a realized_pnl edited from 1 to true
    # turns a valid trade into a rejected one.
    return type(old) is type(new) and old == new


def _is_closed(document: Mapping[str, Any] | None) -> bool:
    return document is not None and document.get("closed_at") is not None


def _agents(document: Mapping[str, Any] | None) -> frozenset[str]:
    agent_id = document.get("agent_id") if document is not None else None
    return frozenset({agent_id}) if isinstance(agent_id, str) else frozenset()
