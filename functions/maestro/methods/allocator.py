"""What an allocator is given and what it answers (the Allocator protocol), the allocators by
name, and their fallbacks: hrp falls back to inverse_volatility, which falls back to softmax,
each step recorded. Adding an allocator is a module with one function of this shape and a
line in allocators(). Must run inside ENGINE_CONTEXT."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Protocol

from . import AllocatorMethod, Fallback
from .daily import DailyRecord, DailyStatistics


@dataclass(frozen=True, slots=True)
class AllocationInputs:
    performers: tuple[str, ...]  # in agent_ids order
    scores: Mapping[str, Decimal]  # score' of each performer
    temperature: Decimal
    daily: Mapping[str, DailyRecord]
    daily_statistics: Mapping[str, DailyStatistics]


@dataclass(frozen=True, slots=True)
class Shares:
    """Each performer's share p_i (> 0, any scale), the allocator that gave them, and the
    fallbacks taken on the way, in order."""

    shares: dict[str, Decimal]
    method: AllocatorMethod
    fallbacks: tuple[Fallback, ...] = ()
    # ln p_i (plus one constant), only when some p_i underflowed to 0 or a subnormal: the
    # proportions bounds.py then needs, which the shares no longer hold.
    log_shares: dict[str, Decimal] | None = None


class Allocator(Protocol):
    def __call__(self, inputs: AllocationInputs) -> dict[str, Decimal] | Fallback: ...


@functools.cache
def allocators() -> Mapping[AllocatorMethod, Allocator]:
    """The allocators by name (imported on first use: each module imports this one)."""
    from .hrp import hrp_shares
    from .inverse_volatility import inverse_volatility_shares
    from .softmax import softmax_allocator

    return {
        AllocatorMethod.SOFTMAX: softmax_allocator,
        AllocatorMethod.INVERSE_VOLATILITY: inverse_volatility_shares,
        AllocatorMethod.HRP: hrp_shares,
    }


@functools.cache
def log_share_allocators() -> Mapping[AllocatorMethod, Allocator]:
    """The allocators whose shares can underflow, by name, each giving ln of its shares
    instead: softmax's exp of a score far below the top; hrp's split factor 1 - V0 / (V0 +
    V1), 0 when V0 is 1e50 times V1. inverse_volatility's 1 / volatility cannot: a volatility
    of 1e500000 or more would have overflowed its variance (ENGINE_CONTEXT traps Overflow)."""
    from .hrp import hrp_log_shares
    from .softmax import softmax_allocator_logs

    return {AllocatorMethod.SOFTMAX: softmax_allocator_logs, AllocatorMethod.HRP: hrp_log_shares}


FALLS_BACK_TO: Final = {
    AllocatorMethod.HRP: AllocatorMethod.INVERSE_VOLATILITY,
    AllocatorMethod.INVERSE_VOLATILITY: AllocatorMethod.SOFTMAX,
}


def allocate_shares(method: AllocatorMethod, inputs: AllocationInputs) -> Shares:
    fallbacks: list[Fallback] = []
    while True:
        outcome = allocators()[method](inputs)
        if not isinstance(outcome, Fallback):
            if all(share.is_normal() for share in outcome.values()):
                return Shares(outcome, method, tuple(fallbacks))
            logs = log_share_allocators()[method](inputs)
            assert not isinstance(logs, Fallback)  # the same inputs gave shares just now
            return Shares(outcome, method, tuple(fallbacks), logs)
        fallbacks.append(outcome)
        method = FALLS_BACK_TO[method]
