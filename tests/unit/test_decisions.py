"""The one decision: every skip and rebuild reason reached by a case of its own, the rules'
order where two could apply, and the README's table listing exactly these reasons."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from maestro import ENGINE_VERSION
from maestro.config import MaestroConfig
from maestro.decisions import (
    MAX_LEDGER_ENTRIES,
    Apply,
    Attempt,
    Decision,
    Rebuild,
    RebuildReason,
    Settings,
    Skip,
    SkipReason,
    decide,
    hand_off,
)
from maestro.documents import EffectiveConfig, StoredWeights, Unreadable, UserState
from maestro.events import (
    CallableRequest,
    ConfigWritten,
    EventCheck,
    EventKind,
    QueuedRebuild,
    Request,
    TradeEvent,
    classify_trade_write,
)
from maestro.journal import JournalEntry, closed_trade
from maestro.timestamps import from_ns
from maestro.window import LedgerEntry, WindowTrade, rebuild_window

from .helpers import closed

ROOT = Path(__file__).resolve().parents[2]
AGENTS = MaestroConfig().agent_ids
SECOND = 1_000_000_000
AS_OF = 1_000 * SECOND  # the last rebuild
NOW = AS_OF + 60 * SECOND  # the run's read


def window_trade(agent: str, minute: int, trade_id: str, commit_ns: int) -> WindowTrade:
    trade = closed_trade(JournalEntry(trade_id, closed(agent, minute, "1").data))
    assert trade is not None
    return WindowTrade(trade, commit_ns)


def windows(lookback: int = 100, as_of: int = AS_OF, minutes: int = 3) -> dict[str, Any]:
    return {
        agent: rebuild_window(
            agent,
            [window_trade(agent, m, f"{agent}-{m}", AS_OF - SECOND) for m in range(minutes)],
            lookback,
            as_of,
        )
        for agent in AGENTS
    }


def stored(**changes: Any) -> StoredWeights:
    weights = StoredWeights(
        fields={},
        journal_as_of_ns=AS_OF,
        ledger={},
        config=MaestroConfig().to_json_dict(),
        config_source="defaults",
        cause_event_id="event-0",
        computed_at_ns=AS_OF,
        latest_closed_at=None,
        engine_version=ENGINE_VERSION,
        stale=False,
    )
    return dataclasses.replace(weights, **changes)


_STORED = object()


def state(weights: Any = _STORED, **changes: Any) -> UserState:
    """A user's state; `weights=None`: no weights document yet."""
    base = UserState(
        weights=stored() if weights is _STORED else weights,
        weights_update_time=None,
        config=EffectiveConfig(MaestroConfig(), "defaults"),
        windows=windows(),
        read_ns=NOW,
    )
    return dataclasses.replace(base, **changes)


def close(
    trade_id: str = "new", agent: str = "GammaScalper", commit_ns: int = NOW, minute: int = 50
) -> TradeEvent:
    event = classify_trade_write(
        trade_id, f"event-{trade_id}", None, closed(agent, minute, "2").data, commit_ns
    )
    assert isinstance(event, TradeEvent)
    return event


def check(event: TradeEvent, started_ns: int = NOW + 1) -> EventCheck:
    return EventCheck.of(event, started_ns)


def trade_event(kind: EventKind) -> TradeEvent:
    data = closed("GammaScalper", 1, "2").data
    before, after = {
        EventKind.DELETE: (data, None),
        EventKind.REOPEN: (data, {**data, "closed_at": None}),
        EventKind.EDIT: (data, {**data, "realized_pnl": "3"}),
    }[kind]
    event = classify_trade_write("GammaScalper-1", "event-x", before, after, NOW)
    assert isinstance(event, TradeEvent) and event.kind is kind
    return event


NO_SKIP = Settings()
NEWER_CLOSE = Attempt(newer_close=lambda: True)
RETRY = Attempt(first_read_ns=AS_OF - SECOND)
FULL_LEDGER = {
    f"l{i}": LedgerEntry("SectorRotation", window_trade("SectorRotation", 9, f"l{i}", NOW - 1))
    for i in range(MAX_LEDGER_ENTRIES)
}
# GammaScalper-1 closed again before every trade of its full window (lookback 3).
RECLOSED_LOWER = close("GammaScalper-1", minute=-5)

CASES: list[tuple[str, Request, UserState, Settings, Attempt, Decision]] = [
    # --- skips
    ("retry finds a later rebuild", CallableRequest(force=True), state(), NO_SKIP, RETRY,
     Skip(SkipReason.SUPERSEDED)),
    ("config retry finds a later rebuild", ConfigWritten(), state(), NO_SKIP, RETRY,
     Skip(SkipReason.SUPERSEDED)),
    ("same event again", close(), state(stored(cause_event_id="event-new")), NO_SKIP, Attempt(),
     Skip(SkipReason.DUPLICATE_EVENT)),
    ("committed before the rebuild", close(commit_ns=AS_OF), state(), NO_SKIP, Attempt(),
     Skip(SkipReason.ALREADY_REFLECTED)),
    ("in the ledger", close("l3", commit_ns=NOW - 1),
     state(stored(ledger=FULL_LEDGER)), NO_SKIP, Attempt(), Skip(SkipReason.ALREADY_REFLECTED)),
    ("unconfigured agent", close(agent="Nobody"), state(), NO_SKIP, Attempt(),
     Skip(SkipReason.OTHER_AGENTS)),
    ("cache", CallableRequest(), state(), NO_SKIP, Attempt(), Skip(SkipReason.CACHE_VALID)),
    ("config, no weights", ConfigWritten(), state(None), NO_SKIP, Attempt(),
     Skip(SkipReason.NO_WEIGHTS_YET)),
    ("config unchanged", ConfigWritten(), state(), NO_SKIP, Attempt(),
     Skip(SkipReason.CONFIG_ALREADY_USED)),
    # --- rebuilds
    ("first close", close(), state(None), NO_SKIP, Attempt(),
     Rebuild(RebuildReason.FIRST_WEIGHTS)),
    ("first call", CallableRequest(), state(None), NO_SKIP, Attempt(),
     Rebuild(RebuildReason.FIRST_WEIGHTS)),
    ("old shape", close(), state(Unreadable("format None")), NO_SKIP, Attempt(),
     Rebuild(RebuildReason.STORED_WEIGHTS_UNREADABLE)),
    ("old shape, config", ConfigWritten(), state(Unreadable("format None")), NO_SKIP, Attempt(),
     Rebuild(RebuildReason.STORED_WEIGHTS_UNREADABLE)),
    ("old shape, call", CallableRequest(), state(Unreadable("format None")), NO_SKIP, Attempt(),
     Rebuild(RebuildReason.STORED_WEIGHTS_UNREADABLE)),
    ("force", CallableRequest(force=True), state(), NO_SKIP, Attempt(),
     Rebuild(RebuildReason.FORCED)),
    ("config saved", CallableRequest(config_saved=True), state(), NO_SKIP, Attempt(),
     Rebuild(RebuildReason.CONFIG_SAVED)),
    ("config written", ConfigWritten(), state(stored(config_source="saved")), NO_SKIP, Attempt(),
     Rebuild(RebuildReason.CONFIG_CHANGED)),
    ("call, config changed", CallableRequest(),
     state(stored(config={**MaestroConfig().to_json_dict(), "lookback_trades": 5})), NO_SKIP,
     Attempt(), Rebuild(RebuildReason.CONFIG_CHANGED)),
    ("close on stale weights", close(), state(stored(stale=True)), NO_SKIP, Attempt(),
     Rebuild(RebuildReason.STALE)),
    ("call on stale weights", CallableRequest(), state(stored(stale=True)), NO_SKIP, Attempt(),
     Rebuild(RebuildReason.STALE)),
    ("engine", CallableRequest(), state(stored(engine_version="0.9")), NO_SKIP, Attempt(),
     Rebuild(RebuildReason.ENGINE_CHANGED)),
    ("ttl", CallableRequest(), state(), Settings(cache_ttl_seconds=59), Attempt(),
     Rebuild(RebuildReason.CACHE_EXPIRED)),
    ("newer close", CallableRequest(), state(), NO_SKIP, NEWER_CLOSE,
     Rebuild(RebuildReason.NEWER_CLOSE)),
    ("delete", trade_event(EventKind.DELETE), state(), NO_SKIP, Attempt(),
     Rebuild(RebuildReason.TRADE_DELETED)),
    ("reopen", trade_event(EventKind.REOPEN), state(), NO_SKIP, Attempt(),
     Rebuild(RebuildReason.TRADE_REOPENED)),
    ("edit", trade_event(EventKind.EDIT), state(), NO_SKIP, Attempt(),
     Rebuild(RebuildReason.CLOSED_TRADE_EDITED)),
    ("windows off", close(), state(), Settings(window_max_age_seconds=0), Attempt(),
     Rebuild(RebuildReason.WINDOWS_OFF)),
    ("old windows", close(), state(), Settings(window_max_age_seconds=59), Attempt(),
     Rebuild(RebuildReason.WINDOWS_TOO_OLD)),
    ("ledger full", close(), state(stored(ledger=FULL_LEDGER)), NO_SKIP, Attempt(),
     Rebuild(RebuildReason.LEDGER_FULL)),
    ("a window missing", close(), state(windows={a: w for a, w in windows().items()
                                                 if a != "SectorRotation"}), NO_SKIP, Attempt(),
     Rebuild(RebuildReason.WINDOWS_UNUSABLE)),
    ("windows of another rebuild", close(), state(windows=windows(as_of=AS_OF - 1)), NO_SKIP,
     Attempt(), Rebuild(RebuildReason.WINDOWS_UNUSABLE)),
    ("windows of another lookback", close(), state(windows=windows(lookback=50)), NO_SKIP,
     Attempt(), Rebuild(RebuildReason.WINDOWS_UNUSABLE)),
    ("windows not read", close(), state(windows=None), NO_SKIP, Attempt(),
     Rebuild(RebuildReason.WINDOWS_UNUSABLE)),
    ("closed again lower in a full window", RECLOSED_LOWER,
     state(windows=windows(lookback=3), config=EffectiveConfig(
         MaestroConfig(lookback_trades=3), "defaults")),
     NO_SKIP, Attempt(), Rebuild(RebuildReason.CLOSE_NEEDS_QUERY)),
    ("queued, a later rebuild covers it", QueuedRebuild(AS_OF), state(), NO_SKIP, Attempt(),
     Skip(SkipReason.ALREADY_REFLECTED)),
    ("queued", QueuedRebuild(AS_OF + 1), state(), NO_SKIP, Attempt(),
     Rebuild(RebuildReason.QUEUED)),
    ("queued on stale weights", QueuedRebuild(AS_OF), state(stored(stale=True)), NO_SKIP,
     Attempt(), Rebuild(RebuildReason.QUEUED)),
    ("queued, first weights", QueuedRebuild(AS_OF), state(None), NO_SKIP, Attempt(),
     Rebuild(RebuildReason.QUEUED)),
    # A trade event's delayed check: its run left it reflected, or it died.
    ("check, the close is in the ledger", check(close("l1", "SectorRotation", NOW - 1)),
     state(stored(ledger=FULL_LEDGER)), NO_SKIP, Attempt(), Skip(SkipReason.ALREADY_REFLECTED)),
    ("check, a later rebuild covers it", check(close(commit_ns=AS_OF - 1)), state(), NO_SKIP,
     Attempt(), Skip(SkipReason.ALREADY_REFLECTED)),
    ("check, its run stored the weights", check(close("x")),
     state(stored(cause_event_id="event-x")), NO_SKIP, Attempt(),
     Skip(SkipReason.ALREADY_REFLECTED)),
    ("check, the close is missing", check(close()), state(), NO_SKIP, Attempt(),
     Skip(SkipReason.RUN_DIED)),
    ("check, a delete rebuilt after its run began", check(trade_event(EventKind.DELETE), AS_OF),
     state(), NO_SKIP, Attempt(), Skip(SkipReason.ALREADY_REFLECTED)),
    ("check, a delete not rebuilt since", check(trade_event(EventKind.DELETE), AS_OF + 1),
     state(), NO_SKIP, Attempt(), Skip(SkipReason.RUN_DIED)),
    ("check, no weights at all", check(close()), state(None), NO_SKIP, Attempt(),
     Skip(SkipReason.RUN_DIED)),
    ("check, stale weights never count as reflecting", check(close(commit_ns=AS_OF - 1)),
     state(stored(stale=True)), NO_SKIP, Attempt(), Skip(SkipReason.RUN_DIED)),
    ("check, unreadable weights", check(close()), state(Unreadable("format 1")), NO_SKIP,
     Attempt(), Skip(SkipReason.RUN_DIED)),
    ("check, another agent's trade", check(close(agent="Nobody")), state(None), NO_SKIP,
     Attempt(), Skip(SkipReason.OTHER_AGENTS)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("request_", "state_", "settings", "attempt", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_rule(
    request_: Request, state_: UserState, settings: Settings, attempt: Attempt, expected: Decision
) -> None:
    assert decide(request_, state_, settings, attempt) == expected


def test_every_reason_has_a_case() -> None:
    reached = {case[-1].reason for case in CASES if not isinstance(case[-1], Apply)}
    # HANDED_OFF is hand_off's, not decide's: test_a_trade_event_hands_off_after_two_conflicts;
    # WRITTEN_TOO_RECENTLY: test_a_close_that_reads_a_document_written_within_a_second_hands_off
    assert reached | {SkipReason.HANDED_OFF, SkipReason.WRITTEN_TOO_RECENTLY} == (
        set(SkipReason) | set(RebuildReason)
    )


def test_a_close_that_reads_a_document_written_within_a_second_hands_off() -> None:
    queue_on = Settings(handoff_after_conflicts=2)
    young = state(weights_update_time=from_ns(NOW - SECOND + 1))
    old = state(weights_update_time=from_ns(NOW - SECOND))
    gated = Skip(SkipReason.WRITTEN_TOO_RECENTLY)
    assert decide(close(), young, queue_on, Attempt()) == gated
    assert decide(trade_event(EventKind.DELETE), young, queue_on, Attempt()) == gated
    assert isinstance(decide(close(), old, queue_on, Attempt()), Apply)  # a second old: writes
    # Whoever wrote it: an instance's own write a moment ago holds its next close too.
    remembered = state(weights_update_time=from_ns(NOW - 1), read_ns=NOW)
    assert decide(close(), remembered, queue_on, Attempt()) == gated
    assert isinstance(decide(close(), young, Settings(), Attempt()), Apply)  # no queue: no gate
    # What would write nothing still skips for its own reason; the callable is never held.
    reflected = state(
        stored(cause_event_id="event-new"), weights_update_time=young.weights_update_time
    )
    assert decide(close(), reflected, queue_on, Attempt()) == Skip(SkipReason.DUPLICATE_EVENT)
    assert decide(CallableRequest(force=True), young, queue_on, Attempt()) == (
        Rebuild(RebuildReason.FORCED)
    )


def test_a_trade_event_hands_off_after_two_conflicts() -> None:
    on = Settings(handoff_after_conflicts=2)
    assert hand_off(close(), on, 1) is None
    assert hand_off(close(), on, 2) == Skip(SkipReason.HANDED_OFF)
    assert hand_off(CallableRequest(force=True), on, 5) is None  # the callable races on
    assert hand_off(QueuedRebuild(AS_OF), on, 5) is None  # the queue itself retries the task
    assert hand_off(close(), Settings(), 7) is None  # off unless the deployment turns it on


def test_a_close_on_trusted_windows_is_applied() -> None:
    decision = decide(close(), state(), Settings(), Attempt())
    assert isinstance(decision, Apply) and decision.in_window
    assert decision.ledger["new"].agent_id == "GammaScalper"
    assert decision.windows["GammaScalper"].trades[0].trade_id == "new"
    # Older than every trade of a full window: recorded (so it reads as reflected), no change.
    full = state(
        windows=windows(lookback=3),
        config=EffectiveConfig(MaestroConfig(lookback_trades=3), "defaults"),
    )
    old = decide(close(minute=-9), full, Settings(), Attempt())
    assert isinstance(old, Apply) and not old.in_window and "new" in old.ledger


def test_the_rules_apply_in_the_tables_order() -> None:
    # A duplicate of a close of an unconfigured agent on stale weights: the duplicate wins.
    stale = state(stored(stale=True, cause_event_id="event-new"))
    assert decide(close(agent="Nobody"), stale, Settings(), Attempt()) == Skip(
        SkipReason.DUPLICATE_EVENT
    )
    # Stale weights never count as reflecting a write: the close rebuilds.
    assert decide(close(commit_ns=AS_OF), state(stored(stale=True)), Settings(), Attempt()) == (
        Rebuild(RebuildReason.STALE)
    )
    # The callable's rules: a saved config rebuilds even on a fresh cache.
    assert decide(
        CallableRequest(force=True, config_saved=True), state(), Settings(), Attempt()
    ) == (Rebuild(RebuildReason.CONFIG_SAVED))


def test_the_readme_table_lists_every_reason_once() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### What a run does", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `([A-Z_]+)` \|", section, flags=re.MULTILINE)
    assert len(listed) == len(set(listed))
    assert set(listed) == {*SkipReason.__members__, *RebuildReason.__members__}
