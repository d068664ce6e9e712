"""Each agent's weight in words a trader reads at a glance: its status in plain words, a short
reason ("softmax share", "floor: negative Sharpe", "floor: 1 trade only"), and whether the
weight rests on thin evidence. Worked out from the result's JSON form alone, so that the CLI's
table, the weights document (for the dashboard) and the functions' log line say the same, and
a document stored before explanations existed still explains itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from .methods import AllocatorMethod, ScoreMethod
from .methods.sharpe import AgentStatus
from .result import WeightReason

# Fewer valid trades than this and a weight rests on thin evidence: a per-trade Sharpe of 10
# returns still has a standard error of about 1/sqrt(10) ~ 0.32, as large as most scores.
THIN_EVIDENCE_TRADES: Final = 10

PLAIN_STATUS: Final[dict[str, str]] = {
    AgentStatus.OK: "scored",
    AgentStatus.NO_TRADES: "no valid trade",
    AgentStatus.INSUFFICIENT_DATA: "1 valid trade",
    AgentStatus.ZERO_VOLATILITY: "all returns equal",
    AgentStatus.PSR_UNDEFINED: "PSR undefined",
}

# The score's name and unit, as a column header.
SCORE_LABEL: Final = {
    ScoreMethod.SHARPE: "Sharpe per trade",
    ScoreMethod.SORTINO: "Sortino per trade",
    ScoreMethod.PSR: "PSR (probability)",
}

_SHARE: Final = {
    AllocatorMethod.SOFTMAX: "softmax share",
    AllocatorMethod.INVERSE_VOLATILITY: "inverse-volatility share",
    AllocatorMethod.HRP: "HRP share",
}


@dataclass(frozen=True, slots=True)
class Explanation:
    status: str
    reason: str
    thin_evidence: bool

    def to_json_dict(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason, "thin_evidence": self.thin_evidence}


def explain(detail: Mapping[str, Any]) -> Explanation:
    """The explanation of one agent's entry in the result's JSON form (`agents[agent]`)."""
    status = str(detail["status"])
    used = int(detail["trades_used"])
    reason = WeightReason(detail["weight_reason"])
    share = _SHARE.get(AllocatorMethod(detail.get("allocator", "softmax")), "share")
    why_not = _why_not_performing(status, used, Decimal(detail["sharpe"]))
    short = {
        WeightReason.SOFTMAX: share,
        WeightReason.RAISED_TO_FLOOR: f"floor: {share} below it",
        WeightReason.CAPPED: "capped at max_weight",
        WeightReason.NOT_PERFORMING_FLOOR: f"floor: {why_not}",
        WeightReason.NOT_PERFORMING_ZERO: f"0: {why_not}",
        WeightReason.NOT_CONFIDENT_FLOOR: "floor: PSR below min_confidence",
        WeightReason.NOT_CONFIDENT_ZERO: "0: PSR below min_confidence",
        WeightReason.NOT_PERFORMING_LEFT_OVER: f"floor + what capped agents left: {why_not}",
        WeightReason.NONE_PERFORMING_EQUAL: "equal split: no agent performs",
        WeightReason.NONE_PERFORMING_ZERO: "0: no agent performs",
    }[reason]
    # StrEnum members hash as their values: the status string finds its member's words.
    return Explanation(PLAIN_STATUS.get(status, status), short, used < THIN_EVIDENCE_TRADES)


def _why_not_performing(status: str, used: int, sharpe: Decimal) -> str:
    if status == "no_trades":
        return "no trades"
    if status == "insufficient_data":
        return f"{used} trade only"
    if status == "zero_volatility":
        return "all returns equal"
    if status == "psr_undefined":
        return "PSR undefined (under 3 trades)"
    return "negative Sharpe" if sharpe < 0 else "Sharpe 0"
