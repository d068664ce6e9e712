"""Engine v2's methods, one module each: how returns are taken (returns.py), the moments of a
track record (moments.py), the scores (sharpe.py, sortino.py, psr.py), drawdowns and Kelly
(drawdown.py, kelly.py), the daily records (daily.py, covariance.py), how performers share
their budget (softmax.py, inverse_volatility.py, hrp.py; allocator.py chains their
fallbacks), floor and cap (bounds.py), and the exposure for a volatility target
(exposure.py). The
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
    INVERSE_VOLATILITY = "inverse_volatility"
    HRP = "hrp"


class Fallback(StrEnum):
    """A step a method could not take, and what it did instead (recorded, in order)."""

    SORTINO_NO_DOWNSIDE = "sortino: no return below rf_daily, so the Sharpe of the same returns"
    PSR_UNDEFINED = "psr: fewer than 3 trades or a non-positive term under the root: score 0"
    INVERSE_VOLATILITY_UNDEFINED = (
        "inverse_volatility: a performer's daily volatility is undefined or 0, so softmax"
    )
    HRP_TOO_FEW_COMMON_DAYS = (
        "hrp: fewer than 20 days on which every performer is defined, so inverse_volatility"
    )
    HRP_ZERO_VARIANCE = (
        "hrp: a performer's variance is 0 (alone, or over a pair's common days), so "
        "inverse_volatility"
    )
    HRP_NON_POSITIVE_CLUSTER_VARIANCE = (
        "hrp: a cluster's variance is not positive, so inverse_volatility"
    )
