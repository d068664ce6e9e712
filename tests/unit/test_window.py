"""Rolling windows give exactly the engine's selection: built at once, or close by close in any
order and with duplicates, they produce the same weights as compute_weights over the journal."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maestro import ENGINE_VERSION
from maestro.config import MaestroConfig
from maestro.journal import JournalEntry, select_agent_trades
from maestro.weighting import ENGINE_CONTEXT, compute_weights, weights_from_selection
from maestro.window import (
    AgentWindow,
    CloseEffect,
    LogEntry,
    WindowError,
    agent_trades,
    append_to_log,
    apply_close,
    build_window,
    decode_log,
    decode_trades,
    encode_log,
    encode_trades,
    newest_closed_at,
    rebuild_window,
    window_from_fields,
    window_trade,
)

from .helpers import T0, closed

AGENTS = ("A", "B", "C")
ODD_CLOSED_AT = ["2026-11-02", 7, 1.5, True, b"x", ["l"], {"m": 1}, None]


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
        if draw(st.integers(0, 9)) == 0:
            data["closed_at"] = draw(st.sampled_from(ODD_CLOSED_AT))
        entries.append(JournalEntry(trade_id=f"t{index:03d}", data=data))
    agent_count = draw(st.integers(1, len(AGENTS)))
    config = MaestroConfig(
        agent_ids=AGENTS[:agent_count],
        lookback_trades=draw(st.integers(2, 8)),
        min_floor_weight=Decimal(0),
    )
    return entries, config


def windows_of(
    entries: list[JournalEntry], config: MaestroConfig, as_of_ns: int = 0
) -> dict[str, AgentWindow]:
    with_commits = [(entry, index + 1) for index, entry in enumerate(entries)]
    return {
        agent: rebuild_window(agent, with_commits, config.lookback_trades, as_of_ns)
        for agent in config.agent_ids
    }


def weights_from_windows(windows: dict[str, AgentWindow], config: MaestroConfig) -> object:
    return weights_from_selection(
        {agent: agent_trades(window) for agent, window in windows.items()}, config
    )


@settings(max_examples=400, deadline=None)
@given(journals())
def test_windows_give_the_same_result_as_the_engine(
    case: tuple[list[JournalEntry], MaestroConfig],
) -> None:
    entries, config = case
    windows = windows_of(entries, config)
    assert weights_from_windows(windows, config) == compute_weights(entries, config)
    selected = select_agent_trades(entries, config.agent_ids, config.lookback_trades)
    for agent, window in windows.items():
        assert agent_trades(window) == selected[agent]  # same returns, same order, same rejections


@settings(max_examples=400, deadline=None)
@given(journals(), st.integers(0, 40), st.randoms(use_true_random=False))
def test_closes_applied_in_any_order_and_repeated_converge_on_the_rebuilt_window(
    case: tuple[list[JournalEntry], MaestroConfig], split: int, rng: random.Random
) -> None:
    """A window rebuilt from the journal as of commit `split`, then every later close applied in
    a random order, some twice, is the window rebuilt from the whole journal."""
    entries, config = case
    split = min(split, len(entries))
    commits = {entry.trade_id: index + 1 for index, entry in enumerate(entries)}
    early = windows_of(entries[:split], config, as_of_ns=split)
    deliveries = [*entries, *rng.sample(entries, len(entries) // 3)]  # all events, some twice
    rng.shuffle(deliveries)
    for entry in deliveries:
        agent = entry.data.get("agent_id")
        trade = window_trade(entry, commits[entry.trade_id])
        if agent not in early or trade is None:
            continue
        effect, early[agent] = apply_close(early[agent], trade)
        assert effect is not CloseEffect.NEEDS_REBUILD  # each trade has one version here
    assert early == windows_of(entries, config, as_of_ns=split)
    assert weights_from_windows(early, config) == compute_weights(entries, config)


def window_with(*minutes: int, lookback: int = 3, as_of_ns: int = 10) -> AgentWindow:
    trades = []
    for minute in minutes:
        trade = window_trade(closed("A", minute, "1"), commit_ns=minute)
        assert trade is not None
        trades.append(trade)
    return build_window("A", trades, lookback, as_of_ns)


def trade_at(minute: int, commit_ns: int, trade_id: str | None = None, pnl: str = "1") -> object:
    entry = closed("A", minute, pnl)
    if trade_id is not None:
        entry = JournalEntry(trade_id, entry.data)
    return window_trade(entry, commit_ns)


def test_a_close_the_rebuilding_query_already_saw_is_covered() -> None:
    window = window_with(1, 2, as_of_ns=50)
    assert apply_close(window, trade_at(9, commit_ns=50)) == (CloseEffect.COVERED, window)  # type: ignore[arg-type]


def test_a_repeated_close_is_covered_and_a_newer_version_replaces_the_older() -> None:
    window = window_with(1, 2, 3)
    newest = trade_at(9, commit_ns=20, trade_id="A-9")
    effect, applied = apply_close(window, newest)  # type: ignore[arg-type]
    assert effect is CloseEffect.APPLIED
    assert [t.trade_id for t in applied.trades] == ["A-9", "A-3", "A-2"]  # the oldest dropped
    assert apply_close(applied, newest) == (CloseEffect.COVERED, applied)  # type: ignore[arg-type]
    # The same trade closed again later (its reopening not yet applied), with another pnl.
    again = trade_at(8, commit_ns=30, trade_id="A-9", pnl="-4")
    effect, replaced = apply_close(applied, again)  # type: ignore[arg-type]
    assert effect is CloseEffect.APPLIED
    assert [t.trade_id for t in replaced.trades] == ["A-9", "A-3", "A-2"]
    assert replaced.trades[0].outcome == "-4"


def test_a_close_older_than_a_full_window_changes_nothing() -> None:
    window = window_with(5, 6, 7)
    assert apply_close(window, trade_at(1, commit_ns=20)) == (CloseEffect.UNCHANGED, window)  # type: ignore[arg-type]
    not_full = window_with(5, 6, lookback=3)
    effect, applied = apply_close(not_full, trade_at(1, commit_ns=20))  # type: ignore[arg-type]
    assert effect is CloseEffect.APPLIED and len(applied.trades) == 3


def test_a_newer_version_moving_down_a_full_window_may_need_the_query() -> None:
    window = window_with(5, 6, 7)
    # A-6 closed again, now before every other trade of the window: a trade outside the window
    # (minute 2, say) could rank between, so only the query can tell.
    moved_back = trade_at(1, commit_ns=20, trade_id="A-6")
    assert apply_close(window, moved_back) == (CloseEffect.NEEDS_REBUILD, window)  # type: ignore[arg-type]
    # Still above the oldest kept trade: certainly in the window.
    effect, applied = apply_close(window, trade_at(6, commit_ns=20, trade_id="A-7"))  # type: ignore[arg-type]
    assert effect is CloseEffect.APPLIED
    assert [t.trade_id for t in applied.trades] == ["A-7", "A-6", "A-5"]
    effect, applied = apply_close(window_with(5, lookback=1), trade_at(9, 20, "A-5"))  # type: ignore[arg-type]
    assert effect is CloseEffect.APPLIED and applied.trades[0].sort_text.endswith("14:39:00.000000")


def test_stored_form_round_trips_and_corruption_is_refused() -> None:
    odd = JournalEntry("odd", {"agent_id": "A", "closed_at": "yesterday"})
    bad = JournalEntry("bad", {**closed("A", 4, "x").data})
    trades = [window_trade(e, 7) for e in (closed("A", 1, "1.5"), odd, bad)]
    window = build_window("A", [t for t in trades if t is not None], 5, as_of_ns=3)
    stored = {
        "format": 1,
        "engine_version": ENGINE_VERSION,
        "agent_id": "A",
        "lookback_trades": 5,
        "trades": encode_trades(window.trades),
    }
    assert window_from_fields(stored, "A", as_of_ns=3) == window
    assert [t.outcome for t in window.trades] == [
        "!closed_at_invalid",
        "!realized_pnl_invalid",
        "1.5",
    ]
    for broken, problem in [
        ({**stored, "format": 2}, "format"),
        ({**stored, "agent_id": "B"}, "agent_id"),
        ({**stored, "engine_version": "0.9"}, "engine_version"),
        ({**stored, "lookback_trades": 1}, "3 trades for a lookback of 1"),
        ({**stored, "trades": "[["}, "trades"),
        ({**stored, "trades": '[["x", 3, "t", "NaN", 1]]'}, "outcome"),
        ({**stored, "trades": '[["x", 3, "t", "!no_such_reason", 1]]'}, "outcome"),
        ({**stored, "trades": '[["x", "3", "t", "1", 1]]'}, "malformed"),
        ({**stored, "trades": '[["x", 3, "t", "1"]]'}, "trades"),
        ({**stored, "trades": 5}, "not a string"),
    ]:
        with pytest.raises(WindowError, match=problem):
            window_from_fields(broken, "A", as_of_ns=3)


def test_returns_keep_every_digit_through_the_stored_form() -> None:
    entry = closed("A", 1, "1", price="3")  # 100/3 %: 50 significant digits
    trade = window_trade(entry, 1)
    assert trade is not None
    (decoded,) = decode_trades(encode_trades([trade]))
    with localcontext(ENGINE_CONTEXT):  # where compute_weights selects
        selected = select_agent_trades([entry], ["A"], 2)["A"]
    assert agent_trades(build_window("A", [decoded], 2, 0)).returns_pct == selected.returns_pct
    assert len(selected.returns_pct[0].as_tuple().digits) == 50


def test_newest_closed_at_is_the_latest_timestamp_in_any_window() -> None:
    first, second = window_with(1, 4), window_with(2, 3)
    assert newest_closed_at([first, second]) == T0 + dt.timedelta(minutes=4)
    assert newest_closed_at([build_window("A", [], 3, 0)]) is None


@settings(max_examples=400, deadline=None)
@given(journals(), st.lists(st.tuples(st.integers(0, 39), st.integers(0, 25))), st.randoms())
def test_trades_closed_again_converge_once_their_reopenings_rebuild(
    case: tuple[list[JournalEntry], MaestroConfig],
    recloses: list[tuple[int, int]],
    rng: random.Random,
) -> None:
    """Some trades are reopened and closed again with another closed_at. Every close and every
    reopening is delivered, in any order, closes some twice; a reopening (like NEEDS_REBUILD)
    rebuilds from the journal as it is when it is handled, which is its latest state here. The
    windows end as the journal's own."""
    entries, config = case
    versions = [(entry, index + 1) for index, entry in enumerate(entries)]
    latest = {entry.trade_id: (entry, commit) for entry, commit in versions}
    reopenings = 0
    for position, minute in recloses:
        if position < len(entries):
            old = entries[position]
            again = JournalEntry(old.trade_id, {**old.data, "closed_at": T0.replace(minute=minute)})
            versions.append((again, len(versions) + 1))
            latest[old.trade_id] = versions[-1]
            reopenings += 1
    journal_now, now = list(latest.values()), len(versions)
    windows = {
        agent: build_window(agent, [], config.lookback_trades, 0) for agent in config.agent_ids
    }

    def rebuild(agent: str) -> AgentWindow:
        return rebuild_window(agent, journal_now, config.lookback_trades, now)

    deliveries: list[tuple[JournalEntry, int] | None] = [
        *versions,
        *rng.sample(versions, len(versions) // 3),
        *[None] * reopenings,  # a reopening: rebuild (of every agent, to keep the model small)
    ]
    rng.shuffle(deliveries)
    for delivery in deliveries:
        if delivery is None:
            windows = {agent: rebuild(agent) for agent in windows}
            continue
        entry, commit_ns = delivery
        agent = entry.data.get("agent_id")
        trade = window_trade(entry, commit_ns)
        if agent not in windows or trade is None:
            continue
        effect, windows[agent] = apply_close(windows[agent], trade)
        if effect is CloseEffect.NEEDS_REBUILD:
            windows[agent] = rebuild(agent)
    final_entries = [entry for entry, _ in journal_now]
    assert weights_from_windows(windows, config) == compute_weights(final_entries, config)


def test_the_window_log_round_trips_in_order_and_keeps_one_version_per_trade() -> None:
    log: list[LogEntry] = []
    first, second = trade_at(5, 20, "t.1"), trade_at(6, 21, "t2")
    newer = trade_at(7, 22, "t.1", pnl="3")
    for agent, trade in (("A", first), ("B", second), ("A", newer)):
        append_to_log(log, agent, trade)  # type: ignore[arg-type]
    assert [(place, agent, t.trade_id) for place, agent, t in log] == [
        (1, "B", "t2"),
        (2, "A", "t.1"),
    ]
    stored = encode_log(log)
    assert set(stored) == {"t2", "t.1"}
    assert decode_log(stored) == log
    assert decode_log(None) == []
    for broken, problem in [
        ("[[", "not a map"),
        ({"x": "[1"}, "window_log"),
        ({"x": '["1", "A", 3, "t", "1", 1]'}, "malformed"),
        ({"x": '[1, "A", 3, "t", "1", 1]', "y": '[1, "A", 3, "u", "2", 2]'}, "one place"),
        ({"x": '[1, "A", 3, "t", "NaN", 1]'}, "outcome"),
    ]:
        with pytest.raises(WindowError, match=problem):
            decode_log(broken)
