"""Benchmarks on the emulator suite (run by make bench inside scripts/emulators, with
firebase.bench.json, which adds a baseline trigger that only writes one document):

1. close -> weights latency, Maestro beside the baseline, over sequential closes;
2. the callable's round trip, cached and forced;
3. concurrent against sequential per-agent queries, at 4 and 20 agents;
4. Firestore reads and writes per trigger run and per callable, counted at the access layer,
   and how they grow with agents x lookback."""

from __future__ import annotations

import datetime as dt
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))
sys.path.insert(0, str(ROOT))

from bench.stats import save, summarize  # noqa: E402
from maestro import firestore_io  # noqa: E402
from tests.emulator.harness import Suite, trade  # noqa: E402
from tests.emulator.inprocess import call_callable, run_trigger  # noqa: E402

CLOSES = 200
AGENTS = ("WhaleFlowAgent", "SentimentAgent", "GammaScalper", "SectorRotation")
# Published Firestore (Standard edition) prices per 100,000 documents, USD.
PRICES = {
    "us-central1 (regional)": {"read": 0.03, "write": 0.09},
    "nam5 (multi-region)": {"read": 0.06, "write": 0.18},
}


def seed(
    suite: Suite, uid: str, agents: tuple[str, ...], per_agent: int, start_minute: int = 0
) -> None:
    rng = random.Random(uid)
    suite.background_triggers(False)
    try:
        items = [
            (f"s-{a}-{i}", trade(a, start_minute + i, str(rng.randint(-900, 1200) / 100)))
            for a in agents
            for i in range(per_agent)
        ]
        for start in range(0, len(items), 450):
            batch = suite.db.batch()
            for trade_id, data in items[start : start + 450]:
                batch.set(suite.journal(uid).document(trade_id), data)
            batch.commit()
    finally:
        suite.background_triggers(True)


class Watcher:
    """Arrival times of every version of one document, from a snapshot listener."""

    def __init__(self, suite: Suite, path: str, field: str) -> None:
        self.versions: list[tuple[float, Any]] = []
        self.lock = threading.Lock()
        self.field = field
        self.watch = suite.db.document(path).on_snapshot(self._record)

    def _record(self, snapshots: list[Any], _changes: Any, _read_time: Any) -> None:
        now = time.time()
        with self.lock:
            self.versions.extend((now, s.get(self.field)) for s in snapshots if s.exists)

    def first_covering(self, commit: dt.datetime) -> float | None:
        with self.lock:
            times = [t for t, value in self.versions if value is not None and value >= commit]
        return min(times) if times else None


def wait_reflected(watcher: Watcher, commit: dt.datetime, what: str) -> float:
    deadline = time.monotonic() + 30
    while (seen := watcher.first_covering(commit)) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reflected within 30 s")
        time.sleep(0.002)
    return (seen - commit.timestamp()) * 1000


def end_to_end(suite: Suite) -> dict[str, Any]:
    uid = f"bench-e2e-{int(time.time())}"
    seed(suite, uid, AGENTS, 50)
    maestro = Watcher(suite, f"users/{uid}/maestro/weights", "journal_as_of")
    baseline = Watcher(suite, f"users/{uid}/bench/baseline", "commit_time")
    rng = random.Random(3)
    maestro_ms, baseline_ms = [], []
    try:
        for i in range(CLOSES):
            data = trade(rng.choice(AGENTS), 1000 + i, str(rng.randint(-900, 1200) / 100))
            commit = suite.journal(uid).document(f"e{i:04d}").set(data).update_time
            maestro_ms.append(wait_reflected(maestro, commit, f"close {i}"))
            probe = suite.db.document(f"users/{uid}/benchProbe/p{i:04d}").set({"n": i})
            baseline_ms.append(wait_reflected(baseline, probe.update_time, f"probe {i}"))
    finally:
        maestro.watch.unsubscribe()
        baseline.watch.unsubscribe()
    m_sum, b_sum = summarize(maestro_ms), summarize(baseline_ms)
    return {
        "closes": CLOSES,
        "journal": "4 agents, 50 seeded trades each, lookback 100; closes one at a time",
        "baseline_trigger": "a trigger on users/{uid}/benchProbe/{id} writing one document, timed "
        "after each close",
        "maestro": m_sum,
        "baseline": b_sum,
        "ratio_median": round(m_sum["median_ms"] / b_sum["median_ms"], 3),
        "ratio_p95": round(m_sum["p95_ms"] / b_sum["p95_ms"], 3),
        "samples_ms": {"maestro": maestro_ms, "baseline": baseline_ms},
    }


def callable_round_trip(suite: Suite) -> dict[str, Any]:
    user = suite.create_user("bench")
    seed(suite, user.uid, AGENTS, 100)
    suite.call({"force": True}, token=user.id_token)
    results = {}
    for label, payload in (("cached", {}), ("forced", {"force": True})):
        samples = []
        for _ in range(100):
            started = time.perf_counter()
            status, _ = suite.call(payload, token=user.id_token)
            samples.append((time.perf_counter() - started) * 1000)
            assert status == 200
        results[label] = summarize(samples)
    return results


def concurrent_vs_sequential(suite: Suite) -> dict[str, Any]:
    results = {}
    for agent_count in (4, 20):
        uid = f"bench-queries-{agent_count}-{int(time.time())}"
        agents = tuple(f"Agent{i:02d}" for i in range(agent_count))
        seed(suite, uid, agents, 100)
        concurrent, sequential = [], []
        for _ in range(30):  # interleaved, so both see the same machine
            started = time.perf_counter()
            parallel_entries = firestore_io.read_agent_journals(suite.db, uid, agents, 100)
            concurrent.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            serial_entries = firestore_io.read_agent_journals_sequentially(
                suite.db, uid, agents, 100
            )
            sequential.append((time.perf_counter() - started) * 1000)
            assert len(parallel_entries) == len(serial_entries) == agent_count * 100
        c, s = summarize(concurrent), summarize(sequential)
        results[f"{agent_count}_agents"] = {
            "concurrent": c,
            "sequential": s,
            "sequential_over_concurrent_median": round(s["median_ms"] / c["median_ms"], 2),
        }
    return results


class OperationCounter:
    """Documents read and written through maestro.firestore_io, as Firestore bills them: one read
    per document a batch get asks for (found or not), one per document a query returns and at
    least one per query, one write per document written."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._originals = {
            name: getattr(firestore_io, name)
            for name in ("_get_all", "_run_query", "_update", "_create", "save_config")
        }

        def get_all(db: Any, refs: Any) -> Any:
            refs = list(refs)
            self.counts["reads"] += len(refs)
            return self._originals["_get_all"](db, refs)

        def run_query(query: Any, read_time: Any) -> Any:
            result = self._originals["_run_query"](query, read_time)
            self.counts["reads"] += max(1, len(result))
            return result

        def write(name: str) -> Any:
            def counted(*args: Any, **kwargs: Any) -> Any:
                self.counts["writes"] += 1
                return self._originals[name](*args, **kwargs)

            return counted

        firestore_io._get_all = get_all  # type: ignore[assignment]
        firestore_io._run_query = run_query  # type: ignore[assignment]
        firestore_io._update = write("_update")  # type: ignore[assignment]
        firestore_io._create = write("_create")  # type: ignore[assignment]
        firestore_io.save_config = write("save_config")  # type: ignore[assignment]

    def take(self) -> dict[str, int]:
        taken = {"reads": self.counts["reads"], "writes": self.counts["writes"]}
        self.counts.clear()
        return taken

    def restore(self) -> None:
        for name, original in self._originals.items():
            setattr(firestore_io, name, original)


def firestore_cost(suite: Suite) -> dict[str, Any]:
    counter = OperationCounter()
    scenarios: dict[str, dict[str, int]] = {}
    try:
        user = suite.create_user("cost")
        seed(suite, user.uid, AGENTS, 150)  # more than the lookback: every query returns 100
        ref = suite.journal(user.uid).document("close")
        suite.background_triggers(False)
        try:
            ref.set(trade("WhaleFlowAgent", 5000, "12.5"))
            opened = suite.journal(user.uid).document("opened")
            opened.set(trade("SentimentAgent", 5001, "0", closed=False))
        finally:
            suite.background_triggers(True)
        counter.take()
        run_trigger(suite.project, user.uid, "close", None, ref.get())
        scenarios["trigger: a close, full recompute"] = counter.take()
        run_trigger(suite.project, user.uid, "close", None, ref.get())
        scenarios["trigger: a close the stored weights already cover"] = counter.take()
        run_trigger(suite.project, user.uid, "opened", None, opened.get())
        scenarios["trigger: an open trade written"] = counter.take()
        call_callable({}, user.id_token)
        scenarios["callable: cached"] = counter.take()
        call_callable({"force": True}, user.id_token)
        scenarios["callable: forced"] = counter.take()
        call_callable({"config": {"lookback_trades": 100}}, user.id_token)
        scenarios["callable: with a config"] = counter.take()

        growth = []
        for agents_n in (1, 4, 20):
            for lookback in (10, 100, 1000):
                uid = f"bench-cost-{agents_n}-{lookback}-{int(time.time() * 1000)}"
                agents = tuple(f"Agent{i:02d}" for i in range(agents_n))
                seed(suite, uid, agents, lookback)
                suite.db.document(f"users/{uid}/maestro/config").set(
                    {
                        "agent_ids": list(agents),
                        "lookback_trades": lookback,
                        "min_floor_weight": "0",
                    }
                )
                counter.take()
                from maestro import service

                service.recompute(suite.db, uid, service.Cause("callable"))
                growth.append({"agents": agents_n, "lookback": lookback, **counter.take()})
    finally:
        counter.restore()

    full = scenarios["trigger: a close, full recompute"]
    covered = scenarios["trigger: a close the stored weights already cover"]
    per_million = {}
    for place, price in PRICES.items():

        def dollars(ops: dict[str, float], price: dict[str, float] = price) -> float:
            return round(ops["reads"] * 10 * price["read"] + ops["writes"] * 10 * price["write"], 2)

        burst_mix = {k: 0.05 * full[k] + 0.95 * covered[k] for k in ("reads", "writes")}
        per_million[place] = {
            "every close recomputes (closes far apart)": dollars(full),
            "burst mix measured in docs/reliability.md (5 % recompute, 95 % covered)": dollars(
                burst_mix
            ),
        }
    return {
        "per_operation": scenarios,
        "growth": growth,
        "usd_per_million_closes": per_million,
        "prices_per_100k": PRICES,
    }


def main() -> None:
    suite = Suite()
    suite.clear()
    results = {
        "end_to_end": end_to_end(suite),
        "callable_round_trip": callable_round_trip(suite),
        "queries": concurrent_vs_sequential(suite),
        "firestore_cost": firestore_cost(suite),
    }
    summary = {k: v for k, v in results["end_to_end"].items() if k != "samples_ms"}
    print("end to end:", summary)
    print("callable:", results["callable_round_trip"])
    print("queries:", results["queries"])
    print("cost:", results["firestore_cost"])
    print("wrote", save("emulator", results))


if __name__ == "__main__":
    main()
