"""Split a capital amount by the weights into cent amounts that add up exactly."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal, localcontext
from typing import Final

CENT: Final = Decimal("0.01")


def allocate_capital(total_capital: Decimal, weights: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Amounts per agent, rounded to the cent, adding up exactly to total_capital x sum(weights):
    the whole capital when the weights sum to 1, nothing when they are all 0 (no agent performing
    under enforce_performance). Cents left by rounding down go to the largest remainders
    (ties: larger weight, then agent id), so a larger weight never gets a smaller amount."""
    if not isinstance(total_capital, Decimal) or not total_capital.is_finite():
        raise ValueError("total_capital: must be a finite Decimal")
    if total_capital < 0:
        raise ValueError("total_capital: must be >= 0")
    if total_capital != total_capital.quantize(CENT, rounding=ROUND_DOWN):
        raise ValueError("total_capital: must be a whole number of cents")
    with localcontext(prec=100):
        weight_sum = sum(weights.values(), Decimal(0))
        if any(not w.is_finite() or w < 0 for w in weights.values()):
            raise ValueError("weights: must be finite and >= 0")
        if weight_sum not in (Decimal(0), Decimal(1)):
            raise ValueError(f"weights: must sum to 1 (or all be 0), got {weight_sum}")
        exact = {agent: total_capital * weight for agent, weight in weights.items()}
        amounts = {
            agent: value.quantize(CENT, rounding=ROUND_DOWN) for agent, value in exact.items()
        }
        missing_cents = int((total_capital * weight_sum - sum(amounts.values(), Decimal(0))) / CENT)
        by_remainder = sorted(
            weights,
            key=lambda agent: (exact[agent] - amounts[agent], weights[agent], agent),
            reverse=True,
        )
        for agent in by_remainder[:missing_cents]:
            amounts[agent] += CENT
    return amounts
