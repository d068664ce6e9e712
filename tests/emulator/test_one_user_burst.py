"""One user's closes run truly in parallel on separate instances (tests/emulator/one_user_burst.py).
Sizes from MAESTRO_ONE_USER_CLOSES (comma-separated; make test: 20) over
MAESTRO_ONE_USER_INSTANCES instances at most (make test: 5; make stress: 20, the default
MAESTRO_MAX_INSTANCES). Today's contract, which issue 14's queue must keep and improve on:
every run is accounted for, and the final document either reflects every close and equals the
engine on the final journal, or says it may not (stale: true). Before issue 14's queue, runs
failed when many instances contended (8 lost compare-and-sets) and flagged the document stale;
now a run that loses twice hands the user's recompute to the task queue, one queued rebuild
per user and bucket, and no run fails."""

from __future__ import annotations

import dataclasses
import json
import os

import pytest

import main
from maestro import task_queue
from maestro.decisions import Settings, SkipReason
from maestro.documents import reflects_write as reflects
from maestro.timestamps import NANOS_PER_SECOND, to_ns

from .harness import Suite, seed_journal, trade
from .inprocess import run_close, run_trigger
from .one_user_burst import run_one_user_burst

CLOSES = [int(n) for n in os.environ.get("MAESTRO_ONE_USER_CLOSES", "20").split(",")]
INSTANCES = int(os.environ.get("MAESTRO_ONE_USER_INSTANCES", "5"))


@pytest.mark.parametrize("closes", CLOSES)
def test_one_users_parallel_closes_end_reflected_or_flagged(suite: Suite, closes: int) -> None:
    report = run_one_user_burst(suite, closes, min(INSTANCES, closes))
    print(f"\none user's burst, {closes} closes:", json.dumps(report.summary()))
    assert report.runs == closes
    assert report.attempts >= closes and report.writes >= 1
    # Runs that lose the race twice hand off to the task queue instead of failing; the queued
    # rebuild reflects every close.
    assert report.runs_failed == 0, report.summary()
    assert report.seconds_to_final is not None, "a close was never reflected"
    assert report.equals_engine and not report.stale_at_end
    # Trade runs write the document at most once a second, the instance's own next close too.
    gap = report.direct_writes_min_gap
    assert gap is None or gap > 0.5, report.summary()
    if report.statuses.get("handed_off"):
        assert report.queued_runs >= 1


def test_the_gate_holds_an_instances_own_next_close_by_the_time_it_runs(suite: Suite) -> None:
    """One instance applying close after close from its memory would write the document as
    fast as they come: a close within a second of the instance's own write hands off
    (WRITTEN_TOO_RECENTLY) without reading anything; a second later, the same close (a late
    delivery, committed before that write) is applied from memory."""
    user = suite.create_user()
    seed_journal(suite, user.uid, {"w1": trade("WhaleFlowAgent", 1, "3")})
    late = suite.write_unseen(user.uid, "w3", trade("SentimentAgent", 3, "-2"))
    first = suite.write_unseen(user.uid, "w2", trade("WhaleFlowAgent", 2, "5"))
    queue_on = Settings(handoff_after_conflicts=2)
    assert run_close(suite, user.uid, first, queue_on).status == "written"  # now remembered
    weights = suite.db.document(f"users/{user.uid}/maestro/weights")
    own_ns = to_ns(weights.get().update_time)

    def at(offset_seconds: float) -> Settings:
        return dataclasses.replace(
            queue_on, clock_ns=lambda: own_ns + int(offset_seconds * NANOS_PER_SECOND)
        )

    soon = run_close(suite, user.uid, late, at(0.1))
    assert (soon.status, soon.reason) == ("handed_off", SkipReason.WRITTEN_TOO_RECENTLY.value)
    assert "read_state" not in soon.timings_ms  # decided from memory
    assert to_ns(weights.get().update_time) == own_ns

    later = run_close(suite, user.uid, late, at(1.5))
    assert (later.status, later.path) == ("written", "window")
    assert "read_state" not in later.timings_ms
    document = suite.weights_doc(user.uid) or {}
    assert reflects(document, "w3", late.update_time) and reflects(
        document, "w2", first.update_time
    )
    assert document["weights"] == suite.offline_weights(user.uid)


def test_a_held_close_writes_after_all_when_the_queue_cannot_be_reached(
    suite: Suite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gate spares the document writes; with no queue to write for it, a held close
    writes itself (as a run without the queue would), and the weights are not flagged stale."""
    user = suite.create_user()
    seed_journal(suite, user.uid, {"w1": trade("WhaleFlowAgent", 1, "3")})
    first = suite.write_unseen(user.uid, "w2", trade("WhaleFlowAgent", 2, "5"))
    held = suite.write_unseen(user.uid, "w3", trade("SentimentAgent", 3, "4"))
    assert run_close(suite, user.uid, first, Settings(handoff_after_conflicts=2)).status == (
        "written"
    )
    own_ns = to_ns(suite.db.document(f"users/{user.uid}/maestro/weights").get().update_time)
    deployed = main.settings()
    monkeypatch.setattr(  # the trigger runs 0.1 s after this instance's own write
        main, "settings", lambda: dataclasses.replace(deployed, clock_ns=lambda: own_ns + 10**8)
    )

    def unreachable(*_args: object, **_kwargs: object) -> None:
        raise ConnectionError("the task queue is down")

    monkeypatch.setattr(task_queue, "hand_off", unreachable)
    run_trigger(suite.project, user.uid, "w3", None, held)
    document = suite.weights_doc(user.uid) or {}
    assert reflects(document, "w3", held.update_time)
    assert document["stale"] is False
    assert document["weights"] == suite.offline_weights(user.uid)
