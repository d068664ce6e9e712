"""The callable and the trigger against the emulator suite, as the frontend and the platform's
server use them."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from decimal import Decimal
from typing import Any

from maestro import ENGINE_VERSION, documents, firestore_io
from maestro.config import MaestroConfig
from maestro.decisions import (
    Attempt,
    Decision,
    Rebuild,
    RebuildReason,
    Settings,
    Skip,
    SkipReason,
    decide,
)
from maestro.documents import UserState
from maestro.events import CallableRequest

from .harness import Suite, base_journal, seed_journal, trade, wait_until

AGENTS = ("WhaleFlowAgent", "SentimentAgent", "GammaScalper", "SectorRotation")


def test_a_trade_close_recomputes_the_weights(suite: Suite) -> None:
    user = suite.create_user()
    seed_journal(suite, user.uid, base_journal())
    close = {"closed_at": dt.datetime(2026, 11, 2, 16, 0, tzinfo=dt.UTC), "realized_pnl": "25.00"}
    written = suite.journal(user.uid).document("open1").update(close)

    document = suite.wait_reflected(user.uid, "open1", written.update_time)

    assert document["weights"] == suite.offline_weights(user.uid)
    assert document["cause"]["kind"] == "trade" and document["cause"]["trade_id"] == "open1"
    assert sum(Decimal(w) for w in document["weights"].values()) == 1
    assert document["agents"]["WhaleFlowAgent"]["trades_used"] == 4
    assert document["engine_version"] == ENGINE_VERSION
    assert document["config_source"] == "defaults"
    assert document["latest_closed_at"] == close["closed_at"]
    assert document["stale"] is False
    # Applied to the agent's rolling window, without reading the journal: the watermark stays
    # at the seed's rebuild and the close is listed as applied since.
    assert document["computed_at"] >= written.update_time > document["journal_as_of"]
    assert list(document["ledger"]) == ["open1"]
    assert document["ledger"]["open1"] == written.update_time
    assert document["ledger_trades"].startswith('{"open1":["WhaleFlowAgent",')
    # The stored window is the seed's rebuild, untouched: a close writes one document.
    windows = suite.db.document(f"users/{user.uid}/maestro/windows").get()
    whale = windows.get("windows")["WhaleFlowAgent"]
    assert whale.count('"w') == 3 and '"open1"' not in whale
    assert windows.get("as_of") == document["journal_as_of"]


def test_open_trade_and_note_writes_do_not_recompute(suite: Suite) -> None:
    user = suite.create_user()
    settled = seed_journal(suite, user.uid, base_journal())
    assert settled is not None
    versions: list[dict[str, Any]] = []
    seen = threading.Event()

    def record(snapshots: list[Any], _changes: Any, _read_time: Any) -> None:
        versions.extend(s.to_dict() for s in snapshots if s.exists)
        seen.set()

    weights_ref = suite.db.document(f"users/{user.uid}/maestro/weights")
    watch = weights_ref.on_snapshot(record)
    try:
        assert seen.wait(10)
        journal = suite.journal(user.uid)
        journal.document("open2").set(trade("SentimentAgent", 9, "0", closed=False))
        journal.document("w1").update({"note": "scaled out early"})  # not a field weights use
        journal.document("open2").update({"symbol": "QQQ"})  # still open
        closing = journal.document("g2").set(trade("GammaScalper", 10, "3.00"))
        suite.wait_reflected(user.uid, "g2", closing.update_time)
        wait_until(lambda: any(v["cause"].get("trade_id") == "g2" for v in versions), 10)
    finally:
        watch.unsubscribe()
    # Every version seen is the settled one (the seed's) or the close's; none came from the
    # open-trade or note writes.
    causes = [v["cause"]["event_id"] for v in versions]
    assert set(causes) <= {settled["cause"]["event_id"], versions[-1]["cause"]["event_id"]}, (
        versions
    )
    assert versions[-1]["cause"]["trade_id"] == "g2"


def test_deleting_a_closed_trade_recomputes(suite: Suite) -> None:
    user = suite.create_user()
    before = seed_journal(suite, user.uid, base_journal())
    assert before is not None
    suite.journal(user.uid).document("w2").delete()

    document = suite.wait_for_weights(user.uid, lambda doc: doc["cause"].get("trade_id") == "w2")

    assert document["agents"]["WhaleFlowAgent"]["trades_used"] == 2
    assert document["weights"] == suite.offline_weights(user.uid)
    assert document["journal_as_of"] > before["journal_as_of"]


def test_a_duplicate_delivery_is_harmless(suite: Suite) -> None:
    user = suite.create_user()
    seed_journal(suite, user.uid, base_journal())
    ref = suite.journal(user.uid).document("open1")
    before = ref.get()
    ref.update({"closed_at": dt.datetime(2026, 11, 2, 16, 0, tzinfo=dt.UTC), "realized_pnl": "4"})
    after = ref.get()
    settled = suite.wait_reflected(user.uid, "open1", after.update_time)

    # The close delivered twice more, as Firestore may: the document does not change at all.
    close_event = str(uuid.uuid4())
    for _ in range(2):
        assert suite.deliver_event(user.uid, "open1", before, after, close_event).status_code == 200
        assert suite.weights_doc(user.uid) == settled

    # A delete carries no commit time: its first delivery recomputes, the repeat is recognised.
    gone = suite.journal(user.uid).document("s1")
    deleted = gone.get()
    suite.background_triggers(False)  # deliver this delete only ourselves
    try:
        gone.delete()
    finally:
        suite.background_triggers(True)
    delete_event = str(uuid.uuid4())
    assert suite.deliver_event(user.uid, "s1", deleted, None, delete_event).status_code == 200
    first = suite.weights_doc(user.uid)
    assert first is not None and first["cause"]["event_id"] == delete_event
    assert first["weights"] == suite.offline_weights(user.uid)
    assert suite.deliver_event(user.uid, "s1", deleted, None, delete_event).status_code == 200
    assert suite.weights_doc(user.uid) == first


def test_the_callable_requires_sign_in(suite: Suite) -> None:
    status, body = suite.call({})
    assert status == 401
    assert body["error"]["status"] == "UNAUTHENTICATED"
    status, body = suite.call({}, token="not-a-jwt")
    assert (status, body["error"]["status"]) == (401, "UNAUTHENTICATED")


def test_the_callable_returns_what_it_writes(suite: Suite) -> None:
    user = suite.create_user()
    seed_journal(suite, user.uid, base_journal())
    status, body = suite.call({"force": True}, token=user.id_token)
    assert status == 200
    result = body["result"]
    stored = suite.weights_doc(user.uid)
    assert stored is not None
    assert result == documents.to_json_ready(stored)
    assert result["cause"] == {"kind": "callable"}
    assert result["weights"] == suite.offline_weights(user.uid)
    assert set(result["agents"]) == set(AGENTS)


def test_the_user_is_always_the_signed_in_one(suite: Suite) -> None:
    owner, other = suite.create_user("owner"), suite.create_user("other")
    seed_journal(suite, owner.uid, base_journal())
    status, body = suite.call({"uid": owner.uid}, token=other.id_token)
    assert (status, body["error"]["status"]) == (400, "INVALID_ARGUMENT")
    assert "uid: unknown field" in body["error"]["message"]
    status, body = suite.call({}, token=other.id_token)
    assert status == 200
    assert all(a["trades_used"] == 0 for a in body["result"]["agents"].values())
    assert suite.weights_doc(other.uid) is not None


def test_an_invalid_config_is_refused_and_nothing_is_written(suite: Suite) -> None:
    user = suite.create_user()
    status, body = suite.call({"config": {"lookback_trades": 5000}}, token=user.id_token)
    assert status == 400
    assert body["error"]["status"] == "INVALID_ARGUMENT"
    assert body["error"]["message"].startswith("config.lookback_trades: must be from 2 to 1000")
    assert not suite.db.document(f"users/{user.uid}/maestro/config").get().exists
    assert suite.weights_doc(user.uid) is None


def test_a_config_larger_than_a_run_can_afford_is_refused(suite: Suite) -> None:
    user = suite.create_user()
    config = {
        "agent_ids": [f"Agent{i:02d}" for i in range(40)],
        "lookback_trades": 1000,  # 40,000 trades: more than the 32,000 a run may read
        "min_floor_weight": "0",
    }
    status, body = suite.call({"config": config}, token=user.id_token)
    assert (status, body["error"]["status"]) == (400, "INVALID_ARGUMENT")
    assert body["error"]["message"].startswith(
        "config.lookback_trades: 40 agents (agent_ids) x 1000 trades is 40000 trades per run"
    )
    assert not suite.db.document(f"users/{user.uid}/maestro/config").get().exists
    assert suite.weights_doc(user.uid) is None


def test_a_config_is_saved_and_used_by_the_next_trigger_run(suite: Suite) -> None:
    user = suite.create_user()
    seed_journal(suite, user.uid, base_journal())
    config = {
        "agent_ids": ["WhaleFlowAgent", "SentimentAgent"],
        "lookback_trades": 2,
        "min_floor_weight": "0.1",
    }
    status, body = suite.call({"config": config}, token=user.id_token)
    assert status == 200
    effective = MaestroConfig.from_mapping(config)
    assert body["result"]["config"] == effective.to_json_dict()
    assert body["result"]["config_source"] == "saved"
    saved = suite.db.document(f"users/{user.uid}/maestro/config").get().to_dict()
    assert saved is not None and saved["lookback_trades"] == 2

    written = suite.journal(user.uid).document("w4").set(trade("WhaleFlowAgent", 20, "9.00"))
    document = suite.wait_reflected(user.uid, "w4", written.update_time)
    assert set(document["weights"]) == {"WhaleFlowAgent", "SentimentAgent"}
    assert document["agents"]["WhaleFlowAgent"]["trades_used"] == 2
    assert document["weights"] == suite.offline_weights(user.uid, effective)


def test_engine_v2_options_apply_to_closes_through_the_windows(suite: Suite) -> None:
    user = suite.create_user()
    seed_journal(suite, user.uid, base_journal())
    options = {
        "score": "psr",
        "half_life_trades": 3,
        "drawdown_penalty": "0.25",
        "temperature": "0.5",
        "max_weight": "0.6",
        "min_floor_weight": "0.05",
        "analysis_lookbacks": [2],
    }
    status, body = suite.call({"config": options}, token=user.id_token)
    assert status == 200, body
    effective = MaestroConfig.from_mapping(options)
    suite.past_the_write_gate(user.uid)  # the callable wrote last: the close's own run writes
    written = suite.journal(user.uid).document("w4").set(trade("WhaleFlowAgent", 20, "9.00"))
    document = suite.wait_reflected(user.uid, "w4", written.update_time)
    assert document["ledger"]["w4"] == written.update_time  # through the windows
    assert document["config"] == effective.to_json_dict()
    assert document["weights"] == suite.offline_weights(user.uid, effective)
    whale = document["agents"]["WhaleFlowAgent"]
    diagnostics = json.loads(whale["diagnostics"])  # stored as one string (weights format 4)
    assert whale["score_method"] == "psr" and diagnostics["n"] == 4
    assert set(diagnostics["analysis_lookbacks"]) == {"2"}
    # The callable answers them as a map, as the CLI's --json gives them.
    status, body = suite.call({}, token=user.id_token)
    assert status == 200, body
    assert body["result"]["agents"]["WhaleFlowAgent"]["diagnostics"] == diagnostics


def test_cache_and_force(suite: Suite) -> None:
    user = suite.create_user()
    seed_journal(suite, user.uid, base_journal())
    _, first = suite.call({"force": True}, token=user.id_token)
    _, cached = suite.call({}, token=user.id_token)
    assert cached["result"] == first["result"]  # same computed_at: served from the document
    # Stored as one string per agent, answered as the map the engine gave.
    stored = suite.weights_doc(user.uid)
    assert stored is not None
    for agent, detail in cached["result"]["agents"].items():
        assert isinstance(detail["diagnostics"], dict) and "psr" in detail["diagnostics"]
        assert json.loads(stored["agents"][agent]["diagnostics"]) == detail["diagnostics"]
    _, forced = suite.call({"force": True}, token=user.id_token)
    assert forced["result"]["computed_at"] > first["result"]["computed_at"]

    # A trade closed after the stored weights' newest trade invalidates the cache even before
    # the trigger has run: triggers off, so only the callable can notice.
    suite.background_triggers(False)
    try:
        suite.journal(user.uid).document("late").set(trade("SentimentAgent", 90, "7.00"))
        _, fresh = suite.call({}, token=user.id_token)
    finally:
        suite.background_triggers(True)
    assert fresh["result"]["computed_at"] > forced["result"]["computed_at"]
    assert fresh["result"]["agents"]["SentimentAgent"]["trades_used"] == 4


def test_the_cache_expires_after_its_ttl(suite: Suite) -> None:
    user = suite.create_user()
    seed_journal(suite, user.uid, base_journal())
    suite.call({"force": True}, token=user.id_token)
    state = UserState.decode(firestore_io.read_documents(suite.db, user.uid, with_windows=False))

    assert isinstance(state.weights, documents.StoredWeights)
    latest = state.weights.latest_closed_at

    def cached(ttl_seconds: int) -> Decision:
        probe = Attempt(
            newer_close=lambda: firestore_io.any_trade_closed_after(suite.db, user.uid, latest)
        )
        return decide(CallableRequest(), state, Settings(cache_ttl_seconds=ttl_seconds), probe)

    assert cached(300) == Skip(SkipReason.CACHE_VALID)
    assert cached(0) == Rebuild(RebuildReason.CACHE_EXPIRED)


def test_a_corrupted_config_falls_back_to_defaults_without_blocking(suite: Suite) -> None:
    user = suite.create_user()
    suite.db.document(f"users/{user.uid}/maestro/config").set(
        {"lookback_trades": "lots", "agent_ids": 7}
    )
    seed_journal(suite, user.uid, base_journal())
    document = suite.weights_doc(user.uid)
    assert document is not None
    assert document["config"] == MaestroConfig().to_json_dict()
    assert document["config_source"].startswith("defaults (saved config invalid: ")
    assert "agent_ids" in document["config_source"]
    assert document["weights"] == suite.offline_weights(user.uid)
