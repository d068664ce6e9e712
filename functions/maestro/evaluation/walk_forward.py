"""The evaluation as a whole: journal entries and policies -> each policy's figures over the
scoring period, and the deflated Sharpe ratio of the best.

Scoring period: returns count from the day after the first date by whose end every configured
agent has a valid closed trade (before that, an agent with no history would hold idle capital
and distort the comparison), or from `start`; rebalances run from the calendar's first date
either way."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext

from ..journal import JournalEntry
from ..methods import ReturnBasis
from ..precision import ENGINE_CONTEXT
from .calendar import Calendar, build_calendar, dated_trades
from .metrics import Deflated, Figures, deflated_sharpe, figures
from .policies import Policy
from .replay import IncrementalTargets, PolicyReplay, Targets, rebalance_indexes, replay

MAX_REBALANCE_DAYS = 365


class EvaluationError(ValueError):
    """The evaluation cannot run on this input; the message names the problem."""


@dataclass(frozen=True, slots=True)
class Evaluation:
    calendar: Calendar
    start: int  # the first scored date's index in the calendar
    every_days: int
    replays: dict[str, PolicyReplay]
    figures: dict[str, Figures]
    deflated: Deflated | None


def evaluate(
    entries: Iterable[JournalEntry],
    policies: Sequence[Policy],
    *,
    every_days: int = 1,
    start: dt.date | None = None,
    basis: ReturnBasis = ReturnBasis.NOTIONAL,
    risk_free_rate: Decimal = Decimal("0.04"),
    targets: Targets | None = None,
    progress: Callable[[int], Callable[[int], object]] | None = None,
) -> Evaluation:
    """`targets`: how target weights are worked out (the incremental replay by default).
    `progress(total)`: a progress bar for `total` rebalance dates, which returns its update
    function."""
    if not 1 <= every_days <= MAX_REBALANCE_DAYS:
        raise EvaluationError(
            f"rebalance-days: must be from 1 to {MAX_REBALANCE_DAYS}, got {every_days}"
        )
    agents = _agents(policies)
    with localcontext(ENGINE_CONTEXT):
        trades = dated_trades(entries, agents)
        calendar = build_calendar(trades, basis)
        if calendar is None:
            raise EvaluationError(
                f"journal: no valid closed trade of the configured agents ({', '.join(agents)})"
            )
        first_scored = _first_scored(calendar, start)
        update = None
        if progress is not None:
            update = progress(len(rebalance_indexes(calendar, every_days)))
        replays = replay(
            calendar, policies, every_days, targets or IncrementalTargets(calendar, trades), update
        )
        results = {
            name: figures(run, first_scored, every_days, risk_free_rate)
            for name, run in replays.items()
        }
        return Evaluation(
            calendar, first_scored, every_days, replays, results, deflated_sharpe(results)
        )


def _agents(policies: Sequence[Policy]) -> tuple[str, ...]:
    for policy in policies:
        if policy.config is not None:
            return policy.config.agent_ids
    raise EvaluationError("policies: none configures agents")


def _first_scored(calendar: Calendar, start: dt.date | None) -> int:
    dates = calendar.dates
    if start is not None:
        if start > dates[-1]:
            raise EvaluationError(
                f"start: {start} is after the journal's last valid close ({dates[-1]}):"
                " no date to score"
            )
        return max(0, (start - dates[0]).days)
    missing = [agent for agent, day in calendar.first_valid.items() if day is None]
    if missing:
        raise EvaluationError(
            f"journal: no valid closed trade of {', '.join(missing)}, so no date by whose end"
            " every configured agent has one; pass --start"
        )
    ready = max(day for day in calendar.first_valid.values() if day is not None)
    index = (ready - dates[0]).days + 1
    if index >= len(dates):
        raise EvaluationError(
            f"journal: every configured agent has a valid closed trade only from {ready}, the"
            " last date: no date to score; pass an earlier --start"
        )
    return index
