"""Volatility targeting (bt's TargetVol, kept apart from the weights as LEAN and skfolio keep
gross exposure apart): exposure = min(max_exposure, target / sigma_p), sigma_p =
sqrt(w' S w) x sqrt(365) / 100 over the final weights, S the pairwise-complete daily covariance
(covariance.py); an agent with fewer than 2 days adds no variance and is listed; sigma_p = 0
gives max_exposure. The weights still add up to 1; the exposure is how much of the capital to
put to work. Must run inside ENGINE_CONTEXT."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from .covariance import pair_covariance
from .daily import DAYS_PER_YEAR, DailyRecord

_HUNDRED: Final = Decimal(100)


@dataclass(frozen=True, slots=True)
class Exposure:
    exposure: Decimal
    portfolio_volatility: Decimal  # annual, a fraction
    without_variance: tuple[str, ...]  # agents with fewer than 2 days


def target_exposure(
    weights: Mapping[str, Decimal],
    daily: Mapping[str, DailyRecord],
    target: Decimal,
    max_exposure: Decimal,
) -> Exposure:
    agents = [agent for agent in weights if weights[agent]]
    without = tuple(a for a in weights if len(daily[a].returns_pct) < 2)
    # Each unordered pair's covariance once: S is symmetric to the digit (the same products,
    # each commuted, summed in the same order).
    covariances: dict[tuple[str, str], Decimal | None] = {}
    for i, first in enumerate(agents):
        for second in agents[i:]:
            covariances[first, second] = covariances[second, first] = pair_covariance(
                daily[first], daily[second]
            )
    variance = Decimal(0)
    for first in agents:
        for second in agents:
            covariance = covariances[first, second]
            if covariance is not None:
                variance += weights[first] * weights[second] * covariance
    if variance <= 0:
        return Exposure(max_exposure, Decimal(0), without)
    sigma = variance.sqrt() * Decimal(DAYS_PER_YEAR).sqrt() / _HUNDRED
    return Exposure(min(max_exposure, target / sigma), sigma, without)
