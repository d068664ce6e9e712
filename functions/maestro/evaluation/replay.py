"""The replay, exactly: every `rebalance_days` days from the calendar's first date, at the end
of a date D, each policy's target weights are the engine's result on the journal as it stood
then (trades closed on or before D); the held weights follow from the target and the execution
rules (execution.py) and earn the agents' returns on each following date until the next
rebalance: R = sum over agents of h[a] x r_a / 100, the rest in cash at 0. With a
target_volatility, the target is the weights times the exposure (cash, or borrowing at 0 above
1). Must run inside ENGINE_CONTEXT.

The engine is not rerun from the journal at each rebalance: each agent's window (its last
lookback trades) is kept as the replay advances and handed to the engine as the same tuple
while it does not change, so the engine reuses that agent's work (weighting.run_engine)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final, Protocol

from ..journal import ClosedTrade
from ..weighting import AgentWork, run_engine
from .calendar import Calendar, day_of
from .execution import held_weights
from .policies import Policy

_ZERO: Final = Decimal(0)
_HUNDRED: Final = Decimal(100)


class Targets(Protocol):
    """A policy's target weights at the end of the calendar's date `index`."""

    def __call__(self, policy: Policy, index: int) -> dict[str, Decimal]: ...


@dataclass(frozen=True, slots=True)
class Rebalance:
    index: int  # the calendar date at whose end it ran
    target: dict[str, Decimal]
    held: dict[str, Decimal]


@dataclass(frozen=True, slots=True)
class PolicyReplay:
    policy: Policy
    rebalances: tuple[Rebalance, ...]
    # Per calendar date: the rebalance whose weights earn on it (None before the first earns),
    # and the return R earned, a fraction.
    earning: tuple[int | None, ...]
    returns: tuple[Decimal, ...]


def rebalance_indexes(calendar: Calendar, every_days: int) -> range:
    return range(0, len(calendar.dates), every_days)


def replay(
    calendar: Calendar,
    policies: Sequence[Policy],
    every_days: int,
    targets: Targets,
    progress: Callable[[int], object] | None = None,
) -> dict[str, PolicyReplay]:
    """Every policy through the calendar; `targets` is asked for increasing dates;
    `progress(1)` after each rebalance date (a progress bar's update)."""
    indexes = rebalance_indexes(calendar, every_days)
    rebalances: dict[str, list[Rebalance]] = {policy.name: [] for policy in policies}
    for index in indexes:
        if progress is not None:
            progress(1)
        for policy in policies:
            done = rebalances[policy.name]
            before = done[-1].held if done else None
            target = targets(policy, index)
            held = held_weights(target, before, policy.rebalance_band, policy.max_turnover)
            done.append(Rebalance(index, target, held))
    # The weights set at the end of date i earn from date i + 1 to the next rebalance's date.
    earning = tuple(
        None if day == 0 else (day - 1) // every_days for day in range(len(calendar.dates))
    )
    agents = tuple(calendar.returns_pct)
    replays = {}
    for policy in policies:
        done = rebalances[policy.name]
        returns = tuple(
            _ZERO
            if number is None
            else sum((done[number].held[a] * calendar.returns_pct[a][day] for a in agents), _ZERO)
            / _HUNDRED
            for day, number in enumerate(earning)
        )
        replays[policy.name] = PolicyReplay(policy, tuple(done), earning, returns)
    return replays


def equal_weights(agents: Sequence[str]) -> dict[str, Decimal]:
    return dict.fromkeys(agents, Decimal(1) / len(agents))


def engine_target(weights: Mapping[str, Decimal], exposure: Decimal | None) -> dict[str, Decimal]:
    if exposure is None:
        return dict(weights)
    return {agent: weight * exposure for agent, weight in weights.items()}


@dataclass
class IncrementalTargets:
    """Targets from each agent's window kept as the replay advances (see the module's doc).
    Asked for increasing indexes per policy, as replay() asks."""

    calendar: Calendar
    trades: Mapping[str, Sequence[ClosedTrade]]  # per agent, oldest first, dated
    _windows: dict[tuple[str, str], tuple[int, tuple[ClosedTrade, ...]]] = field(
        default_factory=dict
    )
    _work: dict[str, dict[str, AgentWork]] = field(default_factory=dict)
    _closed: dict[str, int] = field(default_factory=dict)  # per agent: trades closed so far

    def __call__(self, policy: Policy, index: int) -> dict[str, Decimal]:
        config = policy.config
        if config is None:
            return equal_weights(config_agents(self.calendar))
        day = self.calendar.dates[index]
        windows = {agent: self._window(policy, agent, day) for agent in config.agent_ids}
        result, work = run_engine(windows, config, self._work.get(policy.name))
        self._work[policy.name] = work
        return engine_target(result.weights, result.exposure)

    def _window(self, policy: Policy, agent: str, day: dt.date) -> tuple[ClosedTrade, ...]:
        assert policy.config is not None
        trades = self.trades[agent]
        closed = self._closed_by(agent, day)
        kept = self._windows.get((policy.name, agent))
        if kept is not None and kept[0] == closed:
            return kept[1]  # the same tuple: the engine reuses this agent's work
        lookback = policy.config.lookback_trades
        window = tuple(reversed(trades[max(0, closed - lookback) : closed]))
        self._windows[(policy.name, agent)] = (closed, window)
        return window

    def _closed_by(self, agent: str, day: dt.date) -> int:
        """How many of the agent's trades closed on or before `day` (days only advance)."""
        trades, count = self.trades[agent], self._closed.get(agent, 0)
        while count < len(trades) and day_of(trades[count]) <= day:
            count += 1
        self._closed[agent] = count
        return count


def config_agents(calendar: Calendar) -> tuple[str, ...]:
    return tuple(calendar.returns_pct)
