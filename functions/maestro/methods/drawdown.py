"""Drawdowns of an agent's cumulative return curve: the sum of its returns from the oldest to
the newest, starting at 0, so that a first loss counts (Riskfolio's *_Abs, which inserts the
starting point; skfolio's get_drawdowns(compounded=False) has none and misses it). In
percentage points. Must run inside ENGINE_CONTEXT."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Drawdowns:
    maximum: Decimal  # the largest fall from a running peak
    current: Decimal  # the fall from the peak to the last point


def drawdowns(returns_newest_first: Sequence[Decimal]) -> Drawdowns:
    level = peak = worst = Decimal(0)
    for value in reversed(returns_newest_first):
        level += value
        if level > peak:
            peak = level
        elif peak - level > worst:
            worst = peak - level
    return Drawdowns(worst, peak - level)
