"""The advisory Kelly fraction of one agent: kelly_scale x (mean - rf) / variance, with
returns as fractions (the continuous single-strategy Kelly, f* = (mu - r) / sigma^2, scaled
down). Reported, never used as a weight; it means something on the allocated basis only
(on notional returns it says how much of the notional to risk, not of the capital). Must run
inside ENGINE_CONTEXT."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

_HUNDRED: Final = Decimal(100)


def kelly_fraction(
    mean_pct: Decimal, variance_pct: Decimal | None, rf_pct: Decimal, scale: Decimal
) -> Decimal | None:
    """None without a positive variance."""
    if variance_pct is None or variance_pct <= 0:
        return None
    # ((mean - rf) / 100) / (variance / 100^2) = (mean - rf) x 100 / variance
    return scale * (mean_pct - rf_pct) * _HUNDRED / variance_pct
