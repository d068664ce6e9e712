"""The walk-forward replay (maestro evaluate) kept incremental, against recomputing the engine
from the journal at every rebalance, in one run: on the sample journal (daily rebalances) and
on a synthetic 20-agent x 5,000-trade journal over 3 years (weekly rebalances: recomputing
from scratch daily would take most of an hour), for the default policy and for hrp; then the
time per policy for 10 policies on the larger one. Each timing is repeated (3 runs, median).

Run: functions/venv/bin/python bench/evaluate.py (make bench runs it)."""

from __future__ import annotations

import bisect
import datetime as dt
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))
sys.path.insert(0, str(ROOT))

from bench.stats import save, summarize  # noqa: E402
from maestro.evaluation.calendar import Calendar  # noqa: E402
from maestro.evaluation.policies import Policy, parse_policies  # noqa: E402
from maestro.evaluation.walk_forward import evaluate  # noqa: E402
from maestro.journal import JournalEntry  # noqa: E402
from maestro.journal_file import load_journal_file  # noqa: E402
from maestro.weighting import compute_weights  # noqa: E402

T0 = dt.datetime(2023, 1, 2, 14, 0, tzinfo=dt.UTC)


class FromScratch:
    """The engine on the journal as it stood at each rebalance, from the entries (sorted once,
    so that only the engine's own work is timed)."""

    def __init__(self, entries: Sequence[JournalEntry]) -> None:
        dated = [e for e in entries if isinstance(e.data.get("closed_at"), dt.datetime)]
        self.entries = sorted(dated, key=lambda e: e.data["closed_at"])
        self.days = [e.data["closed_at"].date() for e in self.entries]
        self.calendar: Calendar | None = None

    def __call__(self, policy: Policy, index: int) -> dict[str, Decimal]:
        assert self.calendar is not None
        day = self.calendar.dates[index]
        agents = tuple(self.calendar.returns_pct)
        if policy.config is None:
            return dict.fromkeys(agents, Decimal(1) / len(agents))
        seen = self.entries[: bisect.bisect_right(self.days, day)]
        result = compute_weights(seen, policy.config)
        if result.exposure is None:
            return dict(result.weights)
        return {a: w * result.exposure for a, w in result.weights.items()}


def synthetic(agents: int, trades: int, days: int, seed: int = 7) -> list[JournalEntry]:
    rng = random.Random(seed)
    entries = []
    for a in range(agents):
        drift = rng.uniform(-0.3, 0.6)
        for i in range(trades):
            moment = T0 + dt.timedelta(minutes=rng.randrange(days * 24 * 60))
            entries.append(
                JournalEntry(
                    f"A{a:02d}-{i}",
                    {
                        "agent_id": f"Agent{a:02d}",
                        "closed_at": moment,
                        "realized_pnl": f"{rng.gauss(drift, 4):.2f}",
                        "entry_price": "100",
                        "quantity": "1",
                    },
                )
            )
    return entries


def timed(run: Callable[[], object], repeats: int = 3) -> dict[str, float]:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return summarize(samples)


def compare(
    entries: list[JournalEntry], raw: dict[str, object], every: int, start: dt.date | None
) -> dict[str, object]:
    policies = [p for p in parse_policies(raw) if not p.baseline]
    incremental = timed(lambda: evaluate(entries, policies, every_days=every, start=start))
    scratch_targets = FromScratch(entries)
    scratch_targets.calendar = evaluate(entries, policies, every_days=every, start=start).calendar
    scratch = timed(
        lambda: evaluate(entries, policies, every_days=every, start=start, targets=scratch_targets),
        repeats=1 if len(entries) > 10_000 else 3,
    )
    gain = round(scratch["median_ms"] / incremental["median_ms"], 1)
    options = {k: v for k, v in raw["p"].items() if k != "agent_ids"}  # type: ignore[attr-defined]
    print(
        f"  {json.dumps(options)}: incremental {incremental['median_ms']:.0f} ms,"
        f" from scratch {scratch['median_ms']:.0f} ms, x{gain}"
    )
    return {"incremental": incremental, "from_scratch": scratch, "gain": gain}


def main() -> None:
    sample = load_journal_file(ROOT / "examples" / "sample_journal.json")
    large = synthetic(20, 5000, 3 * 365)
    agents = [f"Agent{a:02d}" for a in range(20)]
    results: dict[str, object] = {"sample": {}, "large": {}}
    print("sample journal (346 trades, 10 days), daily rebalances:")
    for label, raw in (("default", {"p": {}}), ("hrp", {"p": {"allocator": "hrp"}})):
        results["sample"][label] = compare(sample, raw, 1, dt.date(2026, 9, 2))  # type: ignore[index]
    print("20 agents x 5,000 trades over 3 years, weekly rebalances:")
    for label, options in (("default", {}), ("hrp", {"allocator": "hrp"})):
        raw = {"p": {"agent_ids": agents, **options}}
        results["large"][label] = compare(large, raw, 7, None)  # type: ignore[index]
    ten = {
        f"p{i}": {"agent_ids": agents, "lookback_trades": 20 + 20 * i, "temperature": "0.5"}
        for i in range(8)
    } | {
        "hrp": {"agent_ids": agents, "allocator": "hrp"},
        "sortino": {"agent_ids": agents, "score": "sortino", "half_life_trades": 30},
    }
    policies = [p for p in parse_policies(ten) if not p.baseline]
    whole = timed(lambda: evaluate(large, policies, every_days=1), repeats=1)
    per_policy = round(whole["median_ms"] / len(policies), 1)
    print(
        f"10 policies, daily rebalances on the large journal: {whole['median_ms']:.0f} ms,"
        f" {per_policy} ms a policy"
    )
    results["ten_policies_daily_large"] = {"whole": whole, "ms_per_policy": per_policy}
    print("wrote", save("evaluate", results))


if __name__ == "__main__":
    main()
