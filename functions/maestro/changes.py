"""Which trade journal writes change what the engine reads (pure: documents in, a verdict out).

The trigger recomputes when a trade becomes closed, when a closed trade's agent_id, closed_at,
realized_pnl, entry_price or quantity changes, when a closed trade is deleted or reopened; it
skips every other write (open trades, notes) and says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

ENGINE_FIELDS: Final = ("agent_id", "closed_at", "realized_pnl", "entry_price", "quantity")


@dataclass(frozen=True, slots=True)
class ChangeVerdict:
    recompute: bool
    reason: str


def is_closed(document: Mapping[str, Any] | None) -> bool:
    return document is not None and document.get("closed_at") is not None


def classify_change(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> ChangeVerdict:
    was_closed, now_closed = is_closed(before), is_closed(after)
    if not was_closed and not now_closed:
        return ChangeVerdict(False, "open trade (no closed_at before or after)")
    if was_closed and after is None:
        return ChangeVerdict(True, "closed trade deleted")
    if not was_closed:
        return ChangeVerdict(True, "trade closed")
    if not now_closed:
        return ChangeVerdict(True, "closed trade reopened")
    assert before is not None and after is not None
    changed = [name for name in ENGINE_FIELDS if before.get(name) != after.get(name)]
    if changed:
        return ChangeVerdict(True, f"closed trade changed: {', '.join(changed)}")
    return ChangeVerdict(False, "closed trade written without a change to the fields weights use")


def is_close(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> bool:
    """A trade became closed (created closed, or closed_at set): the one change a rolling window
    can take in place (window.apply_close)."""
    return not is_closed(before) and is_closed(after)


def agents_touched(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> frozenset[str]:
    """The agent ids a change concerns (both sides: a trade can move between agents)."""
    return frozenset(
        doc["agent_id"]
        for doc in (before, after)
        if doc is not None and isinstance(doc.get("agent_id"), str)
    )
