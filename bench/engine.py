"""Engine benchmarks, in process (no Firebase): the seed's scenario (4 agents x 100 trades, from
parsed journal documents to the result), a sweep over agents x lookback with time and memory
peak, and a profile of the seed's scenario.  Run: functions/venv/bin/python bench/engine.py"""

from __future__ import annotations

import cProfile
import datetime as dt
import io
import platform
import pstats
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Final

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))
sys.path.insert(0, str(ROOT))

from bench.stats import save, summarize  # noqa: E402
from maestro.config import MaestroConfig  # noqa: E402
from maestro.journal import JournalEntry  # noqa: E402
from maestro.methods.returns import log_return_of_text  # noqa: E402
from maestro.weighting import compute_weights  # noqa: E402
from tests.unit.golden.weighting import compute_weights as first_version  # noqa: E402

T0 = dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)


def journal(
    agents: int, trades_per_agent: int, seed: int = 1
) -> tuple[list[JournalEntry], MaestroConfig]:
    """Documents as Firestore returns them: amounts as decimal strings, closed_at datetimes."""
    rng = random.Random(seed)
    agent_ids = tuple(f"Agent{i:03d}" for i in range(agents))
    entries = []
    for agent in agent_ids:
        for i in range(trades_per_agent):
            entries.append(
                JournalEntry(
                    f"{agent}-{i}",
                    {
                        "agent_id": agent,
                        "symbol": "SPY",
                        "closed_at": T0 + dt.timedelta(hours=6 * i),  # 4 a day
                        "realized_pnl": str(rng.randint(-5_000, 8_000) / 100),
                        "entry_price": str(rng.randint(2_000, 90_000) / 100),
                        "quantity": str(rng.randint(1, 50)),
                    },
                )
            )
    floor = "0.05" if agents <= 20 else "0"
    config = MaestroConfig.from_mapping(
        {
            "agent_ids": list(agent_ids),
            "lookback_trades": max(2, trades_per_agent),
            "min_floor_weight": floor,
        }
    )
    return entries, config


def time_runs(entries: list[JournalEntry], config: MaestroConfig, repeats: int) -> list[float]:
    compute_weights(entries, config)  # warm-up
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        compute_weights(entries, config)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def memory_peak_kib(entries: list[JournalEntry], config: MaestroConfig) -> float:
    tracemalloc.start()
    compute_weights(entries, config)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return round(peak / 1024, 1)


# Every engine v2 option at once (hrp runs: the trades span 25 days, 4 a day).
EVERY_OPTION: Final = {
    "score": "psr",
    "return_transform": "log",
    "half_life_trades": 30,
    "min_confidence": "0.6",
    "drawdown_penalty": "0.5",
    "temperature": "0.5",
    "max_weight": "0.5",
    "kelly_scale": "0.25",
    "analysis_lookbacks": [20, 50],
    "allocator": "hrp",
    "target_volatility": "0.2",
    "max_exposure": "2",
}


def with_options(config: MaestroConfig, options: dict[str, object]) -> MaestroConfig:
    return MaestroConfig.from_mapping({**config.to_json_dict(), **options})


def hrp_growth() -> list[dict[str, object]]:
    """The engine with allocator hrp as agents grow (100 trades each, every day of 25)."""
    rows = []
    for agents in (4, 20, 50, 100, 200):
        entries, config = journal(agents, 100)
        config = with_options(config, {"allocator": "hrp", "min_floor_weight": "0"})
        timing = summarize(time_runs(entries, config, max(3, 400 // agents)))
        ran = compute_weights(entries, config).agents[config.agent_ids[0]].allocator
        rows.append({"agents": agents, **timing, "allocator_ran": ran.value})
        print(f"hrp, {agents:>4} agents x 100: {timing['median_ms']:.1f} ms median ({ran})")
    return rows


def interleaved(cases: dict[str, Callable[[], object]], rounds: int) -> dict[str, dict[str, float]]:
    """Each case timed once per round, in turn: the ratios between them are of one machine
    state (this machine's speed drifts by up to 2x over minutes)."""
    for case in cases.values():
        for _ in range(20):
            case()
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, case in cases.items():
            started = time.perf_counter()
            case()
            samples[name].append((time.perf_counter() - started) * 1000)
    return {name: summarize(values) for name, values in samples.items()}


def seed_and_options() -> dict[str, object]:
    """4 agents x 100 trades: the first version (tests/unit/golden, frozen), engine v2 with the
    defaults (diagnostics left unread, as the CLI's table leaves them), the same with every
    diagnostic read (what a weights document stores), every option at once, and every option
    but the log transform."""
    entries, config = journal(4, 100)
    every = with_options(config, EVERY_OPTION)
    simple = with_options(config, {**EVERY_OPTION, "return_transform": "simple"})
    cases: dict[str, Callable[[], object]] = {
        "first_version": lambda: first_version(entries, config),
        "defaults": lambda: compute_weights(entries, config),
        "defaults_with_diagnostics": lambda: compute_weights(entries, config).to_json_dict(),
        # the logarithms kept from the run before (returns.LOG_RETURNS_KEPT), as a warm
        # instance has them for a window's trades; then none kept, as in a fresh process
        "every_option": lambda: compute_weights(entries, every),
        "every_option_no_kept_logarithm": lambda: (
            log_return_of_text.cache_clear(),
            compute_weights(entries, every),
        ),
        "every_option_but_log": lambda: compute_weights(entries, simple),
    }
    timings = interleaved(cases, 300)
    base = timings["first_version"]["median_ms"]
    ratios = {name: round(t["median_ms"] / base, 2) for name, t in timings.items()}
    for name, timing in timings.items():
        print(f"{name:>30}: {timing['median_ms']:.3f} ms median, {ratios[name]} x first version")
    ran = compute_weights(entries, every).agents[config.agent_ids[0]].allocator
    return {"timings": timings, "ratio_to_first_version": ratios, "every_option_ran": ran.value}


def main() -> None:
    seed_entries, seed_config = journal(4, 100)
    seed_case = summarize(time_runs(seed_entries, seed_config, 2000))
    print("seed scenario, 4 agents x 100 trades:", seed_case)
    side_by_side = seed_and_options()
    hrp = hrp_growth()

    sweep = []
    for agents in (1, 4, 20, 50, 100, 200):
        for lookback in (10, 100, 500, 1000):
            entries, config = journal(agents, lookback)
            trades = agents * lookback
            repeats = max(5, min(300, 200_000 // trades))
            timing = summarize(time_runs(entries, config, repeats))
            row = {
                "agents": agents,
                "lookback": lookback,
                "trades": trades,
                **timing,
                "us_per_trade": round(timing["median_ms"] * 1000 / trades, 3),
                "memory_peak_kib": memory_peak_kib(entries, config),
            }
            sweep.append(row)
            print(
                f"{agents:>4} agents x {lookback:>4}: {row['median_ms']:>9.3f} ms median,"
                f" {row['us_per_trade']:.3f} us/trade, peak {row['memory_peak_kib']} KiB"
            )

    # Least squares time = a + b x trades over the sweep: linear if the fit is tight.
    xs = [r["trades"] for r in sweep]
    ys = [r["median_ms"] for r in sweep]
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mean_x) ** 2 for x in xs
    )
    intercept = mean_y - slope * mean_x
    ss_res = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    ss_tot = sum((y - mean_y) ** 2 for y in ys)
    fit = {"ms_per_trade": slope, "intercept_ms": intercept, "r_squared": 1 - ss_res / ss_tot}
    print("linear fit:", fit)

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(300):
        compute_weights(seed_entries, seed_config)
    profiler.disable()
    report = io.StringIO()
    pstats.Stats(profiler, stream=report).sort_stats("tottime").print_stats(10)
    top = [line for line in report.getvalue().splitlines() if "/" in line or "{" in line][:10]

    path = save(
        "engine",
        {
            "machine": {
                "python": platform.python_version(),
                "processor": platform.machine(),
                "cpus": 2,
            },
            "seed_scenario_4x100": seed_case,
            "side_by_side_4x100": {**side_by_side, "every_option": EVERY_OPTION},
            "hrp_growth": hrp,
            "sweep": sweep,
            "linear_fit": fit,
            "profile_top_tottime_300_runs": top,
        },
    )
    print("wrote", path)


if __name__ == "__main__":
    main()
