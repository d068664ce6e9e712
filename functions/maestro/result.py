"""The typed result of a weighting run, its lossless JSON form and the seed's console table."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any

from .config import MaestroConfig, decimal_to_str
from .methods import AllocatorMethod, Fallback, ScoreMethod


class WeightReason(StrEnum):
    """Why an agent got its weight: one sentence a user can read."""

    SOFTMAX = "performing: softmax share of what the floors leave"
    RAISED_TO_FLOOR = "performing: softmax share was below min_floor_weight, raised to it"
    CAPPED = "performing: softmax share was above max_weight, capped at it"
    NOT_PERFORMING_FLOOR = "not performing (status not ok or Sharpe <= 0): min_floor_weight"
    NOT_PERFORMING_ZERO = "not performing (status not ok or Sharpe <= 0): 0 (enforce_performance)"
    NOT_CONFIDENT_FLOOR = "not performing (PSR below min_confidence): min_floor_weight"
    NOT_CONFIDENT_ZERO = "not performing (PSR below min_confidence): 0 (enforce_performance)"
    NOT_PERFORMING_LEFT_OVER = (
        "not performing: min_floor_weight and an equal part of what the performers, all at "
        "max_weight, could not take"
    )
    NONE_PERFORMING_EQUAL = "no agent performing: equal split"
    NONE_PERFORMING_ZERO = "no agent performing: 0 (enforce_performance)"


@dataclass(frozen=True, slots=True)
class AgentDiagnostics:
    """What else the engine knows of an agent's track record (per trade; returns in percent):
    n valid returns and n_eff, skewness and kurtosis (population, non-excess), the PSR against
    0, the MinTRL for min_confidence (in trades), the maximum and current drawdown of the
    cumulative return curve (percentage points), the advisory Kelly fraction, the score on
    each of the analysis lookbacks, and the daily record's days, volatility (percent a day)
    and annualised Sharpe. None where undefined."""

    n: int
    n_eff: Decimal
    skewness: Decimal | None
    kurtosis: Decimal | None
    psr: Decimal | None
    min_trl: Decimal | None
    max_drawdown: Decimal
    current_drawdown: Decimal
    kelly_fraction: Decimal | None
    analysis: Mapping[int, Decimal]
    days: int = 0
    daily_volatility: Decimal | None = None
    daily_sharpe: Decimal | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "n_eff": decimal_to_str(self.n_eff),
            "skewness": _optional(self.skewness),
            "kurtosis": _optional(self.kurtosis),
            "psr": _optional(self.psr),
            "min_trl": _optional(self.min_trl),
            "max_drawdown": decimal_to_str(self.max_drawdown),
            "current_drawdown": decimal_to_str(self.current_drawdown),
            "kelly_fraction": _optional(self.kelly_fraction),
            "analysis_lookbacks": {
                str(lookback): decimal_to_str(score) for lookback, score in self.analysis.items()
            },
            "days": self.days,
            "daily_volatility": _optional(self.daily_volatility),
            "daily_sharpe": _optional(self.daily_sharpe),
        }


def _optional(value: Decimal | None) -> str | None:
    return None if value is None else decimal_to_str(value)


@dataclass(frozen=True)
class AgentResult:
    """One agent's weight and the statistics behind it (returns in percent per trade). The
    diagnostics are worked out when first read (`diagnosis`); equality compares everything
    else (compare to_json_dict() to include them)."""

    agent_id: str
    weight: Decimal
    sharpe: Decimal
    mean_return_pct: Decimal
    std_return_pct: Decimal
    status: str
    trades_used: int
    trades_rejected: int
    rejection_reasons: Mapping[str, int]
    weight_reason: WeightReason
    score: Decimal
    score_method: ScoreMethod
    allocator: AllocatorMethod
    diagnosis: Callable[[], AgentDiagnostics] = field(repr=False, compare=False)
    fallbacks: tuple[Fallback, ...] = ()

    @cached_property
    def diagnostics(self) -> AgentDiagnostics:
        return self.diagnosis()

    def to_json_dict(self, diagnostics: bool = True) -> dict[str, Any]:
        """Without `diagnostics`, they are left out (and never worked out)."""
        payload = {
            "sharpe": decimal_to_str(self.sharpe),
            "mean_return": decimal_to_str(self.mean_return_pct),
            "std_return": decimal_to_str(self.std_return_pct),
            "trades_used": self.trades_used,
            "trades_rejected": self.trades_rejected,
            "rejection_reasons": dict(self.rejection_reasons),
            "status": self.status,
            "weight_reason": self.weight_reason.value,
            # engine v2: which methods ran, the score they gave, and what else is known
            "score": decimal_to_str(self.score),
            "score_method": self.score_method.value,
            "allocator": self.allocator.value,
            "diagnostics": self.diagnostics.to_json_dict() if diagnostics else None,
            "fallbacks": [fallback.value for fallback in self.fallbacks],
        }
        if not diagnostics:
            del payload["diagnostics"]
        from .explain import explain  # explain reads WeightReason from here

        payload["explanation"] = explain(payload).to_json_dict()
        return payload


@dataclass(frozen=True, slots=True)
class WeightsResult:
    """Weights per agent (in config order) with the per-agent detail and the effective config.
    The weights add up to exactly 1, except under enforce_performance when no agent performs or
    capped performers cannot take their budget (the rest stays unallocated, with a warning)."""

    weights: Mapping[str, Decimal]
    agents: Mapping[str, AgentResult]
    config: MaestroConfig
    warnings: tuple[str, ...] = ()
    exposure: Decimal | None = None  # with a target_volatility: how much capital to put to work

    def to_json_dict(self, diagnostics: bool = True) -> dict[str, Any]:
        """{"weights": {agent: "decimal"}, "agents": {agent: {...}}, "config": {...},
        "warnings": [...]}; every decimal a string, so nothing is lost. Without `diagnostics`,
        the agents' diagnostics are left out (and never worked out)."""
        payload = {
            "weights": {agent: decimal_to_str(weight) for agent, weight in self.weights.items()},
            "agents": {
                agent: detail.to_json_dict(diagnostics) for agent, detail in self.agents.items()
            },
            "config": self.config.to_json_dict(),
            "warnings": list(self.warnings),
        }
        if self.exposure is not None:
            payload["exposure"] = decimal_to_str(self.exposure)
        return payload

    def render_table(self, footnotes: Sequence[str] = ()) -> str:
        return render_weights_table(self.to_json_dict(diagnostics=False), footnotes)


def render_weights_table(payload: Mapping[str, Any], footnotes: Sequence[str] = ()) -> str:
    """The console table (highest weight first) from the JSON form, so the CLI and a weights
    document read back from Firestore print the same way: each agent's weight, Sharpe per
    trade, trades used / rejected, mean return per trade, status in plain words and why it got
    its weight (explain.py), a mark on weights resting on fewer than 10 valid trades, and
    `footnotes` after the total. With engine v2's options set, it also shows each agent's
    score under its name, and which score and allocator ran (and the exposure, with a
    volatility target)."""
    from .explain import SCORE_LABEL, THIN_EVIDENCE_TRADES, explain

    weights: Mapping[str, str] = payload["weights"]
    agents: Mapping[str, Mapping[str, Any]] = payload["agents"]
    config: Mapping[str, Any] = payload.get("config", {})
    extended = any(key not in _FIRST_VERSION_OPTIONS for key in config)
    order = sorted(weights, key=lambda agent: (-Decimal(weights[agent]), agent))
    lines = ["MAESTRO AGENT WEIGHTS"]
    first = agents[order[0]] if order else {}
    score_method = ScoreMethod(first.get("score_method", "sharpe"))
    if extended:
        ran, chosen = first.get("allocator", "softmax"), config.get("allocator", "softmax")
        allocator = ran if ran == chosen else f"{chosen}, fell back to {ran}"
        lines.append(f"score: {score_method.value}, allocator: {allocator}")
    header = ["Agent", "Weight", "Sharpe per trade"]
    if extended:  # the score that shaped the weights (penalty and all), beside the Sharpe
        header.append(f"Score: {SCORE_LABEL[score_method]}")
    header += ["Used / rejected", "Mean per trade", "Status", "Why"]
    rows, thin = [], False
    for agent in order:
        detail = agents[agent]
        explanation = explain(detail)
        thin = thin or explanation.thin_evidence
        mark = " *" if explanation.thin_evidence else ""
        cells = [agent, f"{Decimal(weights[agent]) * 100:.2f}%", f"{Decimal(detail['sharpe']):.4f}"]
        if extended:
            cells.append(f"{Decimal(detail.get('score', '0')):.4f}")
        cells += [
            f"{detail['trades_used']} / {detail['trades_rejected']}{mark}",
            f"{Decimal(detail['mean_return']):.2f}%",
            explanation.status,
            explanation.reason,
        ]
        rows.append(cells)
    total = sum((Decimal(weight) for weight in weights.values()), Decimal(0)) * 100
    total_row = ["Total", f"{total:.2f}%"] + [""] * (len(header) - 2)
    table = [header, *rows, total_row]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    # Text columns (agent, status, why) to the left, numbers to the right.
    left = {0, len(header) - 2, len(header) - 1}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i in left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    lines += [line(header), rule, *map(line, rows), rule, line(total_row)]
    if payload.get("exposure") is not None:
        lines.append(f"exposure (target_volatility): {Decimal(payload['exposure']):.4f}")
    lines.extend(f"warning: {warning}" for warning in payload.get("warnings", ()))
    if thin:
        lines.append(f"* thin evidence: fewer than {THIN_EVIDENCE_TRADES} valid trades")
    lines.extend(footnotes)
    return "\n".join(lines)


_FIRST_VERSION_OPTIONS = frozenset(
    {"agent_ids", "lookback_trades", "risk_free_rate", "min_floor_weight", "enforce_performance"}
)
