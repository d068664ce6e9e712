"""The evaluation's table (ranked by annualised Sharpe, baselines marked) and its lossless JSON
form (every figure a decimal string, rounded to 12 significant digits: they describe; held
weights to 28), with each policy's daily series over the scoring period."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from ..config import decimal_to_str
from ..methods import ReturnBasis
from ..precision import DIAGNOSTIC_CONTEXT, OUTPUT_CONTEXT
from .metrics import Figures
from .walk_forward import Evaluation

EVIDENCE: Final = Decimal("0.95")
CAVEAT: Final = (
    "A PSR or DSR below 0.95 is not evidence that a policy is better; past journals say "
    "nothing certain of future ones."
)


def ranking(evaluation: Evaluation) -> list[str]:
    """Highest annualised Sharpe first; policies without one last, by name."""
    results = evaluation.figures
    return sorted(
        results,
        key=lambda name: (results[name].sharpe is None, -(results[name].sharpe or 0), name),
    )


def to_json_dict(
    evaluation: Evaluation, basis: ReturnBasis, risk_free_rate: Decimal
) -> dict[str, Any]:
    calendar, start = evaluation.calendar, evaluation.start
    policies: dict[str, Any] = {}
    for name in ranking(evaluation):
        run, result = evaluation.replays[name], evaluation.figures[name]
        policy = run.policy
        daily = []
        for offset, (value, equity) in enumerate(
            zip(result.daily_series, result.equity_curve, strict=True)
        ):
            day = start + offset
            number = run.earning[day]
            held = {} if number is None else run.rebalances[number].held
            daily.append(
                {
                    "date": calendar.dates[day].isoformat(),
                    "return": _described(value),
                    "equity": _described(equity),
                    "held": {agent: _weight(weight) for agent, weight in held.items()},
                }
            )
        policies[name] = {
            "baseline": policy.baseline,
            "config": None if policy.config is None else policy.config.to_json_dict(),
            "rebalance_band": _optional(policy.rebalance_band),
            "max_turnover": _optional(policy.max_turnover),
            "figures": _figures(result),
            "daily": daily,
        }
    deflated = evaluation.deflated
    return {
        "calendar": {
            "first": calendar.dates[0].isoformat(),
            "last": calendar.dates[-1].isoformat(),
            "dates": len(calendar.dates),
        },
        "scoring": {
            "start": calendar.dates[start].isoformat(),
            "end": calendar.dates[-1].isoformat(),
            "days": len(calendar.dates) - start,
        },
        "rebalance_days": evaluation.every_days,
        "return_basis": basis.value,
        "risk_free_rate": decimal_to_str(risk_free_rate),
        "ranking": ranking(evaluation),
        "deflated_sharpe": None
        if deflated is None
        else {
            "best": deflated.best,
            "trials": deflated.trials,
            "expected_max_daily_sharpe": _described(deflated.expected_max_sharpe),
            "dsr": _optional(deflated.dsr),
        },
        "policies": policies,
    }


def render_table(evaluation: Evaluation, basis: ReturnBasis, risk_free_rate: Decimal) -> str:
    calendar, start = evaluation.calendar, evaluation.start
    names = ranking(evaluation)
    labels = {
        name: name + (" *" if evaluation.replays[name].policy.baseline else "") for name in names
    }
    width = max(len("Policy"), *(len(label) for label in labels.values()))
    header = (
        f"{'Policy':<{width}}  {'Total':>9}  {'Annual':>10}  {'Sharpe':>8}  {'Sortino':>9}"
        f"  {'MaxDD':>8}  {'Calmar':>9}  {'Turnover':>8}  {'Eff. N':>6}  {'PSR':>5}"
    )
    rule = "-" * len(header)
    lines = [
        "MAESTRO WALK-FORWARD EVALUATION",
        f"scored {calendar.dates[start]} to {calendar.dates[-1]}"
        f" ({len(calendar.dates) - start} days), rebalanced every {evaluation.every_days}"
        f" day(s), returns on the {basis.value} basis, risk-free rate {risk_free_rate}",
        header,
        rule,
    ]
    for name in names:
        f = evaluation.figures[name]
        lines.append(
            f"{labels[name]:<{width}}  {_pct(f.total_return):>9}  {_pct(f.annualised_return):>10}"
            f"  {_num(f.sharpe):>8}  {_num(f.sortino):>9}  {_pct(-f.max_drawdown):>8}"
            f"  {_num(f.calmar, 2):>9}  {_pct(f.turnover):>8}  {_num(f.effective_agents, 2):>6}"
            f"  {_num(f.psr, 3):>5}"
        )
    lines += [rule, "* baseline"]
    deflated = evaluation.deflated
    if deflated is not None:
        lines.append(
            f"deflated Sharpe ratio of the best ({deflated.best}) over {deflated.trials}"
            f" policies: {_num(deflated.dsr, 3)}"
        )
    lines.append(CAVEAT)
    return "\n".join(lines)


def _figures(f: Figures) -> dict[str, Any]:
    return {
        "days": f.days,
        "total_return": _described(f.total_return),
        "annualised_return": _described(f.annualised_return),
        "sharpe": _optional(f.sharpe),
        "sortino": _optional(f.sortino),
        "max_drawdown": _described(f.max_drawdown),
        "calmar": _optional(f.calmar),
        "turnover": _optional(f.turnover),
        "effective_agents": _optional(f.effective_agents),
        "psr": _optional(f.psr),
        "daily_sharpe": _optional(f.daily_sharpe),
    }


def _described(value: Decimal) -> str:
    return decimal_to_str(DIAGNOSTIC_CONTEXT.plus(value).normalize(DIAGNOSTIC_CONTEXT))


def _optional(value: Decimal | None) -> str | None:
    return None if value is None else _described(value)


def _weight(value: Decimal) -> str:
    return decimal_to_str(OUTPUT_CONTEXT.plus(value).normalize(OUTPUT_CONTEXT))


def _pct(value: Decimal | None) -> str:
    return "-" if value is None else f"{_short(value * 100, 2)}%"


def _num(value: Decimal | None, places: int = 4) -> str:
    return "-" if value is None else _short(value, places)


def _short(value: Decimal, places: int) -> str:
    # An annualised figure over a few days can be astronomic: keep the column readable.
    return f"{value:.2e}" if abs(value) >= 100_000 else f"{value:.{places}f}"
