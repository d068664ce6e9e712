"""Floor and cap, one exact rule: performer i gets clip(c x p_i, floor, cap), with the one c
that makes the performers' weights add up to their budget (p_i its allocator's share). The
solution is unique (the sum grows with c); a higher share never gets a lower weight. With no
cap this is the first version's rule, computed as it was: an agent whose share falls below the
floor gets exactly the floor and the others re-share what remains, until none falls below.
Must run inside ENGINE_CONTEXT."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Bounded:
    """Each performer's exact weight; those at the floor and at the cap; and what the
    performers could not take at the cap (then every performer is at the cap)."""

    weights: dict[str, Decimal]
    floored: frozenset[str] = frozenset()
    capped: frozenset[str] = frozenset()
    left_over: Decimal = field(default_factory=Decimal)


def bounded_weights(
    shares: Mapping[str, Decimal], budget: Decimal, floor: Decimal, cap: Decimal | None
) -> Bounded:
    """shares: p_i > 0 per performer (in a fixed agent order: sums run in that order)."""
    if cap is None:
        weights, floored = _floor_only(shares, budget, floor)
        return Bounded({agent: weights[agent] for agent in shares}, floored)
    if cap * len(shares) <= budget:
        left_over = budget - cap * len(shares)
        return Bounded(dict.fromkeys(shares, cap), capped=frozenset(shares), left_over=left_over)
    # The capped performers are those with the largest shares: try 0, 1, 2, ... of them; the
    # first count whose rest fits under the cap, with the capped at or above it, is the one.
    by_share = sorted(shares, key=lambda agent: shares[agent], reverse=True)
    for count in range(len(by_share)):
        capped = by_share[:count]
        rest = {agent: share for agent, share in shares.items() if agent not in capped}
        remaining = budget - cap * count
        if not floor * len(rest) <= remaining <= cap * len(rest):
            continue
        weights, floored = _floor_only(rest, remaining, floor)
        if any(weight > cap for weight in weights.values()):
            continue
        if capped and not _capped_reach_the_cap(shares, capped, weights, floored, cap, floor):
            continue
        weights.update(dict.fromkeys(capped, cap))
        return Bounded({a: weights[a] for a in shares}, floored, frozenset(capped))
    raise ArithmeticError("no weights satisfy the floor and the cap")  # excluded by validation


def _floor_only(
    shares: Mapping[str, Decimal], budget: Decimal, floor: Decimal
) -> tuple[dict[str, Decimal], frozenset[str]]:
    """Split `budget` in proportion to the shares, raising those below the floor to it
    (repeatedly). budget >= floor x len(shares), so not every agent can be below."""
    weights: dict[str, Decimal] = {}
    raised: set[str] = set()
    active = dict(shares)
    remaining = budget
    while active:
        denominator = sum(active.values(), Decimal(0))
        proposal = {agent: remaining * share / denominator for agent, share in active.items()}
        below = [agent for agent, weight in proposal.items() if weight < floor]
        if not below:
            weights.update(proposal)
            break
        for agent in below:
            weights[agent] = floor
            raised.add(agent)
            del active[agent]
            remaining -= floor
    return weights, frozenset(raised)


def _capped_reach_the_cap(
    shares: Mapping[str, Decimal],
    capped: list[str],
    rest_weights: Mapping[str, Decimal],
    floored: frozenset[str],
    cap: Decimal,
    floor: Decimal,
) -> bool:
    """Whether c x p_j >= cap for every capped j: c is the proportion of the rest between the
    bounds, if any; else (every other agent at the floor) whether some c puts the capped at or
    above the cap and the rest at or below the floor."""
    lowest = min(shares[agent] for agent in capped)
    free = [agent for agent in rest_weights if agent not in floored]
    if free:
        agent = free[0]
        return rest_weights[agent] * lowest >= cap * shares[agent]
    return not rest_weights or cap * max(shares[a] for a in rest_weights) <= floor * lowest
