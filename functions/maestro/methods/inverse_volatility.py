"""The inverse-volatility allocator (ffn's calc_inv_vol_weights): performer i's share is
1 / its daily volatility (sample, n - 1, daily.py). A performer whose daily volatility is
undefined (fewer than 2 days) or 0 has none: the allocator falls back to softmax. Must run
inside ENGINE_CONTEXT."""

from __future__ import annotations

from decimal import Decimal

from . import Fallback
from .allocator import AllocationInputs


def inverse_volatility_shares(inputs: AllocationInputs) -> dict[str, Decimal] | Fallback:
    shares: dict[str, Decimal] = {}
    for agent in inputs.performers:
        volatility = inputs.daily_statistics[agent].volatility_pct
        if not volatility:
            return Fallback.INVERSE_VOLATILITY_UNDEFINED
        shares[agent] = 1 / volatility
    return shares
