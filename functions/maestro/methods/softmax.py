"""The softmax allocator's shares: performer i's share of the performers' budget is
proportional to exp(score_i / temperature), computed as exp((score_i - max score) /
temperature) so that no exponential overflows. temperature 1 is the first version's rule, to
the digit. Must run inside ENGINE_CONTEXT."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .allocator import AllocationInputs


def softmax_log_shares(scores: Mapping[str, Decimal], temperature: Decimal) -> dict[str, Decimal]:
    """ln of each share: (score - max score) / temperature. These never underflow, though
    their exp does (far below the top score) and is then 0 (bounds.py uses these then)."""
    top = max(scores.values())
    return {agent: (score - top) / temperature for agent, score in scores.items()}


def softmax_shares(scores: Mapping[str, Decimal], temperature: Decimal) -> dict[str, Decimal]:
    return {agent: log.exp() for agent, log in softmax_log_shares(scores, temperature).items()}


def softmax_allocator(inputs: AllocationInputs) -> dict[str, Decimal]:
    return softmax_shares(inputs.scores, inputs.temperature)


def softmax_allocator_logs(inputs: AllocationInputs) -> dict[str, Decimal]:
    return softmax_log_shares(inputs.scores, inputs.temperature)
