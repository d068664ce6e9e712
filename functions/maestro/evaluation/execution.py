"""From a policy's target weights to the weights it holds: the rebalance band (bt's
RunIfOutOfBounds, absolute), then the turnover cap; neither applies to the first rebalance.
Weights that do not sum to 1 leave the rest in cash. Must run inside ENGINE_CONTEXT."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Final

_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)
_HALF: Final = Decimal("0.5")


def one_way_turnover(held: Mapping[str, Decimal], new: Mapping[str, Decimal]) -> Decimal:
    """Half the sum of |change| over the agents and cash (1 - the weights' sum)."""
    change = sum((abs(new[agent] - held[agent]) for agent in new), _ZERO)
    cash = abs((_ONE - sum(new.values(), _ZERO)) - (_ONE - sum(held.values(), _ZERO)))
    return (change + cash) * _HALF


def held_weights(
    target: Mapping[str, Decimal],
    held: Mapping[str, Decimal] | None,
    band: Decimal | None,
    max_turnover: Decimal | None,
) -> dict[str, Decimal]:
    """The weights held after a rebalance. `held` None: the first rebalance, the target."""
    if held is None:
        return dict(target)
    if band is not None and not any(abs(target[a] - held[a]) > band for a in target):
        return dict(held)
    if max_turnover is not None:
        full = one_way_turnover(held, target)
        if full > max_turnover:
            # Turnover is linear in how far the weights move: the largest fraction that
            # respects the cap is cap / full.
            fraction = max_turnover / full
            return {a: held[a] + fraction * (target[a] - held[a]) for a in target}
    return dict(target)
