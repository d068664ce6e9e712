"""A burst of trade closes across many users, written concurrently over loopback, measured from
each close's commit to the first weights version that reflects it. Used by test_burst.py (in
make test) and by make stress (the full size)."""

from __future__ import annotations

import random
import statistics
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .harness import Suite, debug_log_offset, function_log, reflects, trade

AGENTS = ("WhaleFlowAgent", "SentimentAgent", "GammaScalper", "SectorRotation")
WRITERS = 16


@dataclass
class BurstReport:
    closes: int
    users: int
    write_seconds: float
    drain_seconds: float
    latencies_ms: list[float]
    mismatched_users: list[str]
    stale_users: list[str]
    run_statuses: Counter[str] = field(default_factory=Counter)
    function_errors: int = 0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    def summary(self) -> dict[str, Any]:
        return {
            "closes": self.closes,
            "users": self.users,
            "write_seconds": round(self.write_seconds, 2),
            "drain_seconds": round(self.drain_seconds, 2),
            "close_to_weights_ms": {
                "p50": round(self.percentile(0.50), 1),
                "p95": round(self.percentile(0.95), 1),
                "max": round(max(self.latencies_ms), 1),
                "mean": round(statistics.fmean(self.latencies_ms), 1),
            },
            "trigger_runs": dict(self.run_statuses),
            "function_errors": self.function_errors,
            "users_mismatched": len(self.mismatched_users),
            "users_stale": len(self.stale_users),
        }


def run_burst(
    suite: Suite, closes: int, users: int, seed: int = 7, timeout: float = 300.0
) -> BurstReport:
    rng = random.Random(seed)
    run_id = uuid.uuid4().hex[:8]
    uids = [f"burst-{run_id}-{i:03d}" for i in range(users)]
    plan = [
        (
            uids[i % users],
            f"c{i:05d}",
            trade(rng.choice(AGENTS), i, str(rng.randint(-900, 1200) / 100)),
        )
        for i in range(closes)
    ]
    rng.shuffle(plan)

    versions: dict[str, list[tuple[float, Any]]] = defaultdict(list)
    lock = threading.Lock()

    def listener(uid: str) -> Any:
        def record(snapshots: list[Any], _changes: Any, _read_time: Any) -> None:
            received = time.time()
            with lock:
                versions[uid].extend((received, s.to_dict()) for s in snapshots if s.exists)

        return suite.db.document(f"users/{uid}/maestro/weights").on_snapshot(record)

    log_offset = debug_log_offset()
    watches = [listener(uid) for uid in uids]
    commits: list[tuple[str, str, Any]] = []
    try:
        started = time.perf_counter()

        def close(item: tuple[str, str, dict[str, Any]]) -> tuple[str, str, Any]:
            uid, trade_id, data = item
            return uid, trade_id, suite.journal(uid).document(trade_id).set(data).update_time

        with ThreadPoolExecutor(max_workers=WRITERS) as writers:
            commits = list(writers.map(close, plan))
        write_seconds = time.perf_counter() - started

        def drained() -> bool:
            # Each weights version reflects everything the ones before it did (the watermark
            # only grows; the ledger only grows until a rebuild moves the watermark past it).
            with lock:
                latest = {uid: versions[uid][-1][1] for uid in uids if versions[uid]}
            return all(
                uid in latest and reflects(latest[uid], trade_id, commit)
                for uid, trade_id, commit in commits
            )

        deadline = time.monotonic() + timeout
        while not drained():
            if time.monotonic() > deadline:
                raise TimeoutError(f"burst did not drain within {timeout} s")
            time.sleep(0.05)
        drain_seconds = time.perf_counter() - started - write_seconds
    finally:
        for watch in watches:
            watch.unsubscribe()

    latencies = []
    with lock:
        for uid, trade_id, commit in commits:
            reflected = min(
                received
                for received, document in versions[uid]
                if reflects(document, trade_id, commit)
            )
            latencies.append((reflected - commit.timestamp()) * 1000)

    mismatched, stale = [], []
    for uid in uids:
        document = suite.weights_doc(uid) or {}
        if document.get("weights") != suite.offline_weights(uid):
            mismatched.append(uid)
        if document.get("stale") is not False:
            stale.append(uid)

    statuses, errors = _logged_runs(log_offset, f"burst-{run_id}-", closes)
    return BurstReport(
        closes, users, write_seconds, drain_seconds, latencies, mismatched, stale, statuses, errors
    )


def _logged_runs(offset: int, marker: str, expected: int) -> tuple[Counter[str], int]:
    """Trigger runs of this burst by status, and failures, from the functions' log lines."""

    def runs(entries: list[dict[str, Any]]) -> Counter[str]:
        return Counter(e["status"] for e in entries if e.get("message") == "maestro weights")

    entries = function_log(offset, marker, lambda entries: sum(runs(entries).values()) >= expected)
    errors = sum(
        1
        for e in entries
        if str(e.get("message", "")).startswith("maestro run failed")
        or e.get("severity") == "ERROR"
    )
    return runs(entries), errors
