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
from google.cloud.firestore import DocumentSnapshot

from .dying_run import Death, run_dying_trigger
from .harness import Suite, base_journal, reflects, seed_journal, trade

EMULATOR_CHECK_DELAY_SECONDS = 2.0  # functions/.env.local
CLOSED_PORT = "127.0.0.1:9"  # nothing listens: the queue is unreachable


def _settled_user(suite: Suite) -> str:
    uid = f"dead-run-{uuid.uuid4().hex[:8]}"
    seed_journal(suite, uid, base_journal())
    suite.past_the_write_gate(uid)  # the dying instance did not write the weights last
    return uid


def _close_unseen(suite: Suite, uid: str) -> DocumentSnapshot:
    """A close the emulator's trigger does not see: the dying instance runs it instead."""
    return suite.write_unseen(uid, "late-close", trade("GammaScalper", 40, "9.00"))


@pytest.mark.parametrize("death", ["crash", "timeout"])
def test_a_run_that_dies_before_its_write_is_repaired_by_its_check(
    suite: Suite, death: Death
) -> None:
    uid = _settled_user(suite)
    closed = _close_unseen(suite, uid)
    run_dying_trigger(suite.project, uid, closed.id, death)
    assert not reflects(suite.weights_doc(uid) or {}, closed.id, closed.update_time)
    document = suite.wait_reflected(uid, closed.id, closed.update_time, timeout=60)
    seconds = time.time() - closed.update_time.timestamp()
    print(f"\ndead run ({death}):", json.dumps({"seconds_to_reflected": round(seconds, 2)}))
    assert seconds >= EMULATOR_CHECK_DELAY_SECONDS  # the check, not a live run, repaired it
    assert document["cause"] == {"kind": "queue"} and document["stale"] is False
    assert document["weights"] == suite.offline_weights(uid)


def test_without_the_queue_a_dead_runs_close_stays_out(suite: Suite) -> None:
    """Before issue 14 (the check cannot be queued): the close is missing well past the
    check's delay; only a later rebuild would bring it in."""
    uid = _settled_user(suite)
    closed = _close_unseen(suite, uid)
    run_dying_trigger(suite.project, uid, closed.id, "crash", tasks_host=CLOSED_PORT)
    time.sleep(EMULATOR_CHECK_DELAY_SECONDS + 4)
    document = suite.weights_doc(uid) or {}
    assert not reflects(document, closed.id, closed.update_time)
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
