"""Floor and cap, one exact rule: performer i gets clip(c x p_i, floor, cap), with the one c
that makes the performers' weights add up to their budget (p_i its allocator's share). The
solution is unique (the sum grows with c); a higher share never gets a lower weight. With no
cap this is the first version's rule, computed as it was: an agent whose share falls below the
floor gets exactly the floor and the others re-share what remains, until none falls below.
Only the shares' ratios matter; where shares underflowed, their ratios come from the log-shares
(_relative). Must run inside ENGINE_CONTEXT."""

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
    shares: Mapping[str, Decimal],
    budget: Decimal,
    floor: Decimal,
    cap: Decimal | None,
    log_shares: Mapping[str, Decimal] | None = None,
) -> Bounded:
    """shares: p_i > 0 per performer (in a fixed agent order: sums run in that order), though
    some may have underflowed to 0 or a subnormal; then log_shares holds each ln p_i (plus one
    constant), and None otherwise (allocator.allocate_shares)."""
    if cap is None:
        weights, floored = _floor_only(shares, budget, floor, log_shares)
        return Bounded({agent: weights[agent] for agent in shares}, floored)
    if cap * len(shares) <= budget:
        left_over = budget - cap * len(shares)
        return Bounded(dict.fromkeys(shares, cap), capped=frozenset(shares), left_over=left_over)
    # The capped performers are those with the largest shares: try 0, 1, 2, ... of them; the
    # first count whose rest fits under the cap, with the capped at or above it, is the one.
    by_share = _largest_first(shares, log_shares)
    for count in range(len(by_share)):
        capped = by_share[:count]
        rest = {agent: share for agent, share in shares.items() if agent not in capped}
        remaining = budget - cap * count
        if not floor * len(rest) <= remaining <= cap * len(rest):
            continue
        weights, floored = _floor_only(rest, remaining, floor, log_shares)
        if any(weight > cap for weight in weights.values()):
            continue
        if capped and not _capped_reach_the_cap(
            shares, log_shares, capped, weights, floored, cap, floor
        ):
            continue
        weights.update(dict.fromkeys(capped, cap))
        return Bounded({a: weights[a] for a in shares}, floored, frozenset(capped))
    raise ArithmeticError("no weights satisfy the floor and the cap")  # excluded by validation


def _largest_first(
    shares: Mapping[str, Decimal], log_shares: Mapping[str, Decimal] | None
) -> list[str]:
    """The agents by share, largest first. Equal shares get equal weights, so their order
    matters only where shares underflowed to the same value (0): the log-shares order those."""
    if log_shares is None:
        return sorted(shares, key=lambda agent: shares[agent], reverse=True)
    return sorted(shares, key=lambda agent: (shares[agent], log_shares[agent]), reverse=True)


def _floor_only(
    shares: Mapping[str, Decimal],
    budget: Decimal,
    floor: Decimal,
    log_shares: Mapping[str, Decimal] | None,
) -> tuple[dict[str, Decimal], frozenset[str]]:
    """Split `budget` in proportion to the shares, raising those below the floor to it
    (repeatedly). budget >= floor x len(shares), so not every agent can be below, and the
    largest share never is (it gets at least remaining / len(active) >= floor): so the
    denominator is never 0 once _relative has made the largest normal."""
    weights: dict[str, Decimal] = {}
    raised: set[str] = set()
    active = _relative(shares, log_shares)
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
    log_shares: Mapping[str, Decimal] | None,
    capped: list[str],
    rest_weights: Mapping[str, Decimal],
    floored: frozenset[str],
    cap: Decimal,
    floor: Decimal,
) -> bool:
    """Whether c x p_j >= cap for every capped j (the capped largest first): c is the
    proportion of the rest between the bounds, if any; else (every other agent at the floor)
    whether some c puts the capped at or above the cap and the rest at or below the floor."""
    if not rest_weights:
        return True
    # The lowest capped share is the largest of these: as given unless it underflowed.
    relative = _relative({a: shares[a] for a in (capped[-1], *rest_weights)}, log_shares)
    lowest = relative[capped[-1]]
    free = [agent for agent in rest_weights if agent not in floored]
    if free:
        agent = free[0]
        return rest_weights[agent] * lowest >= cap * relative[agent]
    return cap * max(relative[a] for a in rest_weights) <= floor * lowest


def _relative(
    shares: Mapping[str, Decimal], log_shares: Mapping[str, Decimal] | None
) -> dict[str, Decimal]:
    """The shares as given, unless the largest of them underflowed (0, or a subnormal with
    fewer than the context's digits): then exp(l_i - max l) of their log-shares, the same
    proportions without the underflow (the largest is 1). A softmax share underflows when a
    score is far below the top one (exp(-1e13)), yet the ratios among the rest do not."""
    if max(shares.values()).is_normal():
        return dict(shares)
    if log_shares is None:  # allocate_shares gives them whenever a share underflowed
        raise ArithmeticError("shares underflowed and no log-shares were given")
    top = max(log_shares[agent] for agent in shares)
    return {agent: (log_shares[agent] - top).exp() for agent in shares}
