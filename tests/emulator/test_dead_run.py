"""A trade event's run that dies before its write (a crash, a timeout) is repaired by the
event's delayed check (task_queue.py: eventcheckqueue) within the check's delay and one
rebuild, where before issue 14 it stayed out until the next rebuild (up to 100 closes or an
hour later). The emulator's check delay is 2 s (functions/.env.local); production's is the
function's timeout plus 10 s. A run that ends in time queues no check and nothing more is
written."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from .dying_run import Death, run_dying_trigger
from .harness import Suite, base_journal, reflects, seed_journal, trade

EMULATOR_CHECK_DELAY_SECONDS = 2.0  # functions/.env.local
CLOSED_PORT = "127.0.0.1:9"  # nothing listens: the queue is unreachable


def _settled_user(suite: Suite) -> str:
    uid = f"dead-run-{uuid.uuid4().hex[:8]}"
    seed_journal(suite, uid, base_journal())
    suite.past_the_write_gate(uid)  # the dying instance did not write the weights last
    return uid


def _close_without_triggers(suite: Suite, uid: str) -> tuple[str, float]:
    """A close the emulator's trigger does not see (the dying instance runs it instead)."""
    suite.background_triggers(False)
    reference = suite.journal(uid).document("late-close")
    commit = reference.set(trade("GammaScalper", 40, "9.00")).update_time
    return reference.id, commit.timestamp()


@pytest.mark.parametrize("death", ["crash", "timeout"])
def test_a_run_that_dies_before_its_write_is_repaired_by_its_check(
    suite: Suite, death: Death
) -> None:
    uid = _settled_user(suite)
    trade_id, committed = _close_without_triggers(suite, uid)
    try:
        run_dying_trigger(suite.project, uid, trade_id, death)
    finally:
        suite.background_triggers(True)
    assert not reflects(suite.weights_doc(uid) or {}, trade_id, _commit_of(suite, uid, trade_id))
    document = suite.wait_reflected(uid, trade_id, _commit_of(suite, uid, trade_id), timeout=60)
    seconds = time.time() - committed
    print(f"\ndead run ({death}):", json.dumps({"seconds_to_reflected": round(seconds, 2)}))
    assert seconds >= EMULATOR_CHECK_DELAY_SECONDS  # the check, not a live run, repaired it
    assert document["cause"] == {"kind": "queue"} and document["stale"] is False
    assert document["weights"] == suite.offline_weights(uid)


def test_without_the_queue_a_dead_runs_close_stays_out(suite: Suite) -> None:
    """Before issue 14 (the check cannot be queued): the close is missing well past the
    check's delay; only a later rebuild would bring it in."""
    uid = _settled_user(suite)
    trade_id, _ = _close_without_triggers(suite, uid)
    try:
        run_dying_trigger(suite.project, uid, trade_id, "crash", tasks_host=CLOSED_PORT)
    finally:
        suite.background_triggers(True)
    time.sleep(EMULATOR_CHECK_DELAY_SECONDS + 4)
    document = suite.weights_doc(uid) or {}
    assert not reflects(document, trade_id, _commit_of(suite, uid, trade_id))
    assert document["weights"] != suite.offline_weights(uid)


def test_a_healthy_close_leaves_nothing_behind(suite: Suite) -> None:
    uid = _settled_user(suite)
    commit = suite.journal(uid).document("c1").set(trade("GammaScalper", 41, "3.00")).update_time
    suite.wait_reflected(uid, "c1", commit)
    snapshot = suite.db.document(f"users/{uid}/maestro/weights").get()
    time.sleep(EMULATOR_CHECK_DELAY_SECONDS + 3)  # a check, had one been queued, has run
    assert suite.db.document(f"users/{uid}/maestro/weights").get().update_time == (
        snapshot.update_time
    )


def _commit_of(suite: Suite, uid: str, trade_id: str) -> object:
    return suite.journal(uid).document(trade_id).get().update_time
