"""Drawdowns of an agent's cumulative return curve: the sum of its returns from the oldest to
the newest, starting at 0, so that a first loss counts (Riskfolio's *_Abs, which inserts the
starting point; skfolio's get_drawdowns(compounded=False) has none and misses it). In
percentage points. Must run inside ENGINE_CONTEXT."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import accumulate
from operator import add, sub
from typing import Final


@dataclass(frozen=True, slots=True)
class Drawdowns:
    maximum: Decimal  # the largest fall from a running peak
    current: Decimal  # the fall from the peak to the last point


def drawdowns(returns_newest_first: Sequence[Decimal]) -> Drawdowns:
    # By accumulate() and map() in C: the curve from 0 (each level the one before plus a
    # return), the running peak (max keeps the earlier of equal values), the fall from it; the
    # largest fall is the first of the largest, as a loop keeping a strictly larger one finds.
    levels = list(accumulate(reversed(returns_newest_first), add, initial=_ZERO))
    falls = list(map(sub, accumulate(levels, max), levels))
    return Drawdowns(max(falls), falls[-1])


_ZERO: Final = Decimal(0)
