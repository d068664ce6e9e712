"""The audit trail (issue 11) over the wire: each weights version that changes the allocation
is kept in the same atomic write as the weights document, a run that changes nothing keeps
nothing, a repeated event keeps nothing, a failed write keeps neither; the callable pages it,
newest first, within the per-user limits."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from firebase_functions import https_fn
from google.api_core import exceptions

from .harness import Suite, base_journal, seed_journal, trade
from .inprocess import Faults, run_trigger


def trail(suite: Suite, uid: str) -> list[dict[str, Any]]:
    """The user's history entries, oldest first, with their ids."""
    collection = suite.db.collection(f"users/{uid}/maestro/weights/history")
    return [{"id": snap.id, **(snap.to_dict() or {})} for snap in collection.stream()]


def test_every_change_of_the_weights_is_kept_once_with_its_weights(suite: Suite) -> None:
    user = suite.create_user()
    settled = seed_journal(suite, user.uid, base_journal())
    assert settled is not None
    entries = trail(suite, user.uid)
    assert entries, "the first weights were not kept"
    last = entries[-1]
    assert last["weights"] == settled["weights"] and last["computed_at"] == settled["computed_at"]
    assert last["journal_as_of"] == settled["journal_as_of"]
    assert last["cause"] == settled["cause"] and last["config"] == settled["config"]
    agent = settled["agents"]["WhaleFlowAgent"]
    assert last["agents"]["WhaleFlowAgent"] == {
        "score": agent["score"],
        "status": agent["status"],
        "trades_used": agent["trades_used"],
        "trades_rejected": agent["trades_rejected"],
        "reason": agent["explanation"]["reason"],
    }
    assert last["expires_at"] == settled["computed_at"] + dt.timedelta(days=365)
    assert [e["id"] for e in entries] == sorted(e["id"] for e in entries)

    # A close that moves the weights: one more entry, the new weights'.
    ref = suite.journal(user.uid).document("g2")
    before_close = ref.get()
    commit = ref.set(trade("GammaScalper", 9, "7.00")).update_time
    closed = suite.wait_reflected(user.uid, "g2", commit)
    after = trail(suite, user.uid)
    assert len(after) == len(entries) + 1 and after[-1]["weights"] == closed["weights"]
    assert after[-1]["cause"]["trade_id"] == "g2"

    # The same close delivered again, and a forced rebuild of the same journal: the weights do
    # not change, and nothing is kept.
    event = str(uuid.uuid4())
    assert suite.deliver_event(user.uid, "g2", before_close, ref.get(), event).status_code == 200
    status, body = suite.call({"force": True}, token=user.id_token)
    assert status == 200 and body["result"]["weights"] == closed["weights"]
    assert len(trail(suite, user.uid)) == len(after)


def test_a_failed_write_keeps_neither_the_weights_nor_their_entry(
    suite: Suite, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = suite.create_user()
    settled = seed_journal(suite, user.uid, base_journal())
    entries = trail(suite, user.uid)
    # This close's trigger runs here, with a fault, a second after the last write (so that
    # this instance's run reaches its write).
    closed = suite.write_unseen(user.uid, "g2", trade("GammaScalper", 9, "7.00"))
    suite.past_the_write_gate(user.uid)
    Faults(monkeypatch, "_commit", exceptions.ServiceUnavailable("down"), times=None)
    with pytest.raises(https_fn.HttpsError):
        run_trigger(suite.project, user.uid, "g2", None, closed)
    monkeypatch.undo()
    stored = suite.weights_doc(user.uid)
    assert stored is not None and stored["weights"] == (settled or {})["weights"]
    assert trail(suite, user.uid) == entries


def test_the_callable_pages_the_trail_newest_first(suite: Suite) -> None:
    user = suite.create_user()
    seed_journal(suite, user.uid, base_journal())
    for minute, pnl in ((9, "7.00"), (10, "-2.00"), (11, "3.50")):
        ref = suite.journal(user.uid).document(f"g-{minute}")
        suite.wait_reflected(
            user.uid, ref.id, ref.set(trade("GammaScalper", minute, pnl)).update_time
        )
    kept = trail(suite, user.uid)
    assert len(kept) >= 4

    status, body = suite.call({"history": {"limit": 2}}, token=user.id_token)
    assert status == 200, body
    first = body["result"]
    newest = sorted(kept, key=lambda e: e["id"], reverse=True)
    assert [e["computed_at"] for e in first["history"]] == [
        e["computed_at"].isoformat() for e in newest[:2]
    ]
    assert first["history"][0]["weights"] == newest[0]["weights"]
    assert first["next_before"] == first["history"][-1]["computed_at"]

    status, body = suite.call(
        {"history": {"limit": 50, "before": first["next_before"]}}, token=user.id_token
    )
    assert status == 200, body
    rest = body["result"]
    assert [e["computed_at"] for e in rest["history"]] == [
        e["computed_at"].isoformat() for e in newest[2:]
    ]
    assert rest["next_before"] is None  # the last page

    status, body = suite.call({"history": {"limit": 500}}, token=user.id_token)
    assert status == 400 and body["error"]["status"] == "INVALID_ARGUMENT"
    assert body["error"]["message"].startswith("history.limit")

    # Each page counts against the user's limits (6 a minute here, two already used).
    codes = [suite.call({"history": {}}, token=user.id_token)[0] for _ in range(5)]
    assert codes == [200, 200, 200, 200, 429]
