"""The worked inputs of ../shared/research/methods.md (section (a)), in Maestro's units."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

# Input A: 8 per-trade returns as fractions, oldest first; Maestro's returns are percent.
A_FRACTIONS = [0.02, -0.01, 0.03, -0.02, 0.015, -0.005, 0.01, 0.025]
A_PCT_NEWEST_FIRST = tuple(Decimal(str(r)) * 100 for r in reversed(A_FRACTIONS))
A = np.array(A_FRACTIONS)
# Input B: P&L on 1000 of capital, oldest first: returns 10 %, -5 %, ...
B_PNL = [100, -50, -80, 120, -30, -60, 200]
B_PCT_NEWEST_FIRST = tuple(Decimal(p) / 10 for p in reversed(B_PNL))


def close(value: Decimal, expected: float, digits: int = 6) -> bool:
    """Equal to the pinned figure at the digits methods.md gives."""
    return abs(float(value) - expected) < 0.5 * 10**-digits
