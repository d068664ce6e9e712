"""One user's burst, as production runs it: N closes committed within a second, their trigger
runs spread over separate instances running truly in parallel (separate processes, each with
its own Firestore client and its own instance memory, each running its events one after
another as a Cloud Functions instance does), against the emulator's Firestore. The Functions
emulator cannot show this: it hands a Python function's events to one worker, one at a time.

Each run goes through the deployed trigger (main.recompute_on_trade_written, as
tests/emulator/inprocess.py builds its event); the harness only watches: it counts each run's
attempts (lost compare-and-sets + 1), the documents it read and wrote (firestore_io's count,
the stale flag of a failed run included), and whether it failed. Issue 14 measures its
before and after with it (docs/reliability.md). make stress runs N = 20, 50, 200; make test a
small case."""

from __future__ import annotations

import multiprocessing
import operator
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from .harness import Suite, debug_log_offset, function_log, reflects, trade

AGENTS = ("WhaleFlowAgent", "SentimentAgent", "GammaScalper", "SectorRotation")
SEED_TRADES_PER_AGENT = 5
# After the last instance's run, how long a queued rebuild may take to land (its bucket, 5 s
# by default, 1 s of margin, the rebuild).
QUEUE_GRACE_SECONDS = 30.0


@dataclass
class OneUserReport:
    closes: int
    instances: int
    runs: int
    attempts: int
    reads: int
    writes: int
    runs_failed: int
    queued_runs: int  # the task queue's rebuilds (issue 14), their reads and writes included
    queued_writes: int
    errors: dict[str, int]
    statuses: dict[str, int]
    seconds_to_final: float | None  # from the release of the instances; None: never reflected
    # From the first to the last write of the instances' runs (the queue's excluded): over how
    # long the direct writes came, for the document's write rate.
    direct_writes_span: float
    # The shortest time between two of them (None: fewer than two); their commits are at least
    # a second apart (decisions.WRITTEN_TOO_RECENTLY), their runs' ends nearly so.
    direct_writes_min_gap: float | None
    stale_at_end: bool
    equals_engine: bool

    def summary(self) -> dict[str, Any]:
        return {
            "closes": self.closes,
            "instances": self.instances,
            "attempts": self.attempts,
            "reads": self.reads,
            "writes": self.writes,
            "of_which_queued": self.queued_writes,
            "runs_failed": self.runs_failed,
            "queued_runs": self.queued_runs,
            "errors": self.errors,
            "run_statuses": self.statuses,
            "direct_writes_span_seconds": round(self.direct_writes_span, 2),
            "direct_writes_min_gap_seconds": (
                None if self.direct_writes_min_gap is None else round(self.direct_writes_min_gap, 2)
            ),
            "seconds_to_final_document": (
                None if self.seconds_to_final is None else round(self.seconds_to_final, 2)
            ),
            "stale_at_end": self.stale_at_end,
            "final_equals_engine": self.equals_engine,
        }


def run_one_user_burst(
    suite: Suite, closes: int, instances: int, timeout: float = 300.0
) -> OneUserReport:
    uid = f"one-user-{uuid.uuid4().hex[:8]}"
    trade_ids = _seed_and_close(suite, uid, closes)
    commits = {
        snap.id: snap.update_time
        for snap in suite.journal(uid).stream()
        if snap.id in set(trade_ids)
    }
    spawn = multiprocessing.get_context("spawn")
    ready, go, results = spawn.Queue(), spawn.Event(), spawn.Queue()
    shares = [trade_ids[i::instances] for i in range(instances)]
    log_offset = debug_log_offset()
    workers = [
        spawn.Process(target=_instance, args=(suite.project, uid, share, ready, go, results))
        for share in shares
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.get(timeout=120)  # every instance imported main and holds its events
    go.set()
    released = time.monotonic()
    seconds_to_final, runs_over = None, None
    deadline = released + timeout
    while time.monotonic() < deadline:
        document = suite.weights_doc(uid) or {}
        if all(reflects(document, trade_id, commit) for trade_id, commit in commits.items()):
            seconds_to_final = time.monotonic() - released
            break
        if runs_over is None and results.qsize() == len(workers):
            runs_over = time.monotonic()
        if runs_over is not None and time.monotonic() - runs_over > QUEUE_GRACE_SECONDS:
            break  # every run is over, no queued rebuild came, and a close is missing
        time.sleep(0.02)
    records = [record for _ in workers for record in results.get(timeout=timeout)]
    for worker in workers:
        worker.join(timeout=30)
    handed_off = sum(1 for record in records if record.get("status") == "handed_off")
    queued = _queued_runs(log_offset, uid, expected=1 if handed_off else 0)
    document = suite.weights_doc(uid) or {}
    statuses = Counter(str(record.get("status", "failed")) for record in records)
    direct_writes = sorted(r["finished"] for r in records if r.get("status") == "written")
    return OneUserReport(
        closes=closes,
        instances=instances,
        runs=len(records),
        attempts=sum(record["attempts"] for record in records),
        reads=sum(record["reads"] for record in records) + sum(e["reads"] for e in queued),
        writes=sum(record["writes"] for record in records) + sum(e["writes"] for e in queued),
        runs_failed=sum(1 for record in records if "error" in record),
        queued_runs=len(queued),
        queued_writes=sum(e["writes"] for e in queued),
        errors=dict(Counter(record["error"] for record in records if "error" in record)),
        statuses=dict(statuses),
        seconds_to_final=seconds_to_final,
        stale_at_end=document.get("stale") is not False,
        equals_engine=document.get("weights") == suite.offline_weights(uid),
        direct_writes_span=_span(direct_writes),
        direct_writes_min_gap=min(
            map(operator.sub, direct_writes[1:], direct_writes), default=None
        ),
    )


def _span(moments: list[float]) -> float:
    return max(moments) - min(moments) if moments else 0.0


def _queued_runs(offset: int, uid: str, expected: int) -> list[dict[str, Any]]:
    """The task queue's runs for the user, from the functions' log lines."""

    def queued(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            e
            for e in entries
            if e.get("uid") == uid
            and e.get("message") == "maestro weights"
            and e.get("cause") == "queued rebuild"
        ]

    found = function_log(offset, uid, lambda entries: len(queued(entries)) >= expected, 5.0)
    return queued(found)


def _seed_and_close(suite: Suite, uid: str, closes: int) -> list[str]:
    """A settled user (a few trades per agent and their weights and windows), then `closes`
    closes committed within a second, with the emulator's own triggers off: the instances
    below run them."""
    from maestro import service
    from maestro.events import CallableRequest

    suite.background_triggers(False)
    try:
        batch = suite.db.batch()
        for a, agent in enumerate(AGENTS):
            for i in range(SEED_TRADES_PER_AGENT):
                pnl = str((i * 7 + a * 3) % 11 - 4)
                batch.set(suite.journal(uid).document(f"seed-{agent}-{i}"), trade(agent, i, pnl))
        batch.commit()
        service.recompute(suite.db, uid, CallableRequest(force=True))
        trade_ids = [f"close-{i:04d}" for i in range(closes)]
        for start in range(0, closes, 10):
            batch = suite.db.batch()
            for i, trade_id in enumerate(trade_ids[start : start + 10], start):
                data = trade(AGENTS[i % len(AGENTS)], 100 + i, str((i * 13) % 17 - 6))
                batch.set(suite.journal(uid).document(trade_id), data)
            batch.commit()
    finally:
        suite.background_triggers(True)
    return trade_ids


def _instance(
    project: str, uid: str, trade_ids: list[str], ready: Any, go: Any, results: Any
) -> None:
    """One function instance: its own process, client and memory; its events one by one."""
    import os
    import sys

    from google.cloud import firestore

    import main  # the deployed module: initialises the Admin SDK as in production
    from maestro import firestore_io, handlers, service

    from .inprocess import run_trigger

    db = firestore.Client(project=project)
    snapshots = {
        trade_id: db.document(f"users/{uid}/tradeJournal/{trade_id}").get()
        for trade_id in trade_ids
    }
    usages: list[firestore_io.Usage] = []
    outcomes: list[service.RunOutcome] = []
    track = firestore_io.track_usage

    def tracked() -> firestore_io.Usage:
        usages.append(track())
        return usages[-1]

    firestore_io.track_usage = tracked  # type: ignore[assignment]
    log_run = handlers._log_run

    def watched(*args: Any) -> None:
        outcomes.append(args[3])
        log_run(*args)

    handlers._log_run = watched  # type: ignore[assignment]
    assert main.recompute_on_trade_written is not None
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the runs' log lines, as in production
    ready.put(True)
    go.wait()
    records = []
    for trade_id in trade_ids:
        before = len(outcomes)
        record: dict[str, Any] = {"trade_id": trade_id}
        try:
            run_trigger(project, uid, trade_id, None, snapshots[trade_id])
        except Exception as error:  # the trigger raised: the run failed (and flagged stale)
            code = getattr(error, "code", None)
            record["error"] = f"{type(error).__name__}({getattr(code, 'value', code)})"
            record["attempts"] = firestore_io.CAS_ATTEMPTS
        if len(outcomes) > before:
            outcome = outcomes[-1]
            record["status"] = outcome.status.value
            record["attempts"] = 1 + int(outcome.timings_ms.get("conflicts", 0))
        usage = usages[-1] if usages else firestore_io.Usage()
        record["reads"], record["writes"] = usage.reads, usage.writes
        record["finished"] = time.time()
        records.append(record)
    results.put(records)
