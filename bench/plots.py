"""PNG plots for docs/performance.md from bench/results/*.json.
Run: functions/venv/bin/python bench/plots.py (after engine.py and emulator.py)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
IMAGES = ROOT / "docs" / "images"


def engine_sweep() -> None:
    sweep = json.loads((RESULTS / "engine.json").read_text())["sweep"]
    fig, (time_ax, memory_ax) = plt.subplots(1, 2, figsize=(11, 4.2))
    for agents in sorted({row["agents"] for row in sweep}):
        rows = [row for row in sweep if row["agents"] == agents]
        trades = [row["trades"] for row in rows]
        time_ax.errorbar(
            trades,
            [row["median_ms"] for row in rows],
            yerr=[
                [row["median_ms"] - row["p5_ms"] for row in rows],
                [row["p95_ms"] - row["median_ms"] for row in rows],
            ],
            marker="o",
            capsize=3,
            label=f"{agents} agents",
        )
        memory_ax.plot(
            trades, [row["memory_peak_kib"] for row in rows], marker="o", label=f"{agents} agents"
        )
    for axis in (time_ax, memory_ax):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("trades in the run (agents x lookback)")
        axis.grid(True, which="both", alpha=0.3)
    time_ax.set_ylabel("compute_weights, ms (median, p5-p95)")
    time_ax.set_title("Engine time grows linearly with trades")
    memory_ax.set_ylabel("tracemalloc peak, KiB")
    memory_ax.set_title("Memory peak")
    time_ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(IMAGES / "engine_sweep.png", dpi=110)


def end_to_end() -> None:
    emulator = json.loads((RESULTS / "emulator.json").read_text())
    fig, (cdf_ax, bar_ax) = plt.subplots(1, 2, figsize=(11, 4.2))
    curves = (
        ("end_to_end", "maestro", "Maestro, warm instance", "-"),
        ("end_to_end", "baseline", "baseline (warm run)", ":"),
        ("end_to_end_cold", "maestro", "Maestro, instance new to the user", "-"),
        ("end_to_end_cold", "baseline", "baseline (cold run)", ":"),
    )
    for section, label, legend, style in curves:
        values = sorted(emulator[section]["samples_ms"][label])
        cdf_ax.plot(
            values, [(i + 1) / len(values) for i in range(len(values))], style, label=legend
        )
    cdf_ax.set_xscale("log")
    cdf_ax.set_xlabel("close committed -> document reflects it, ms")
    cdf_ax.set_ylabel("fraction of closes")
    cdf_ax.set_title("End to end on the emulator suite")
    cdf_ax.grid(True, which="both", alpha=0.3)
    cdf_ax.legend(fontsize=8)
    queries = emulator["queries"]
    labels, medians, errors = [], [], [[], []]
    for agents in ("4_agents", "20_agents"):
        for mode in ("concurrent", "sequential"):
            row = queries[agents][mode]
            labels.append(f"{agents.split('_')[0]} agents\n{mode}")
            medians.append(row["median_ms"])
            errors[0].append(row["median_ms"] - row["p5_ms"])
            errors[1].append(row["p95_ms"] - row["median_ms"])
    bar_ax.bar(labels, medians, yerr=errors, capsize=4, color=["#4c72b0", "#dd8452"] * 2)
    bar_ax.set_ylabel("journal read (100 trades per agent), ms")
    bar_ax.set_title("Per-agent queries: concurrent vs sequential")
    fig.tight_layout()
    fig.savefig(IMAGES / "end_to_end.png", dpi=110)


if __name__ == "__main__":
    IMAGES.mkdir(parents=True, exist_ok=True)
    engine_sweep()
    end_to_end()
    print("wrote", IMAGES / "engine_sweep.png", IMAGES / "end_to_end.png")
