"""Engine v2's methods, one module each: how returns are taken (returns.py), the moments of a
track record (moments.py), the scores (sharpe.py, sortino.py, psr.py), drawdowns and Kelly
(drawdown.py, kelly.py), and how performers share their budget (softmax.py, bounds.py). The
names below are what a config chooses them by; the formulas, their sources and worked numbers
are in ../shared/research/methods.md and each module's docstring."""

from __future__ import annotations

from enum import StrEnum


class ReturnTransform(StrEnum):
    SIMPLE = "simple"  # r, percent
    LOG = "log"  # 100 x ln(1 + r / 100)


class ReturnBasis(StrEnum):
    NOTIONAL = "notional"  # realized_pnl / (entry_price x |quantity|)
    ALLOCATED = "allocated"  # realized_pnl / allocated_capital


class ScoreMethod(StrEnum):
    SHARPE = "sharpe"
    SORTINO = "sortino"
    PSR = "psr"


class AllocatorMethod(StrEnum):
    SOFTMAX = "softmax"


class Fallback(StrEnum):
    """A step a method could not take, and what it did instead (recorded, in order)."""

    SORTINO_NO_DOWNSIDE = "sortino: no return below rf_daily, so the Sharpe of the same returns"
    PSR_UNDEFINED = "psr: fewer than 3 trades or a non-positive term under the root: score 0"
