"""Benchmarks on the emulator suite (run by make bench inside scripts/emulators, with
firebase.bench.json, which adds a baseline trigger that only writes one document):

1. close -> weights latency, Maestro beside the baseline, over sequential closes, on an instance
   that stored the user's last version (end_to_end) and on one that remembers nothing of the
   user (end_to_end_cold);
2. the callable's round trip, cached and forced;
3. concurrent against sequential per-agent queries, at 4 and 20 agents;
4. Firestore reads and writes per trigger run and per callable, counted at the access layer,
   and how they grow with agents x lookback;
5. a rebuild at sizes up to and past the functions' limits (32,000 trades, 64 agents): time,
   the function process's peak memory, the documents' sizes."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))
sys.path.insert(0, str(ROOT))

from bench.stats import RESULTS, save, summarize  # noqa: E402
from maestro import decisions, documents, firestore_io, handlers, service  # noqa: E402
from maestro.decisions import Settings  # noqa: E402
from maestro.events import CallableRequest, TradeEvent, classify_trade_write  # noqa: E402
from maestro.journal import JournalEntry  # noqa: E402
from maestro.timestamps import to_ns  # noqa: E402
from tests.emulator.harness import Suite, debug_log_offset, function_log, trade  # noqa: E402
from tests.emulator.inprocess import call_callable, run_trigger  # noqa: E402

CLOSES = 120
WARMUP_CLOSES = 30
# A close within a second of the weights' last write hands off to the task queue (Firestore's
# one write a second per document: decisions.WRITTEN_TOO_RECENTLY): the lone close measured
# here comes a little over a second after the version before it.
LONE_CLOSE_SPACING_SECONDS = 1.05
AGENTS = ("WhaleFlowAgent", "SentimentAgent", "GammaScalper", "SectorRotation")
# Published Firestore (Standard edition) prices per 100,000 documents, USD.
PRICES = {
    "us-central1 (regional)": {"read": 0.03, "write": 0.09},
    "nam5 (multi-region)": {"read": 0.06, "write": 0.18},
}


def seed(
    suite: Suite, uid: str, agents: tuple[str, ...], per_agent: int, start_minute: int = 0
) -> None:
    suite.background_triggers(False)
    try:
        seed_items(suite, uid, agents, per_agent, start_minute)
    finally:
        suite.background_triggers(True)


def seed_items(
    suite: Suite, uid: str, agents: tuple[str, ...], per_agent: int, start_minute: int = 0
) -> None:
    """Closed trades per agent, written in batches (triggers must be off)."""
    rng = random.Random(uid)
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


class Watcher:
    """Arrival times of every version of one document, from a snapshot listener. Each wait
    looks only at the versions that arrived since the last one was found, so that polling costs
    the same on the 200th close as on the first (the machine has 2 cores, shared with the
    emulators)."""

    def __init__(self, suite: Suite, path: str) -> None:
        self.versions: list[tuple[float, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.seen = 0  # versions before this index were looked at by an earlier wait
        self.watch = suite.db.document(path).on_snapshot(self._record)

    def _record(self, snapshots: list[Any], _changes: Any, _read_time: Any) -> None:
        now = time.time()
        with self.lock:
            self.versions.extend((now, s.to_dict()) for s in snapshots if s.exists)

    def first(self, reflects: Callable[[dict[str, Any]], bool]) -> float | None:
        """The arrival time of the first new version that `reflects` accepts."""
        with self.lock:
            new = self.versions[self.seen :]
        for offset, (arrived, document) in enumerate(new):
            if reflects(document):
                self.seen += offset
                return arrived
        return None


def wait_reflected(
    watcher: Watcher, commit: dt.datetime, reflects: Callable[[dict[str, Any]], bool], what: str
) -> float:
    deadline = time.monotonic() + 30
    while (seen := watcher.first(reflects)) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reflected within 30 s")
        time.sleep(0.002)
    return (seen - commit.timestamp()) * 1000


def quiet_since(moment: float) -> None:
    """Wait until LONE_CLOSE_SPACING_SECONDS have passed since `moment` (a time.time())."""
    time.sleep(max(0.0, LONE_CLOSE_SPACING_SECONDS - (time.time() - moment)))


def end_to_end(suite: Suite) -> dict[str, Any]:
    uid = f"bench-e2e-{int(time.time())}"
    seed(suite, uid, AGENTS, 50)
    log_offset = debug_log_offset()
    maestro = Watcher(suite, f"users/{uid}/maestro/weights")
    baseline = Watcher(suite, f"users/{uid}/bench/baseline")
    rng = random.Random(3)
    maestro_ms, baseline_ms = [], []
    try:
        last_seen = time.time()
        for i in range(-WARMUP_CLOSES, CLOSES):  # the first ones warm the emulator's JVM up
            quiet_since(last_seen)
            data = trade(rng.choice(AGENTS), 1000 + i, str(rng.randint(-900, 1200) / 100))
            trade_id = f"e{i + WARMUP_CLOSES:04d}"
            commit = suite.journal(uid).document(trade_id).set(data).update_time
            maestro_ms.append(
                wait_reflected(
                    maestro,
                    commit,
                    lambda doc, t=trade_id, c=commit: documents.reflects_write(doc, t, c),  # type: ignore[misc]
                    f"close {i}",
                )
            )
            # The baseline's probe after the same quiet second: the emulator answers a write
            # that follows an idle second more slowly than one that follows another write, and
            # a probe sent at once would be measured in the warmer state.
            quiet_since(last_seen := time.time())
            probe = suite.db.document(f"users/{uid}/benchProbe/p{i + WARMUP_CLOSES:04d}")
            probe_time = probe.set({"n": i}).update_time
            baseline_ms.append(
                wait_reflected(
                    baseline,
                    probe_time,
                    lambda doc, c=probe_time: doc["commit_time"] >= c,  # type: ignore[misc]
                    f"probe {i}",
                )
            )
            last_seen = time.time()
    finally:
        maestro.watch.unsubscribe()
        baseline.watch.unsubscribe()
    maestro_ms, baseline_ms = maestro_ms[WARMUP_CLOSES:], baseline_ms[WARMUP_CLOSES:]
    m_sum, b_sum = summarize(maestro_ms), summarize(baseline_ms)
    runs = logged_runs(uid, log_offset, CLOSES + WARMUP_CLOSES)
    return {
        "closes": CLOSES,
        "journal": "4 agents, 50 seeded trades each, lookback 100; closes one at a time, "
        f"each {LONE_CLOSE_SPACING_SECONDS} s or more after the weights version before it",
        "baseline_trigger": "a trigger on users/{uid}/benchProbe/{id} writing one document, timed "
        f"after each close, {LONE_CLOSE_SPACING_SECONDS} s or more after the close's weights",
        "maestro": m_sum,
        "baseline": b_sum,
        "ratio_median": round(m_sum["median_ms"] / b_sum["median_ms"], 3),
        "ratio_p95": round(m_sum["p95_ms"] / b_sum["p95_ms"], 3),
        "functions_log": runs,
        "samples_ms": {"maestro": maestro_ms, "baseline": baseline_ms},
    }


COLD_CLOSES = 100


def end_to_end_cold(suite: Suite) -> dict[str, Any]:
    """close -> weights on an instance that remembers nothing of the user: each close is the
    first the emulator's worker sees of its user, whose windows and ledger this process built
    (with triggers off). Ledgers of 0 to 99 closes, as a new instance finds them between two
    rebuilds; interleaved with the baseline trigger as in end_to_end."""
    prefix = f"bench-cold-{int(time.time())}"
    uids = [f"{prefix}-{i:03d}" for i in range(COLD_CLOSES)]
    rng = random.Random(5)
    suite.background_triggers(False)
    try:
        for index, uid in enumerate(uids):
            seed_items(suite, uid, AGENTS, 50)
            service.recompute(suite.db, uid, CallableRequest(force=True))
            for k in range(index):  # the ledger this user's next close finds
                data = trade(rng.choice(AGENTS), 500 + k, str(rng.randint(-900, 1200) / 100))
                assert close_in_process(suite, uid, f"l{k:03d}", data).path == "window"
    finally:
        suite.background_triggers(True)
    triggers_live(suite, prefix)
    time.sleep(LONE_CLOSE_SPACING_SECONDS)  # the last users' weights were written just now
    log_offset = debug_log_offset()
    baseline = Watcher(suite, f"users/{prefix}-baseline/bench/baseline")
    maestro_ms, baseline_ms = [], []
    try:
        for i, uid in enumerate(uids):
            maestro = Watcher(suite, f"users/{uid}/maestro/weights")
            try:
                wait_until_listening(maestro)
                data = trade(rng.choice(AGENTS), 2000 + i, str(rng.randint(-900, 1200) / 100))
                commit = suite.journal(uid).document("cold").set(data).update_time
                maestro_ms.append(
                    wait_reflected(
                        maestro,
                        commit,
                        lambda doc, c=commit: documents.reflects_write(doc, "cold", c),  # type: ignore[misc]
                        f"cold close {i}",
                    )
                )
            finally:
                maestro.watch.unsubscribe()
            probe = suite.db.document(f"users/{prefix}-baseline/benchProbe/p{i:04d}").set({"n": i})
            baseline_ms.append(
                wait_reflected(
                    baseline,
                    probe.update_time,
                    lambda doc, c=probe.update_time: doc["commit_time"] >= c,  # type: ignore[misc]
                    f"probe {i}",
                )
            )
    finally:
        baseline.watch.unsubscribe()
    m_sum, b_sum = summarize(maestro_ms), summarize(baseline_ms)
    return {
        "closes": COLD_CLOSES,
        "journal": "4 agents, 50 seeded trades each, lookback 100; each close the first of its "
        "user on the worker; ledgers of 0..99 closes",
        "maestro": m_sum,
        "baseline": b_sum,
        "ratio_median": round(m_sum["median_ms"] / b_sum["median_ms"], 3),
        "ratio_p95": round(m_sum["p95_ms"] / b_sum["p95_ms"], 3),
        "functions_log": logged_runs(prefix, log_offset, COLD_CLOSES),
        "samples_ms": {"maestro": maestro_ms, "baseline": baseline_ms},
    }


def triggers_live(suite: Suite, prefix: str) -> None:
    """Re-enabled background triggers are reloaded before they fire again: wait until both
    codebases answer a write (a close of a scratch user, a baseline probe)."""
    uid = f"{prefix}-warmup"
    commit = suite.journal(uid).document("w").set(trade(AGENTS[0], 1, "1")).update_time
    suite.wait_reflected(uid, "w", commit, timeout=120)
    probe = suite.db.document(f"users/{uid}/benchProbe/w").set({"n": 0})
    suite.wait_for_weights(uid, lambda _: True)
    deadline = time.monotonic() + 120
    while True:
        baseline = suite.db.document(f"users/{uid}/bench/baseline").get()
        if baseline.exists and baseline.get("commit_time") >= probe.update_time:
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the baseline trigger never answered")
        time.sleep(0.05)


def wait_until_listening(watcher: Watcher) -> None:
    """A listener's first snapshot arrives a moment after it is attached (the document exists
    here): wait for it, so that the close's version is timed from a live listener."""
    deadline = time.monotonic() + 10
    while watcher.first(lambda _: True) is None:
        if time.monotonic() > deadline:
            raise TimeoutError("listener never delivered the current document")
        time.sleep(0.002)


def logged_runs(uid: str, offset: int, expected: int) -> dict[str, Any]:
    """Where Maestro's time went, from the functions' own log lines ("maestro weights", with
    timings_ms and path; the baseline's "baseline run"): runs by path, and each step's median
    and p95 per path."""

    def by_path(entries: list[dict[str, Any]]) -> dict[str, list[dict[str, float]]]:
        paths: dict[str, list[dict[str, float]]] = {}
        for entry in entries:
            if entry.get("message") == "baseline run":
                paths.setdefault("baseline", []).append(entry["timings_ms"])
            elif entry.get("message") == "maestro weights" and entry.get("status") == "written":
                paths.setdefault(entry.get("path", "?"), []).append(entry["timings_ms"])
        return paths

    runs = by_path(
        function_log(offset, uid, lambda e: sum(map(len, by_path(e).values())) >= 2 * expected)
    )
    summary: dict[str, Any] = {}
    for path, timings in runs.items():
        steps = sorted({step for t in timings for step in t if step != "conflicts"})
        summary[path] = {
            "runs": len(timings),
            **{
                step: {
                    "runs": len(values),
                    "median_ms": summarize(values)["median_ms"],
                    "p95_ms": summarize(values)["p95_ms"],
                }
                for step in steps
                if (values := [t[step] for t in timings if step in t])
            },
        }
    return summary


def callable_round_trip(suite: Suite) -> dict[str, Any]:
    user = suite.create_user("bench")
    seed(suite, user.uid, AGENTS, 100)
    suite.call({"force": True}, token=user.id_token)
    results = {}
    for label, payload in (("cached", {}), ("forced", {"force": True})):
        samples = []
        for _ in range(100):
            # a forced call counts against the user's limits (6 a minute): start each afresh
            suite.db.document(f"{firestore_io.CALL_LIMITS}/{user.uid}").delete()
            started = time.perf_counter()
            status, _ = suite.call(payload, token=user.id_token)
            samples.append((time.perf_counter() - started) * 1000)
            assert status == 200
        results[label] = summarize(samples)
    # Refused: the user's minute is full (the forced calls above filled it, 6 at most), so each
    # call reads the limits document and answers resource-exhausted.
    for _ in range(6):
        suite.call({"force": True}, token=user.id_token)
    samples = []
    for _ in range(100):
        started = time.perf_counter()
        status, _ = suite.call({"force": True}, token=user.id_token)
        samples.append((time.perf_counter() - started) * 1000)
        assert status == 429
    results["refused"] = summarize(samples)
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
            serial_entries = read_agent_journals_sequentially(suite.db, uid, agents, 100)
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
    least one per query, one write per document a commit writes."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._originals = {
            name: getattr(firestore_io, name)
            for name in ("_get_all", "_run_query", "_commit", "save_config")
        }

        def get_all(db: Any, refs: Any, read_time: Any = None) -> Any:
            refs = list(refs)
            self.counts["reads"] += len(refs)
            return self._originals["_get_all"](db, refs, read_time)

        def run_query(query: Any, read_time: Any) -> Any:
            result = self._originals["_run_query"](query, read_time)
            self.counts["reads"] += max(1, len(result))
            return result

        def commit(batch: Any) -> Any:
            results = self._originals["_commit"](batch)
            self.counts["writes"] += len(results)
            return results

        def save_config(*args: Any, **kwargs: Any) -> Any:
            self.counts["writes"] += 1
            return self._originals["save_config"](*args, **kwargs)

        firestore_io._get_all = get_all  # type: ignore[assignment]
        firestore_io._run_query = run_query  # type: ignore[assignment]
        firestore_io._commit = commit  # type: ignore[assignment]
        firestore_io.save_config = save_config  # type: ignore[assignment]

    def take(self) -> dict[str, int]:
        taken = {"reads": self.counts["reads"], "writes": self.counts["writes"]}
        self.counts.clear()
        return taken

    def restore(self) -> None:
        for name, original in self._originals.items():
            setattr(firestore_io, name, original)


def close_run(
    suite: Suite, uid: str, trade_id: str, data: dict[str, Any], settings: Settings | None = None
) -> Any:
    """Write a close with triggers off and run the service on it as the trigger would."""
    suite.background_triggers(False)
    try:
        return close_in_process(suite, uid, trade_id, data, settings)
    finally:
        suite.background_triggers(True)


def close_in_process(
    suite: Suite, uid: str, trade_id: str, data: dict[str, Any], settings: Settings | None = None
) -> Any:
    """Write a close (triggers must be off) and run the service on it in this process."""
    after = suite.journal(uid).document(trade_id).set(data)
    event = classify_trade_write(
        trade_id, f"bench-{trade_id}", None, data, to_ns(after.update_time)
    )
    assert isinstance(event, TradeEvent)
    return service.recompute(suite.db, uid, event, settings)


def read_agent_journals_sequentially(
    db: Any, uid: str, agent_ids: tuple[str, ...], lookback_trades: int
) -> list[JournalEntry]:
    """The seed's way, one agent after another (what the concurrent queries are measured
    against)."""
    entries: list[JournalEntry] = []
    for agent_id in agent_ids:
        entries += firestore_io.read_agent_journals(db, uid, (agent_id,), lookback_trades)
    return entries


def cost_growth(suite: Suite, counter: OperationCounter) -> list[dict[str, Any]]:
    """Reads and writes of a rebuild and of a close applied to a window, by agents x lookback."""
    growth: list[dict[str, Any]] = []
    for agents_n in (1, 4, 20):
        for lookback in (10, 100, 1000):
            uid = f"bench-cost-{agents_n}-{lookback}-{int(time.time() * 1000)}"
            agents = tuple(f"Agent{i:02d}" for i in range(agents_n))
            seed(suite, uid, agents, lookback)
            config = {
                "agent_ids": list(agents),
                "lookback_trades": lookback,
                "min_floor_weight": "0",
            }
            suite.db.document(f"users/{uid}/maestro/config").set(config)
            counter.take()
            service.recompute(suite.db, uid, CallableRequest(force=True))
            rebuild = counter.take()
            outcome = close_run(suite, uid, "g", trade(agents[0], 99_999, "1"))
            assert outcome.path == "window", outcome.reason
            warm = counter.take()
            service.forget_instance_memory()
            outcome = close_run(suite, uid, "h", trade(agents[0], 99_998, "1"))
            assert outcome.path == "window", outcome.reason
            growth.append(
                {
                    "agents": agents_n,
                    "lookback": lookback,
                    "rebuild": rebuild,
                    "close_warm_instance": warm,
                    "close_new_instance": counter.take(),
                }
            )
    return growth


def callable_costs(user: Any, counter: OperationCounter) -> dict[str, dict[str, int]]:
    counter.take()
    scenarios = {}
    call_callable({}, user.id_token)
    scenarios["callable: cached"] = counter.take()
    call_callable({"force": True}, user.id_token)
    scenarios["callable: forced"] = counter.take()
    call_callable({"config": {"lookback_trades": 100}}, user.id_token)
    scenarios["callable: with a config"] = counter.take()
    while call_callable({"force": True}, user.id_token)[0] == 200:
        pass  # until the user's minute is full
    handlers.forget_instance_memory()
    counter.take()
    call_callable({"force": True}, user.id_token)
    scenarios["callable: refused (limit reached), first on an instance"] = counter.take()
    call_callable({"force": True}, user.id_token)
    scenarios["callable: refused again (remembered)"] = counter.take()
    return scenarios


def firestore_cost(suite: Suite) -> dict[str, Any]:
    counter = OperationCounter()
    scenarios: dict[str, dict[str, int]] = {}
    try:
        user = suite.create_user("cost")
        seed(suite, user.uid, AGENTS, 150)  # more than the lookback: every query returns 100
        counter.take()

        def measured(label: str, expected_path: str | None, run: Callable[[], Any]) -> None:
            outcome = run()
            if expected_path is not None:
                assert outcome.path == expected_path, (label, outcome.reason)
            scenarios[label] = counter.take()

        def close(trade_id: str, minute: int, settings: Settings | None = None) -> Any:
            data = trade(AGENTS[minute % 4], 5000 + minute, "12.5")
            return close_run(suite, user.uid, trade_id, data, settings)

        measured("trigger: first close of a user (windows built)", "query", lambda: close("c0", 0))
        measured(
            "trigger: a close, on the instance that stored the last version",
            "window",
            lambda: close("c1", 1),
        )
        service.forget_instance_memory()
        measured(
            "trigger: a close, on an instance new to this user",
            "window",
            lambda: close("c1b", 5),
        )
        measured(
            "trigger: the same close delivered again",
            None,
            lambda: close_run(suite, user.uid, "c1", trade(AGENTS[1], 5001, "12.5")),
        )
        measured(
            "trigger: a close with windows off (MAESTRO_WINDOW_MAX_AGE_SECONDS=0)",
            "query",
            lambda: close("c2", 2, Settings(window_max_age_seconds=0)),
        )
        opened = suite.journal(user.uid).document("opened")
        suite.background_triggers(False)
        try:
            opened.set(trade("SentimentAgent", 6001, "0", closed=False))
        finally:
            suite.background_triggers(True)
        counter.take()
        run_trigger(suite.project, user.uid, "opened", None, opened.get())
        scenarios["trigger: an open trade written"] = counter.take()
        scenarios.update(callable_costs(user, counter))

        growth = cost_growth(suite, counter)
    finally:
        counter.restore()

    rebuild = scenarios["trigger: first close of a user (windows built)"]
    warm = scenarios["trigger: a close, on the instance that stored the last version"]
    cold = scenarios["trigger: a close, on an instance new to this user"]
    off = scenarios["trigger: a close with windows off (MAESTRO_WINDOW_MAX_AGE_SECONDS=0)"]
    every = decisions.MAX_LEDGER_ENTRIES
    per_million = {}
    for place, price in PRICES.items():

        def dollars(ops: dict[str, float], price: dict[str, float] = price) -> float:
            return round(ops["reads"] * 10 * price["read"] + ops["writes"] * 10 * price["write"], 2)

        def amortized(close: dict[str, int]) -> dict[str, float]:
            return {k: close[k] + rebuild[k] / every for k in ("reads", "writes")}

        per_million[place] = {
            f"windows, warm instances, a rebuild every {every} closes": dollars(amortized(warm)),
            f"windows, every close on a new instance, a rebuild every {every}": dollars(
                amortized(cold)
            ),
            "windows off: every close queries the journal": dollars(off),
        }
    return {
        "per_operation": scenarios,
        "growth": growth,
        "usd_per_million_closes": per_million,
        "prices_per_100k": PRICES,
    }


# (agents, lookback): the default, growing trades at 1000 per agent up to the limit (32,000
# trades) and past it (refused), then the limit with the most agents (64), and past that
# (refused). MAESTRO_SCALE_SIZES (e.g. "64x500,256x125") runs other sizes.
SCALE_SIZES = tuple(
    (int(agents), int(lookback))
    for size in os.environ.get(
        "MAESTRO_SCALE_SIZES", "4x100,16x1000,32x1000,33x1000,64x500,65x100"
    ).split(",")
    for agents, lookback in [size.split("x")]
)


def scale(suite: Suite) -> dict[str, Any]:
    """A rebuild (the callable saving the config, over HTTP) at sizes up to and past the
    config's limits: the function's own timings, the peak memory of the process serving the
    callable, the documents' sizes (Firestore's storage-size rules), and one close after it."""
    rows = []
    for agent_count, lookback in SCALE_SIZES:
        user = suite.create_user("scale")
        agents = tuple(f"Agent{i:03d}" for i in range(agent_count))
        started = time.perf_counter()
        seed(suite, user.uid, agents, lookback)
        seed_seconds = time.perf_counter() - started
        config = {"agent_ids": list(agents), "lookback_trades": lookback, "min_floor_weight": "0"}
        log_offset = debug_log_offset()
        started = time.perf_counter()
        status, body = suite.call({"config": config}, token=user.id_token, timeout=600)
        round_trip_ms = (time.perf_counter() - started) * 1000
        row: dict[str, Any] = {
            "agents": agent_count,
            "lookback": lookback,
            "trades": agent_count * lookback,
            "seed_seconds": round(seed_seconds, 1),
            "callable_status": status,
            "callable_round_trip_ms": round(round_trip_ms, 1),
            "callable_worker_peak_rss_mib": worker_peak_rss_mib("calculate_agent_weights"),
        }
        if status != 200:
            row["error"] = str(body)[:300]
            rows.append(row)
            print("scale:", json.dumps(row))
            continue
        row["rebuild_timings_ms"] = one_run(user.uid, log_offset)
        row |= document_sizes(suite, user.uid)
        # A close after it, in this process on a new instance's path (read, decode, merge,
        # engine, write). Through the trigger it would queue behind the events of the seed,
        # which the emulator still delivers long after (100 s at 32,000 documents).
        service.forget_instance_memory()
        outcome = close_run(suite, user.uid, "scale-close", trade(agents[0], 10_000, "3"))
        row["close_path"] = outcome.path
        row["close_timings_ms"] = outcome.timings_ms
        rows.append(row)
        print("scale:", json.dumps(row))
    return {"sizes": rows, "deploy_settings": {"memory_mib": 256, "timeout_s": 60}}


def one_run(uid: str, offset: int) -> dict[str, float]:
    """The timings the function logged for its (one) written run of this user."""
    entries = function_log(
        offset,
        uid,
        lambda found: any(e.get("status") == "written" for e in found),
        timeout=60,
    )
    written = [e for e in entries if e.get("status") == "written"]
    return dict(written[-1]["timings_ms"]) if written else {}


def worker_peak_rss_mib(target: str) -> float:
    """The peak resident memory (VmHWM) of the Functions emulator's Python worker(s) serving
    `target`: the process a deployed instance would be."""
    peak = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        if f"FUNCTION_TARGET={target}".encode() not in environ:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
    return round(peak / 1024, 1)


def document_sizes(suite: Suite, uid: str) -> dict[str, Any]:
    """Stored sizes by Firestore's rules, of the weights document as written and with engine
    v2's per-agent diagnostics added (an estimate: each a 28-digit decimal string), and of
    the window documents."""
    maestro = suite.db.collection(f"users/{uid}/maestro")
    weights = maestro.document("weights").get().to_dict() or {}
    windows = [
        snap for snap in maestro.stream() if snap.id == "windows" or snap.id.startswith("windows_")
    ]
    full = {
        **weights,
        "exposure": "0.9" * 14,
        "agents": {
            agent: {**detail, **V2_DIAGNOSTICS} for agent, detail in weights["agents"].items()
        },
    }
    path = ["users", uid, "maestro", "weights"]
    return {
        "weights_document_bytes": firestore_size(path, weights),
        "weights_document_with_v2_diagnostics_bytes": firestore_size(path, full),
        "ledger_entries": len(weights.get("ledger", {})),
        "window_documents": len(windows),
        "largest_window_document_bytes": max(
            firestore_size(["users", uid, "maestro", s.id], s.to_dict() or {}) for s in windows
        ),
    }


_DECIMAL_28 = "0." + "1234567890" * 2 + "12345678"  # 28 significant digits
V2_DIAGNOSTICS: dict[str, Any] = {
    "score": _DECIMAL_28,
    "score_method": "sortino",
    "allocator": "inverse_volatility",
    "n": 1000,
    "n_eff": _DECIMAL_28,
    "skewness": _DECIMAL_28,
    "kurtosis": _DECIMAL_28,
    "psr": _DECIMAL_28,
    "min_trl": _DECIMAL_28,
    "max_drawdown": _DECIMAL_28,
    "current_drawdown": _DECIMAL_28,
    "kelly_fraction": _DECIMAL_28,
    "daily_volatility": _DECIMAL_28,
    "daily_sharpe": _DECIMAL_28,
    "daily_sharpe_annualized": _DECIMAL_28,
    "days": 365,
    "analysis_lookbacks": {str(n): _DECIMAL_28 for n in (20, 50, 100, 500)},
    "fallbacks": ["hrp_too_few_common_days", "inverse_volatility"],
}


def firestore_size(path: list[str], fields: dict[str, Any]) -> int:
    """A document's stored size by Firestore's documented rules: the name (each path segment's
    UTF-8 bytes + 1, plus 16), each field (name + value), plus 32."""
    return sum(len(s.encode()) + 1 for s in path) + 16 + _value_size(fields) + 32


def _value_size(value: Any) -> int:
    if isinstance(value, dict):
        return sum(len(str(k).encode()) + 1 + _value_size(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(_value_size(v) for v in value)
    if isinstance(value, str):
        return len(value.encode()) + 1
    if value is None or isinstance(value, bool):
        return 1
    return 8  # numbers, timestamps


# In this order: the emulator answers a query by scanning, so the timed queries run before the
# sections that seed thousands of documents (end_to_end_cold, firestore_cost's growth).
SECTIONS: dict[str, Callable[[Suite], dict[str, Any]]] = {
    "end_to_end": end_to_end,
    "callable_round_trip": callable_round_trip,
    "queries": concurrent_vs_sequential,
    "end_to_end_cold": end_to_end_cold,
    "firestore_cost": firestore_cost,
    "scale": scale,
}


# The scale section takes about 10 minutes (it seeds 120,000 journal documents):
# make bench-scale runs it alone.
DEFAULT_SECTIONS = [name for name in SECTIONS if name != "scale"]


def main() -> None:
    """The sections named on the command line, or all but scale; results merge into
    emulator.json (a section run alone replaces only its own figures)."""
    wanted = sys.argv[1:] or DEFAULT_SECTIONS
    unknown = [name for name in wanted if name not in SECTIONS]
    if unknown:
        print(f"bench/emulator.py: unknown section {unknown[0]!r} (known: {', '.join(SECTIONS)})")
        raise SystemExit(2)
    suite = Suite()
    suite.clear()
    path = RESULTS / "emulator.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    for name in wanted:
        results[name] = SECTIONS[name](suite)
        shown = {k: v for k, v in results[name].items() if k not in ("samples_ms", "runs")}
        print(f"{name}:", json.dumps(shown, default=str))
        print("wrote", save("emulator", results))  # after each section: a later one may fail


if __name__ == "__main__":
    main()
