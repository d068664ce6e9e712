"""Rolling windows and the ledger give exactly the engine's selection: rebuilt at once, or close
by close through the one decision (decisions.decide) in any order, with duplicates, reopenings
and trades closed again under another agent, they produce the weights compute_weights gives on
the final journal."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from maestro import ENGINE_VERSION
from maestro.config import MaestroConfig
from maestro.decisions import Apply, Attempt, Rebuild, Settings, Skip, SkipReason, decide
from maestro.documents import EffectiveConfig, StoredWeights, UserState
from maestro.events import TradeEvent, classify_trade_write
from maestro.journal import JournalEntry, closed_trade, select_agent_trades
from maestro.weighting import compute_weights, weights_from_trades
from maestro.window import (
    AgentWindow,
    LedgerEntry,
    NeedsQuery,
    WindowTrade,
    current_windows,
    newest_closed_at,
    rebuild_window,
    with_close,
)

from .helpers import T0, closed

AGENTS = ("A", "B", "C")
ODD_CLOSED_AT = ["2026-11-02", 7, 1.5, True, b"x", ["l"], {"m": 1}]
NO_AGE_LIMIT = Settings(window_max_age_seconds=10**9)


@st.composite
def journals(draw: st.DrawFn) -> tuple[list[JournalEntry], MaestroConfig]:
    """Journals with every kind of closed_at (most timestamps, some of each wrong type, some open),
    equal timestamps (ties fall to the id), bad amounts and other agents' trades."""
    entries: list[JournalEntry] = []
    for index in range(draw(st.integers(0, 40))):
        agent = draw(st.sampled_from([*AGENTS, "Other"]))
        minute = draw(st.integers(0, 25))  # few distinct minutes: ties happen
        pnl = draw(st.sampled_from(["1.5", "-2", "0", "3.25", "abc", None, "7", "-0.125"]))
        entry = closed(agent, minute, pnl, quantity=draw(st.sampled_from(["1", "-2", "0"])))
        data = dict(entry.data)
        roll = draw(st.integers(0, 9))
        if roll == 0:
            data["closed_at"] = draw(st.sampled_from(ODD_CLOSED_AT))
        elif roll == 1:
            data["closed_at"] = None  # open
        entries.append(JournalEntry(trade_id=f"t{index:03d}", data=data))
    agent_count = draw(st.integers(1, len(AGENTS)))
    config = MaestroConfig(
        agent_ids=AGENTS[:agent_count],
        lookback_trades=draw(st.integers(2, 8)),
        min_floor_weight=Decimal(0),
    )
    return entries, config


def rebuilt_windows(
    versions: list[tuple[JournalEntry, int]], config: MaestroConfig, as_of_ns: int
) -> dict[str, AgentWindow]:
    """Every configured agent's window from the journal's latest versions, as the query gives."""
    latest = {entry.trade_id: (entry, commit) for entry, commit in versions if commit <= as_of_ns}
    windows = {}
    for agent in config.agent_ids:
        trades = [
            WindowTrade(trade, commit)
            for entry, commit in latest.values()
            if entry.data.get("agent_id") == agent and (trade := closed_trade(entry)) is not None
        ]
        windows[agent] = rebuild_window(agent, trades, config.lookback_trades, as_of_ns)
    return windows


def engine_on(windows: dict[str, AgentWindow], config: MaestroConfig) -> object:
    return weights_from_trades({a: w.closed_trades for a, w in windows.items()}, config)


@settings(max_examples=300, deadline=None)
@given(journals())
def test_windows_give_the_selection_and_the_weights_of_the_engine(
    case: tuple[list[JournalEntry], MaestroConfig],
) -> None:
    entries, config = case
    windows = rebuilt_windows([(e, i + 1) for i, e in enumerate(entries)], config, len(entries))
    assert engine_on(windows, config) == compute_weights(entries, config)
    selected = select_agent_trades(entries, config.agent_ids, config.lookback_trades)
    for agent, window in windows.items():
        assert tuple(window.closed_trades) == selected[agent]  # same trades, same order


class Model:
    """A user's stored state as the trigger keeps it: windows rebuilt at `as_of`, the ledger,
    and the decision taken for every event on it, exactly as service.recompute takes it."""

    def __init__(
        self, config: MaestroConfig, final: list[tuple[JournalEntry, int]], remembers: bool = True
    ) -> None:
        self.remembers = remembers
        self.config, self.final, self.now = config, final, max((c for _, c in final), default=0)
        self.as_of = 0
        self.windows = rebuilt_windows([], config, 0)
        self.ledger: dict[str, LedgerEntry] = {}
        self.rebuilds = 0
        self.merged: dict[str, AgentWindow] | None = None  # as a warm instance remembers it

    def state(self) -> UserState:
        stored = StoredWeights(
            fields={},
            journal_as_of_ns=self.as_of,
            ledger=self.ledger,
            config=self.config.to_json_dict(),
            config_source="saved",
            cause_event_id=None,
            computed_at_ns=self.as_of,
            latest_closed_at=None,
            engine_version=ENGINE_VERSION,
            stale=False,
        )
        config = EffectiveConfig(self.config, "saved")
        return UserState(stored, None, config, self.windows, self.now, current=self.merged)

    def deliver(self, event: TradeEvent) -> None:
        decision = decide(event, self.state(), NO_AGE_LIMIT, Attempt())
        if isinstance(decision, Apply):
            self.ledger = dict(decision.ledger)
            # merged incrementally from the remembered windows (when known): the full merge's
            assert decision.windows == current_windows(self.windows, self.ledger)
            self.merged = decision.windows if self.remembers else None
        elif isinstance(decision, Rebuild):
            # Every write has happened before any event is handled: the query sees the final
            # journal, at a read time after every commit.
            self.as_of, self.ledger, self.rebuilds = self.now, {}, self.rebuilds + 1
            self.windows = rebuilt_windows(self.final, self.config, self.now)
            self.merged = dict(self.windows) if self.remembers else None
        else:
            assert isinstance(decision, Skip)

    def current(self) -> dict[str, AgentWindow]:
        windows = current_windows(self.windows, self.ledger)
        assert not isinstance(windows, NeedsQuery)
        return windows


def close_event(entry: JournalEntry, commit: int, event_id: str) -> TradeEvent:
    event = classify_trade_write(entry.trade_id, event_id, None, entry.data, commit)
    assert isinstance(event, TradeEvent)
    return event


@settings(max_examples=300, deadline=None)
@given(journals(), st.integers(0, 40), st.randoms(use_true_random=False))
def test_closes_in_any_order_and_repeated_end_in_the_final_journals_weights(
    case: tuple[list[JournalEntry], MaestroConfig], split: int, rng: random.Random
) -> None:
    """Windows rebuilt as of commit `split`, then every close delivered in a random order, some
    twice: the windows end as the final journal's, without another rebuild."""
    entries, config = case
    versions = [(entry, index + 1) for index, entry in enumerate(entries)]
    model = Model(config, versions)
    model.as_of = min(split, len(entries))
    model.windows = rebuilt_windows(versions, config, model.as_of)
    closes = [(e, c) for e, c in versions if e.data.get("closed_at") is not None]
    deliveries = [*closes, *rng.sample(closes, len(closes) // 3)]
    rng.shuffle(deliveries)
    for entry, commit in deliveries:
        model.deliver(close_event(entry, commit, f"e-{entry.trade_id}"))
    assert model.rebuilds == 0  # each trade has one version: closes never need the query
    final = rebuilt_windows(versions, config, model.now)
    assert {a: w.trades for a, w in model.current().items()} == {
        a: w.trades for a, w in final.items()
    }
    assert engine_on(model.current(), config) == compute_weights(entries, config)


@settings(max_examples=400, deadline=None)
@given(
    journals(),
    st.lists(st.tuples(st.integers(0, 39), st.integers(0, 25), st.sampled_from([*AGENTS, "X"]))),
    st.floats(0, 1),
    st.randoms(use_true_random=False),
)
def test_trades_reopened_and_closed_again_elsewhere_converge(
    case: tuple[list[JournalEntry], MaestroConfig],
    recloses: list[tuple[int, int, str]],
    split: float,
    rng: random.Random,
) -> None:
    """Some closed trades are reopened and closed again, at another time and possibly under
    another agent (configured or not). The windows were rebuilt at some point of that history;
    every close and reopening is delivered, in any order, closes some twice; a reopening the
    ledger already covers is skipped. The windows end as the final journal's."""
    entries, config = case
    versions = [(entry, index + 1) for index, entry in enumerate(entries)]
    latest = {entry.trade_id: entry for entry in entries}
    events: list[tuple[str, JournalEntry, JournalEntry | None, int]] = [
        ("close", e, None, c) for e, c in versions if e.data.get("closed_at") is not None
    ]
    for position, minute, agent in recloses:
        if position >= len(entries) or latest[entries[position].trade_id].data["closed_at"] is None:
            continue
        old = latest[entries[position].trade_id]
        reopened = JournalEntry(old.trade_id, {**old.data, "closed_at": None})
        events.append(("reopen", old, reopened, len(versions) + 1))
        versions.append((reopened, len(versions) + 1))
        again = JournalEntry(
            old.trade_id,
            {**old.data, "agent_id": agent, "closed_at": T0 + dt.timedelta(minutes=minute)},
        )
        versions.append((again, len(versions) + 1))
        events.append(("close", again, None, len(versions)))
        latest[old.trade_id] = again
    model = Model(config, versions, remembers=rng.random() < 0.7)
    model.as_of = round(split * len(versions))
    model.windows = rebuilt_windows(versions, config, model.as_of)
    deliveries = [*events, *rng.sample(events, len(events) // 3)]
    rng.shuffle(deliveries)
    for kind, entry, after, commit in deliveries:
        before: Any = entry.data if kind == "reopen" else None
        after_data = after.data if after is not None else entry.data
        event = classify_trade_write(entry.trade_id, f"e{commit}", before, after_data, commit)
        assert isinstance(event, TradeEvent)
        model.deliver(event)
    final_entries = list(latest.values())
    assert engine_on(model.current(), config) == compute_weights(final_entries, config)


def window_of(*minutes: int, lookback: int = 3, as_of_ns: int = 10) -> AgentWindow:
    trades = []
    for minute in minutes:
        trade = closed_trade(closed("A", minute, "1"))
        assert trade is not None
        trades.append(WindowTrade(trade, commit_ns=minute))
    return rebuild_window("A", trades, lookback, as_of_ns)


def close_of(minute: int, commit_ns: int, trade_id: str, agent: str = "A") -> WindowTrade:
    entry = closed(agent, minute, "1")
    trade = closed_trade(JournalEntry(trade_id, entry.data))
    assert trade is not None
    return WindowTrade(trade, commit_ns)


def ids(window: AgentWindow | NeedsQuery) -> list[str]:
    assert isinstance(window, AgentWindow)
    return [held.trade_id for held in window.trades]


def test_a_close_pushes_the_oldest_trade_out_of_a_full_window() -> None:
    windows = {"A": window_of(1, 2, 3)}
    ledger = with_close({}, "A", close_of(9, 20, "A-9"))
    assert ids(current_windows(windows, ledger)["A"]) == ["A-9", "A-3", "A-2"]  # type: ignore[index]


def test_a_close_older_than_a_full_window_changes_nothing_there() -> None:
    windows = {"A": window_of(5, 6, 7)}
    merged = current_windows(windows, with_close({}, "A", close_of(1, 20, "old")))
    assert ids(merged["A"]) == ["A-7", "A-6", "A-5"]  # type: ignore[index]
    not_full = {"A": window_of(5, 6, lookback=3)}
    merged = current_windows(not_full, with_close({}, "A", close_of(1, 20, "old")))
    assert ids(merged["A"]) == ["A-6", "A-5", "old"]  # type: ignore[index]


def test_a_trade_closed_again_lower_in_a_full_window_needs_the_query() -> None:
    windows = {"A": window_of(5, 6, 7)}
    # A-6 closed again, now before every trade of the window: a trade outside the window (at
    # minute 2, say) could rank between, so only the query can tell.
    assert current_windows(windows, with_close({}, "A", close_of(1, 20, "A-6"))) == NeedsQuery("A")
    # Closed again higher up: the window still reaches down to where it ended.
    moved_up = current_windows(windows, with_close({}, "A", close_of(9, 20, "A-6")))
    assert ids(moved_up["A"]) == ["A-6", "A-7", "A-5"]  # type: ignore[index]
    # Closed again under another agent: it leaves this full window, which is one short.
    windows["B"] = rebuild_window("B", [], 3, 10)
    moved_away = with_close({}, "B", close_of(9, 20, "A-6", agent="B"))
    assert current_windows(windows, moved_away) == NeedsQuery("A")
    # ...unless the window was not full: then nothing is unknown.
    windows["A"] = window_of(5, 6, lookback=4)
    merged = current_windows(windows, moved_away)
    assert ids(merged["A"]) == ["A-5"] and ids(merged["B"]) == ["A-6"]  # type: ignore[index]


def test_a_ledger_entry_of_an_agent_without_a_window_cannot_be_placed() -> None:
    windows = {"A": window_of(1)}
    assert current_windows(windows, with_close({}, "Z", close_of(2, 20, "z"))) == NeedsQuery("Z")


def test_newest_closed_at_is_the_latest_timestamp_in_any_window() -> None:
    first, second = window_of(1, 4), window_of(2, 3)
    assert newest_closed_at([first, second]) == T0 + dt.timedelta(minutes=4)
    assert newest_closed_at([rebuild_window("A", [], 3, 0)]) is None


def test_a_reopening_covered_by_a_close_under_another_agent_leaves_no_trace() -> None:
    """t1 closed under A and rebuilt into A's window; reopened, closed again under B. The close
    arrives first and takes t1 out of A's window; the reopening then finds the ledger holding a
    later write of t1 and is skipped."""
    config = MaestroConfig(agent_ids=("A", "B"), lookback_trades=3, min_floor_weight=Decimal(0))
    first = JournalEntry("t1", closed("A", 1, "5").data)
    other = JournalEntry("t2", closed("A", 2, "-1").data)
    reopened = JournalEntry("t1", {**first.data, "closed_at": None})
    again = JournalEntry("t1", {**closed("B", 3, "2").data})
    versions = [(first, 1), (other, 2), (reopened, 3), (again, 4)]
    model = Model(config, versions)
    model.as_of = 2
    model.windows = rebuilt_windows(versions, config, 2)
    assert ids(model.windows["A"]) == ["t2", "t1"]
    model.deliver(close_event(again, 4, "close-again"))
    reopening = classify_trade_write("t1", "reopen", first.data, reopened.data, 3)
    assert isinstance(reopening, TradeEvent)
    assert decide(reopening, model.state(), NO_AGE_LIMIT, Attempt()) == Skip(
        SkipReason.ALREADY_REFLECTED
    )
    assert model.rebuilds == 0
    assert ids(model.current()["A"]) == ["t2"] and ids(model.current()["B"]) == ["t1"]
    assert engine_on(model.current(), config) == compute_weights([other, again], config)
