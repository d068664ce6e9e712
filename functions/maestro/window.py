"""Rolling per-agent windows and the ledger of closes applied to them (pure, no Firebase).

A window holds, for one agent, exactly the trades its Firestore query (`where agent_id == X
order by closed_at desc limit lookback_trades`) returned when every window was last rebuilt, at
one read time (`as_of_ns`, the weights document's journal_as_of). The ledger holds every close
committed since then (one entry per trade: its latest version). The agents' trades now are
`current_windows(rebuilt, ledger)`: the same function answers when a close is applied and when a
new instance replays the stored ledger, so both always agree.

Why merging is exact: a window is the top `lookback_trades` (in the query's order) of a set of
trades, and adding trades commutes: top(top(S) + T) == top(S + T). Closes may therefore arrive in
any order and more than once. A trade that closes again (after a reopening) replaces its older
version; if that older version sat in a full window, the window is one short and the next trade
in line is one the window never held: then only the query knows (NeedsQuery), unless what the
window now holds still reaches down to where it ended.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .journal import ClosedTrade


@dataclass(frozen=True, slots=True)
class WindowTrade:
    """A closed trade, and the commit time (ns) of the journal write it comes from."""

    trade: ClosedTrade
    commit_ns: int

    @property
    def trade_id(self) -> str:
        return self.trade.trade_id

    @property
    def order_key(self) -> tuple[int, Any, str]:
        return self.trade.order_key


@dataclass(frozen=True, slots=True)
class AgentWindow:
    """The agent's last `lookback_trades` closed trades, newest first, as of `as_of_ns`: every
    journal write committed at or before it is in it."""

    agent_id: str
    lookback_trades: int
    as_of_ns: int
    trades: tuple[WindowTrade, ...]
    trade_ids: frozenset[str] = field(init=False, compare=False, repr=False)
    # What the engine reads: the trades, newest first. One tuple per window, so that an engine
    # memo (weighting.AnalysisMemo) can tell an unchanged window by identity.
    closed_trades: tuple[ClosedTrade, ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "trade_ids", frozenset(t.trade_id for t in self.trades))
        object.__setattr__(self, "closed_trades", tuple(held.trade for held in self.trades))

    @property
    def is_full(self) -> bool:
        return len(self.trades) >= self.lookback_trades


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A close applied since the windows were rebuilt: the agent it closed under, and the
    trade (its latest version: a later close of the same trade replaces the entry)."""

    agent_id: str
    trade: WindowTrade


# trade id -> its latest close since the last rebuild.
Ledger = Mapping[str, LedgerEntry]


@dataclass(frozen=True, slots=True)
class NeedsQuery:
    """A full window lost a trade to a newer version of it, and what it still holds does not
    reach down to where it ended: the next trade in line is unknown without the query."""

    agent_id: str


def rebuild_window(
    agent_id: str, trades: Iterable[WindowTrade], lookback_trades: int, as_of_ns: int
) -> AgentWindow:
    """The agent's window from its query's results (or any superset of them: a whole journal),
    read at `as_of_ns`."""
    ranked = sorted(trades, key=lambda held: held.order_key, reverse=True)
    return AgentWindow(agent_id, lookback_trades, as_of_ns, tuple(ranked[:lookback_trades]))


def with_close(ledger: Ledger, agent_id: str, trade: WindowTrade) -> dict[str, LedgerEntry]:
    """The ledger with this close recorded (replacing an older version of the same trade)."""
    return {**ledger, trade.trade_id: LedgerEntry(agent_id, trade)}


def current_windows(
    rebuilt: Mapping[str, AgentWindow],
    ledger: Ledger,
    known: tuple[Ledger, Mapping[str, AgentWindow]] | None = None,
) -> dict[str, AgentWindow] | NeedsQuery:
    """Every agent's window now: the rebuilt windows with the ledger's closes merged in. A
    ledger entry of an agent without a window cannot be placed: NeedsQuery. `known`: an earlier
    ledger and its result, from which only the agents the difference touches are merged again
    (the same result, without re-sorting every agent on every close)."""
    unplaced = next((e.agent_id for e in ledger.values() if e.agent_id not in rebuilt), None)
    if unplaced is not None:
        return NeedsQuery(unplaced)
    redo = set(rebuilt) if known is None else _touched(rebuilt, ledger, known[0])
    by_agent: dict[str, list[WindowTrade]] = {}
    for entry in ledger.values():
        if entry.agent_id in redo:
            by_agent.setdefault(entry.agent_id, []).append(entry.trade)
    current: dict[str, AgentWindow] = {}
    for agent_id, window in rebuilt.items():
        arrivals = by_agent.get(agent_id, [])
        if agent_id not in redo:
            assert known is not None
            current[agent_id] = known[1][agent_id]
        elif not arrivals and ledger.keys().isdisjoint(window.trade_ids):
            current[agent_id] = window  # untouched since the rebuild
        else:
            merged = _merge(window, arrivals, ledger)
            if merged is None:
                return NeedsQuery(agent_id)
            current[agent_id] = merged
    return current


def _touched(rebuilt: Mapping[str, AgentWindow], ledger: Ledger, before: Ledger) -> set[str]:
    """The agents whose window `ledger` can change against `before`: those a changed entry
    closed under, before or now, and those whose rebuilt window holds a changed trade."""
    changed = {tid for tid, entry in ledger.items() if before.get(tid) != entry}
    changed |= before.keys() - ledger.keys()
    agents = {ledger[tid].agent_id for tid in changed if tid in ledger}
    agents |= {before[tid].agent_id for tid in changed if tid in before}
    agents |= {
        agent for agent, window in rebuilt.items() if not window.trade_ids.isdisjoint(changed)
    }
    return agents


def _merge(window: AgentWindow, arrivals: list[WindowTrade], ledger: Ledger) -> AgentWindow | None:
    # Trades of the window that closed again since (under this agent or another) leave it; their
    # latest versions come back through `arrivals` when they are this agent's.
    kept = [held for held in window.trades if held.trade_id not in ledger]
    ranked = sorted([*kept, *arrivals], key=lambda held: held.order_key, reverse=True)
    top = ranked[: window.lookback_trades]
    if window.is_full and len(kept) < len(window.trades):
        # Trades the window never held rank below its last one: the merge is exact only if the
        # window still reaches down to that last place.
        end = window.trades[-1].order_key
        if len(top) < window.lookback_trades or top[-1].order_key < end:
            return None
    return AgentWindow(window.agent_id, window.lookback_trades, window.as_of_ns, tuple(top))


def newest_closed_at(windows: Iterable[AgentWindow]) -> dt.datetime | None:
    """The latest timestamp closed_at in the windows (UTC), or None."""
    moments = [
        moment
        for window in windows
        for held in window.trades
        if isinstance(moment := held.trade.closed_at, dt.datetime)
    ]
    return max(moments, default=None)
