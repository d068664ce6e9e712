"""`--plots DIR`: the equity curves of every policy, each policy's held weights over time
(stacked), and the drawdowns, as PNGs. Floats here are for drawing only: every figure the
evaluation reports is exact (metrics.py). matplotlib is imported when plots are asked for."""

from __future__ import annotations

from pathlib import Path

from .report import ranking
from .walk_forward import Evaluation


def write_plots(evaluation: Evaluation, directory: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    calendar, start = evaluation.calendar, evaluation.start
    # matplotlib draws dates from datetime64 (its stubs do not take date objects)
    import numpy as np

    dates = np.array(calendar.dates[start:], dtype="datetime64[D]")
    names = ranking(evaluation)
    written = []

    equity_figure, equity_axes = plt.subplots(figsize=(10, 5))
    drawdown_figure, drawdown_axes = plt.subplots(figsize=(10, 4))
    for name in names:
        curve = [float(equity) for equity in evaluation.figures[name].equity_curve]
        peak, falls = 1.0, []
        for equity in curve:
            peak = max(peak, equity)
            falls.append(equity / peak - 1)
        style = "--" if evaluation.replays[name].policy.baseline else "-"
        equity_axes.plot(dates, curve, style, label=name)
        drawdown_axes.plot(dates, falls, style, label=name)
    equity_axes.set(title="Equity (from 1, scoring period)", ylabel="equity")
    drawdown_axes.set(title="Drawdown of the equity", ylabel="fraction below the peak")
    for axes in (equity_axes, drawdown_axes):
        axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
        axes.grid(alpha=0.3)
    for figure, file_name in ((equity_figure, "equity.png"), (drawdown_figure, "drawdowns.png")):
        figure.autofmt_xdate()
        figure.tight_layout()
        figure.savefig(directory / file_name, dpi=110)
        plt.close(figure)
        written.append(directory / file_name)

    agents = tuple(calendar.returns_pct)
    for name in names:
        run = evaluation.replays[name]
        layers = [
            [
                0.0
                if run.earning[day] is None
                else float(run.rebalances[run.earning[day]].held[agent])  # type: ignore[index]
                for day in range(start, len(calendar.dates))
            ]
            for agent in agents
        ]
        figure, axes = plt.subplots(figsize=(10, 4))
        axes.stackplot(dates, layers, labels=agents)
        axes.set(title=f"Held weights: {name}", ylabel="weight", ylim=(0, None))
        axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
        figure.autofmt_xdate()
        figure.tight_layout()
        path = directory / f"weights_{_file_safe(name)}.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        written.append(path)
    return written


def _file_safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
