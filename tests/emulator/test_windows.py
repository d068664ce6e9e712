"""Rolling windows on the emulator: closes applied to them give the weights a full recompute
gives, whatever the order and repetition of their events; every other change, a stale flag, a
damaged window or weights document and the bound on the ledger rebuild them from the journal."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from google.cloud import firestore

from maestro import documents, firestore_io, service
from maestro.config import MaestroConfig
from maestro.decisions import Settings, SkipReason
from maestro.events import TradeEvent, classify_trade_write
from maestro.timestamps import to_ns

from .harness import Suite, User, seed_journal, trade, wait_until
from .inprocess import run_close, run_trigger

AGENTS = ("WhaleFlowAgent", "SentimentAgent", "GammaScalper", "SectorRotation")
PNLS = ("4", "-2", "7.5", "1", "-3", "2.25", "6", "-1.5")


def seeded_user(suite: Suite, *, quiet: bool = False) -> tuple[User, dict[str, Any]]:
    """A user with 3 closed trades per agent and the weights for them. quiet: written with
    triggers off and computed by the callable, so that no trigger run is still under way."""
    user = suite.create_user()
    journal = {
        f"s-{agent}-{i}": trade(agent, i * 4 + a, PNLS[(i + a) % len(PNLS)])
        for a, agent in enumerate(AGENTS)
        for i in range(3)
    }
    settled: dict[str, Any] | None
    if quiet:
        suite.background_triggers(False)
        try:
            seed_journal(suite, user.uid, journal, wait=False)
        finally:
            suite.background_triggers(True)
        forced_recompute(suite, user)
        settled = suite.weights_doc(user.uid)
    else:
        settled = seed_journal(suite, user.uid, journal)
    assert settled is not None and settled["ledger"] == {}
    return user, settled


def forced_recompute(suite: Suite, user: User) -> dict[str, Any]:
    status, body = suite.call({"force": True}, token=user.id_token)
    assert status == 200, body
    return body["result"]  # type: ignore[no-any-return]


def test_closes_through_the_windows_give_the_weights_of_a_full_recompute(suite: Suite) -> None:
    user, _ = seeded_user(suite, quiet=True)
    # A short lookback, so that closes push trades out and a backdated close falls outside.
    # (Triggers off meanwhile: the config trigger would find the callable's weights current.)
    suite.background_triggers(False)
    try:
        status, body = suite.call({"config": {"lookback_trades": 3}}, token=user.id_token)
    finally:
        suite.background_triggers(True)
    assert status == 200
    rebuilt_at = body["result"]["journal_as_of"]
    closes = [
        ("n1", trade("WhaleFlowAgent", 100, "9")),
        ("n2", trade("SentimentAgent", 101, "-4")),
        ("old", trade("GammaScalper", -50, "30")),  # older than the agent's last 3: no effect
        ("bad", {**trade("WhaleFlowAgent", 102, "1"), "quantity": "lots"}),  # rejected, counted
        ("n3.x y", trade("SectorRotation", 103, "0.5")),  # a map key, not a field path
    ]
    for trade_id, data in closes:
        suite.past_the_write_gate(user.uid)  # each a lone close, applied by its own run
        written = suite.journal(user.uid).document(trade_id).set(data)
        document = suite.wait_reflected(user.uid, trade_id, written.update_time)

    config = MaestroConfig(lookback_trades=3)
    assert document["weights"] == suite.offline_weights(user.uid, config)
    assert set(document["ledger"]) == {c[0] for c in closes}
    assert document["journal_as_of"].isoformat() == rebuilt_at  # no journal read since
    assert document["agents"]["WhaleFlowAgent"]["rejection_reasons"] == {"quantity_invalid": 1}
    full = forced_recompute(suite, user)
    assert full["weights"] == document["weights"]
    # The callable answers each agent's diagnostics as a map; the closes stored them as a string.
    assert full["agents"] == documents.to_json_ready(document)["agents"]
    assert full["ledger"] == {} and full["journal_as_of"] > rebuilt_at


def test_events_out_of_order_and_repeated_end_in_the_journals_weights(suite: Suite) -> None:
    user, settled = seeded_user(suite)
    snapshots = [
        suite.write_unseen(user.uid, f"c{i}", trade("GammaScalper", 200 + i, PNLS[i]))
        for i in range(3)
    ]
    for index in (2, 0, 2, 1, 0):  # newest first, then older ones, two of them twice
        suite.past_the_write_gate(user.uid)  # not a burst: each run goes through the windows
        run_trigger(suite.project, user.uid, f"c{index}", None, snapshots[index])
    document = suite.weights_doc(user.uid)
    assert document is not None
    assert document["weights"] == suite.offline_weights(user.uid)
    assert set(document["ledger"]) == {"c0", "c1", "c2"}
    for index, snapshot in enumerate(snapshots):  # each close at its own commit, once
        assert document["ledger"][f"c{index}"] == snapshot.update_time
    assert document["journal_as_of"] == settled["journal_as_of"]

    # A delete is not a close: it rebuilds every window from the journal (its own run: the
    # runs above wrote last in this process, not in the emulator's worker).
    suite.past_the_write_gate(user.uid)
    suite.journal(user.uid).document("c1").delete()
    rebuilt = suite.wait_for_weights(user.uid, lambda doc: doc["ledger"] == {})
    assert rebuilt["cause"]["trade_id"] == "c1" and "commit_time" not in rebuilt["cause"]
    assert rebuilt["journal_as_of"] > document["computed_at"]
    assert rebuilt["weights"] == suite.offline_weights(user.uid)


def test_a_close_applied_twice_leaves_the_document_untouched(suite: Suite) -> None:
    user, _ = seeded_user(suite, quiet=True)
    after = suite.write_unseen(user.uid, "once", trade("SentimentAgent", 300, "5"))
    first = run_close(suite, user.uid, after)
    assert (first.status, first.path) == ("written", "window")
    stored = suite.weights_doc(user.uid)
    again = run_close(suite, user.uid, after)
    assert again.status == "skipped" and "already reflect" in again.reason
    assert suite.weights_doc(user.uid) == stored


@pytest.mark.parametrize(
    "damage",
    ["stale", "window", "ledger", "old shape", "format 2", "format 3", "lookback", "bound"],
)
def test_what_the_windows_cannot_be_trusted_with_rebuilds_them(suite: Suite, damage: str) -> None:
    user, settled = seeded_user(suite, quiet=True)
    settings = Settings(max_ledger_entries=1) if damage == "bound" else None
    if damage == "stale":  # a failed run may have lost a close
        firestore_io.mark_weights_stale(suite.db, user.uid, "test")
    elif damage == "window":  # a damaged window document
        windows = suite.db.document(f"users/{user.uid}/maestro/windows")
        windows.update({"windows.GammaScalper": "[[not json"})
    elif damage == "ledger":  # a damaged record of the closes applied since the rebuild
        first = suite.write_unseen(user.uid, "first", trade("GammaScalper", 399, "1"))
        assert run_close(suite, user.uid, first).path == "window"
        suite.db.document(f"users/{user.uid}/maestro/weights").update({"ledger.first": "[[1]]"})
    elif damage == "old shape":  # a weights document as Maestro wrote it before the ledger
        suite.db.document(f"users/{user.uid}/maestro/weights").update(
            {"format": firestore.DELETE_FIELD, "closes_applied": {}, "window_log": {}}
        )
    elif damage == "format 2":  # each ledger entry a map, before its trades went in one string
        first = suite.write_unseen(user.uid, "first", trade("GammaScalper", 399, "1"))
        assert run_close(suite, user.uid, first).path == "window"
        weights = suite.db.document(f"users/{user.uid}/maestro/weights")
        applied = weights.get().get("ledger.first")
        weights.update(
            {
                "format": 2,
                "ledger.first": {"commit_time": applied, "trade": '["GammaScalper"]'},
                "ledger_trades": firestore.DELETE_FIELD,
            }
        )
    elif damage == "format 3":  # each agent's diagnostics a map, before they went in a string
        weights = suite.db.document(f"users/{user.uid}/maestro/weights")
        agents = weights.get().get("agents")
        weights.update(
            {
                "format": 3,
                **{
                    f"agents.{agent}.diagnostics": json.loads(detail["diagnostics"])
                    for agent, detail in agents.items()
                },
            }
        )
    elif damage == "lookback":  # a config changed by hand, behind the callable's back
        # Unseen by the config trigger, which would otherwise race this run to the rebuild
        # (and sometimes win it: the close then found windows of the new lookback).
        suite.background_triggers(False)
        try:
            suite.db.document(f"users/{user.uid}/maestro/config").set({"lookback_trades": 2})
        finally:
            suite.background_triggers(True)
    else:  # the bound on closes listed in the document
        first = suite.write_unseen(user.uid, "first", trade("GammaScalper", 399, "1"))
        assert run_close(suite, user.uid, first, settings).path == "window"

    after = suite.write_unseen(user.uid, "next", trade("GammaScalper", 400, "3"))
    outcome = run_close(suite, user.uid, after, settings)

    assert (outcome.status, outcome.path) == ("written", "query"), outcome.reason
    document = suite.weights_doc(user.uid)
    assert document is not None and document["ledger"] == {}
    assert set(document) >= {"format", "ledger", "ledger_trades"}
    assert document["format"] == documents.WEIGHTS_FORMAT and "closes_applied" not in document
    assert all(isinstance(a["diagnostics"], str) for a in document["agents"].values())
    assert document["journal_as_of"] >= after.update_time > settled["journal_as_of"]
    assert document["stale"] is False
    config = MaestroConfig(lookback_trades=2) if damage == "lookback" else None
    assert document["weights"] == suite.offline_weights(user.uid, config)
    # The next close goes through the rebuilt windows again.
    later = suite.write_unseen(user.uid, "later", trade("GammaScalper", 401, "-1"))
    assert run_close(suite, user.uid, later, settings).path == "window"


def second_event(suite: Suite, uid: str, trade_id: str) -> TradeEvent:
    """Another delivery (a new event id) of the close of `trade_id` as it stands."""
    after = suite.journal(uid).document(trade_id).get()
    event = classify_trade_write(
        trade_id, str(uuid.uuid4()), None, after.to_dict(), to_ns(after.update_time)
    )
    assert isinstance(event, TradeEvent)
    return event


def test_windows_turned_off_read_the_journal_on_every_close(suite: Suite) -> None:
    user, _ = seeded_user(suite, quiet=True)
    after = suite.write_unseen(user.uid, "q", trade("WhaleFlowAgent", 500, "2"))
    outcome = run_close(suite, user.uid, after, Settings(window_max_age_seconds=0))
    assert (outcome.status, outcome.path) == ("written", "query")
    assert "turned off" in outcome.reason
    assert wait_until(lambda: suite.weights_doc(user.uid), 5)["weights"] == suite.offline_weights(
        user.uid
    )


def test_after_its_own_write_an_instance_reads_nothing_for_a_close(
    suite: Suite, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, _ = seeded_user(suite, quiet=True)
    reads: list[str] = []
    for name in ("_get_all", "_run_query"):
        original = getattr(firestore_io, name)

        def counted(*args: Any, _name: str = name, _original: Any = original) -> Any:
            reads.append(_name)
            return _original(*args)

        monkeypatch.setattr(firestore_io, name, counted)
    service.forget_instance_memory()  # as a new instance
    first = run_close(
        suite, user.uid, suite.write_unseen(user.uid, "m1", trade(AGENTS[0], 600, "2"))
    )
    # weights, config and windows: one batch get
    assert first.path == "window" and reads == ["_get_all"]
    second = run_close(
        suite, user.uid, suite.write_unseen(user.uid, "m2", trade(AGENTS[1], 601, "-1"))
    )
    assert second.path == "window" and reads == ["_get_all"]  # what it stored: no read
    # The same close delivered again: a skip that holds for every later version, taken from
    # memory without a read.
    again = service.recompute(suite.db, user.uid, second_event(suite, user.uid, "m2"))
    assert again.reason == SkipReason.ALREADY_REFLECTED and reads == ["_get_all"]
    assert "read_state" not in second.timings_ms
    stored = suite.weights_doc(user.uid)
    assert stored is not None and stored["weights"] == suite.offline_weights(user.uid)
    assert set(stored["ledger"]) == {"m1", "m2"}
    # Only the difference was sent, and the stored document is exactly the run's.
    assert documents.to_json_ready(stored) == second.document

    # Another writer (here a failed run's stale flag) changes the document: the write's
    # precondition fails, and the run reads afresh (and, stale, rebuilds).
    firestore_io.mark_weights_stale(suite.db, user.uid, "test")
    third = run_close(
        suite, user.uid, suite.write_unseen(user.uid, "m3", trade(AGENTS[2], 602, "4"))
    )
    assert (third.path, third.timings_ms.get("memory_outdated")) == ("query", 1)
    final = suite.weights_doc(user.uid)
    assert final is not None and final["stale"] is False and final["ledger"] == {}
    assert final["weights"] == suite.offline_weights(user.uid)


def test_a_config_written_straight_to_firestore_applies_at_once(suite: Suite) -> None:
    user, settled = seeded_user(suite)
    suite.db.document(f"users/{user.uid}/maestro/config").set(
        {"lookback_trades": 2, "enforce_performance": True}
    )
    config = MaestroConfig(lookback_trades=2, enforce_performance=True)
    document = suite.wait_for_weights(user.uid, lambda doc: doc["config"] == config.to_json_dict())
    assert document["cause"]["kind"] == "config" and document["config_source"] == "saved"
    assert document["weights"] == suite.offline_weights(user.uid, config)
    assert document["journal_as_of"] > settled["journal_as_of"]
