"""The engine, in exact Decimal: select trades -> track records -> score -> who performs ->
allocate -> floor and cap -> round -> result. Each method lives in maestro/methods/ (one
module each, beside its test); this module runs them in order and keeps the rules that
connect them. With no engine v2 option set, every weight and statistic is the first version's
to the digit (tests/unit/test_defaults_unchanged.py runs a frozen copy of it beside this one).
No float is used anywhere.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, localcontext
from functools import cached_property
from typing import Final, TypeVar, overload

from .config import WEIGHT_DECIMAL_PLACES, MaestroConfig
from .journal import ClosedAtOrder, ClosedTrade, JournalEntry, Rejection, select_agent_trades
from .methods import AllocatorMethod, Fallback, ScoreMethod
from .methods.allocator import AllocationInputs, allocate_shares
from .methods.bounds import Bounded, bounded_weights
from .methods.daily import DailyRecord, DailyStatistics, daily_record, daily_statistics
from .methods.drawdown import Drawdowns, drawdowns
from .methods.exposure import target_exposure
from .methods.kelly import kelly_fraction
from .methods.moments import Moments, moments
from .methods.normal import normal_quantile
from .methods.psr import minimum_track_record, probabilistic_sharpe, psr_score
from .methods.returns import TradeTrack, trade_track
from .methods.score import Score, ScoreInputs, sharpe_score
from .methods.sharpe import AgentStatistics, AgentStatus, agent_statistics
from .methods.sortino import sortino_score
from .precision import DIAGNOSTIC_CONTEXT, ENGINE_CONTEXT, OUTPUT_CONTEXT
from .result import AgentDiagnostics, AgentResult, WeightReason, WeightsResult

# Results are rounded in OUTPUT_CONTEXT and weights quantised to WEIGHT_QUANTUM (precision.py).
WEIGHT_QUANTUM: Final = Decimal(1).scaleb(-WEIGHT_DECIMAL_PLACES)
TRADING_DAYS_PER_YEAR: Final = 252
_ZERO: Final = Decimal(0)
_V = TypeVar("_V")
_ONE: Final = Decimal(1)
_HUNDRED: Final = Decimal(100)
SCORES: Final[Mapping[ScoreMethod, Score]] = {
    ScoreMethod.SHARPE: sharpe_score,
    ScoreMethod.SORTINO: sortino_score,
    ScoreMethod.PSR: psr_score,
}


def risk_free_rate_daily_pct(risk_free_rate_annual: Decimal) -> Decimal:
    """The annual risk-free fraction as a percentage per trading day: 0.04 -> 0.04 / 252 x 100."""
    return risk_free_rate_annual / TRADING_DAYS_PER_YEAR * _HUNDRED


@dataclass(frozen=True, slots=True)
class AgentAnalysis:
    """One agent through the methods: its Sharpe statistics and status, the score (after the
    drawdown penalty), whether it performs and the fallbacks taken."""

    statistics: AgentStatistics
    status: AgentStatus
    score: Decimal
    performs: bool
    confident: bool
    fallbacks: tuple[Fallback, ...]
    trades_used: int
    rejected: Mapping[Rejection, int]


@dataclass(frozen=True, slots=True)
class _Scored:
    track: TradeTrack
    moments: Moments
    statistics: AgentStatistics
    status: AgentStatus
    score: Decimal
    psr: Decimal | None  # when the score or the confidence gate needed it (_needs_psr)
    fallbacks: tuple[Fallback, ...]
    rf_daily_pct: Decimal
    config: MaestroConfig
    falls: Drawdowns | None  # when the drawdown penalty needed them (the diagnostics do)

    def probabilistic_sharpe(self) -> Decimal | None:
        """The PSR against 0 (psr.py), worked out here when nothing before needed it. Must run
        inside ENGINE_CONTEXT."""
        if _needs_psr(self.config):
            return self.psr
        ok = self.statistics.status is AgentStatus.OK
        return probabilistic_sharpe(self.statistics.sharpe, self.moments) if ok else None


def _needs_psr(config: MaestroConfig) -> bool:
    return config.score is ScoreMethod.PSR or config.min_confidence is not None


def _track(trades: Sequence[ClosedTrade], config: MaestroConfig) -> TradeTrack:
    return trade_track(
        trades, config.return_transform, config.return_basis, config.half_life_trades
    )


def _score(track: TradeTrack, config: MaestroConfig, rf: Decimal) -> _Scored:
    """The configured score of a track record, penalised for drawdown (score' = score -
    penalty x MDD / s, s the deviation the score divides by)."""
    stats = moments(track)
    statistics = agent_statistics(track.returns_pct, stats, rf)
    ok = statistics.status is AgentStatus.OK
    psr = probabilistic_sharpe(statistics.sharpe, stats) if ok and _needs_psr(config) else None
    outcome = SCORES[config.score](ScoreInputs(track, stats, statistics, rf, psr))
    score, falls = outcome.value, None
    if config.drawdown_penalty and outcome.deviation > 0:
        falls = drawdowns(track.returns_pct)
        score -= config.drawdown_penalty * falls.maximum / outcome.deviation
    status = outcome.status or statistics.status
    fallbacks = outcome.fallbacks
    return _Scored(track, stats, statistics, status, score, psr, fallbacks, rf, config, falls)


def analyse(scored: _Scored, config: MaestroConfig) -> AgentAnalysis:
    """Whether an agent performs, on its score (_score). Must run inside ENGINE_CONTEXT."""
    statistics = scored.statistics
    confident = config.min_confidence is None or (
        scored.psr is not None and scored.psr >= config.min_confidence
    )
    return AgentAnalysis(
        statistics=statistics,
        status=scored.status,
        score=scored.score,
        performs=scored.status is AgentStatus.OK and statistics.sharpe > 0 and confident,
        confident=confident,
        fallbacks=scored.fallbacks,
        trades_used=scored.moments.n,
        rejected=scored.track.rejected,
    )


def diagnose(work: AgentWork) -> AgentDiagnostics:
    """What else the engine knows of one agent's track record (result.AgentDiagnostics).
    They describe, they do not allocate: rounded to 12 digits, and worked out only when read
    (the CLI's table never reads them; a weights document always does)."""
    scored, config = work.scored, work.config
    track, stats, statistics = scored.track, scored.moments, scored.statistics
    with localcontext(ENGINE_CONTEXT):
        ok = statistics.status is AgentStatus.OK
        z = work.z
        min_trl = None
        if z is not None and ok:
            min_trl = minimum_track_record(statistics.sharpe, stats, z)
        falls = drawdowns(track.returns_pct) if scored.falls is None else scored.falls
        daily = work.daily
        return AgentDiagnostics(
            n=stats.n,
            n_eff=_described(stats.n_eff),
            skewness=_described(stats.skewness),
            kurtosis=_described(stats.kurtosis),
            psr=_described(scored.probabilistic_sharpe()),
            min_trl=_described(min_trl),
            max_drawdown=_described(falls.maximum),
            current_drawdown=_described(falls.current),
            kelly_fraction=_described(
                kelly_fraction(stats.mean, stats.variance, scored.rf_daily_pct, config.kelly_scale)
            ),
            analysis={
                lookback: _described(
                    _score(
                        track.newest(lookback, config.half_life_trades), config, scored.rf_daily_pct
                    ).score
                )
                for lookback in config.analysis_lookbacks
            },
            days=daily.days,
            daily_volatility=_described(daily.volatility_pct),
            daily_sharpe=_described(daily.sharpe_annualised),
        )


def quantize_weights(
    exact: Mapping[str, Decimal],
    target_total: Decimal,
    adjustable: Iterable[str],
    scores: Mapping[str, Decimal],
) -> dict[str, Decimal]:
    """Round to WEIGHT_QUANTUM so that the weights add up to `target_total` exactly.

    Largest remainder method: round every weight down, then hand the missing quanta one by one to
    the adjustable agents with the largest remainders (ties: larger weight, higher score, then
    agent id). This keeps the order of the weights, so a higher score still never gets a lower
    weight (even in the equal split), and leaves exact weights (floors, caps) untouched."""
    floored = {
        agent: value.quantize(WEIGHT_QUANTUM, rounding=ROUND_DOWN) for agent, value in exact.items()
    }
    missing = int((target_total - sum(floored.values(), _ZERO)) / WEIGHT_QUANTUM)
    if missing:
        candidates = sorted(
            adjustable,
            key=lambda agent: (exact[agent] - floored[agent], exact[agent], scores[agent], agent),
            reverse=True,
        )
        if not 0 < missing <= len(candidates):
            raise ArithmeticError(f"cannot spread {missing} quanta over {len(candidates)} weights")
        for agent in candidates[:missing]:
            floored[agent] += WEIGHT_QUANTUM
    return floored


def compute_weights(
    entries: Iterable[JournalEntry],
    config: MaestroConfig,
    order: ClosedAtOrder = ClosedAtOrder.FIRESTORE,
) -> WeightsResult:
    """The whole engine: journal entries -> WeightsResult (the README's semantics). `order`:
    how the entries' source orders closed_at (a journal file: TIMESTAMPS_ONLY)."""
    selected = select_agent_trades(entries, config.agent_ids, config.lookback_trades, order)
    return weights_from_trades(selected, config)


@dataclass(frozen=True, slots=True)
class _Allocation:
    exact: dict[str, Decimal]
    target: Decimal
    adjustable: list[str]
    reasons: dict[str, WeightReason]
    warnings: list[str]
    method: AllocatorMethod = AllocatorMethod.SOFTMAX  # the allocator that ran
    fallbacks: tuple[Fallback, ...] = ()  # the allocators' fallbacks, for the performers


def _allocate(
    analyses: Mapping[str, AgentAnalysis], daily: _Daily, config: MaestroConfig
) -> _Allocation:
    """Weights (P = performing agents, floor = min_floor_weight):
    - enforce_performance False: every agent outside P gets exactly floor; P shares
      1 - floor x (agents outside P) by softmax, each between the floor and max_weight
      (bounds.py); what P cannot take at max_weight goes equally to the agents outside P.
    - enforce_performance True: agents outside P get 0; P shares 1 the same way, and what it
      cannot take at max_weight stays unallocated, with a warning.
    - P empty: 1/N each (enforce False), or 0 each with a warning (enforce True)."""
    agents = config.agent_ids
    performing = {agent: analyses[agent].score for agent in agents if analyses[agent].performs}
    outsiders = [agent for agent in agents if agent not in performing]
    enforce, floor = config.enforce_performance, config.min_floor_weight
    if not performing:
        if enforce:
            warning = (
                "no agent is performing (status ok and Sharpe > 0) and enforce_performance "
                "is on: every weight is 0, nothing is allocated"
            )
            reason = WeightReason.NONE_PERFORMING_ZERO
            return _Allocation(dict.fromkeys(agents, _ZERO), _ZERO, list(agents),
                               dict.fromkeys(agents, reason), [warning])  # fmt: skip
        reason = WeightReason.NONE_PERFORMING_EQUAL
        equal = dict.fromkeys(agents, _ONE / len(agents))
        return _Allocation(equal, _ONE, list(agents), dict.fromkeys(agents, reason), [])
    outsider_weight = _ZERO if enforce else floor
    budget = _ONE - outsider_weight * len(outsiders)
    inputs = AllocationInputs(
        tuple(performing), performing, config.temperature, daily.records, daily.statistics
    )
    shares = allocate_shares(config.allocator, inputs)
    bounded = bounded_weights(
        shares.shares, budget, outsider_weight, config.max_weight, shares.log_shares
    )
    exact = dict.fromkeys(outsiders, outsider_weight) | bounded.weights
    reasons = _reasons(analyses, outsiders, bounded, enforce)
    adjustable = [a for a in performing if a not in bounded.floored | bounded.capped]
    allocation = _Allocation(exact, _ONE, adjustable, reasons, [], shares.method, shares.fallbacks)
    return _place_left_over(allocation, bounded, outsiders, enforce)


def _reasons(
    analyses: Mapping[str, AgentAnalysis], outsiders: list[str], bounded: Bounded, enforce: bool
) -> dict[str, WeightReason]:
    reasons: dict[str, WeightReason] = {}
    for agent in outsiders:
        confident = analyses[agent].confident
        if enforce:
            reasons[agent] = (
                WeightReason.NOT_PERFORMING_ZERO if confident else WeightReason.NOT_CONFIDENT_ZERO
            )
        else:
            reasons[agent] = (
                WeightReason.NOT_PERFORMING_FLOOR if confident else WeightReason.NOT_CONFIDENT_FLOOR
            )
    for agent in bounded.weights:
        if agent in bounded.capped:
            reasons[agent] = WeightReason.CAPPED
        elif agent in bounded.floored:
            reasons[agent] = WeightReason.RAISED_TO_FLOOR
        else:
            reasons[agent] = WeightReason.SOFTMAX
    return reasons


def _place_left_over(
    allocation: _Allocation, bounded: Bounded, outsiders: list[str], enforce: bool
) -> _Allocation:
    """What the performers could not take at max_weight: equally to the agents outside them,
    or (enforce_performance, or none outside) unallocated with a warning."""
    left_over = bounded.left_over
    if not left_over:
        return allocation
    if not enforce and outsiders:
        part = left_over / len(outsiders)
        for agent in outsiders:
            allocation.exact[agent] += part
            allocation.reasons[agent] = WeightReason.NOT_PERFORMING_LEFT_OVER
        allocation.adjustable.extend(outsiders)
        return allocation
    warning = (
        f"every performing agent is at max_weight and together they take "
        f"{_normalized(_ONE - left_over)}: the rest, {_normalized(left_over)}, is not allocated"
    )
    return dataclasses.replace(
        allocation, target=_ONE - left_over, warnings=[*allocation.warnings, warning]
    )


@dataclass(frozen=True, slots=True)
class _Daily:
    records: Mapping[str, DailyRecord]
    statistics: Mapping[str, DailyStatistics]


@dataclass(frozen=True)
class AgentWork:
    """What the engine worked out for one agent, kept so that a later run given the very same
    trades (the same tuple: a warm instance's unchanged window) under the same config, and the
    same as-of day, reuses it instead of working it out again. The daily record and the
    diagnostics are worked out when first read: only some allocators, the exposure and the
    diagnostics read them."""

    trades: Sequence[ClosedTrade]
    config: MaestroConfig
    z: Decimal | None  # Phi^-1(min_confidence), when set
    scored: _Scored
    newest_day: dt.date | None
    as_of: dt.date | None
    analysis: AgentAnalysis

    @cached_property
    def record(self) -> DailyRecord:
        with localcontext(ENGINE_CONTEXT):
            return daily_record(self.scored.track, self.as_of)

    @cached_property
    def daily(self) -> DailyStatistics:
        with localcontext(ENGINE_CONTEXT):
            return daily_statistics(self.record, self.config.risk_free_rate)

    @cached_property
    def diagnostics(self) -> AgentDiagnostics:
        return diagnose(self)

    def diagnose(self) -> AgentDiagnostics:
        return self.diagnostics


class _OnDemand(Mapping[str, _V]):
    """A read-only mapping over the agents whose values are worked out when first asked for."""

    def __init__(self, keys: Sequence[str], value: Callable[[str], _V]) -> None:
        self._keys, self._value = keys, value

    def __getitem__(self, key: str) -> _V:
        if key not in self._keys:
            raise KeyError(key)
        return self._value(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def weights_from_trades(
    trades: Mapping[str, Sequence[ClosedTrade]], config: MaestroConfig
) -> WeightsResult:
    """The engine from each agent's selected trades (newest first) on: what compute_weights does
    after the selection. The rolling windows of Cloud Functions runs hold exactly that
    selection."""
    return run_engine(trades, config)[0]


def run_engine(
    trades: Mapping[str, Sequence[ClosedTrade]],
    config: MaestroConfig,
    known: Mapping[str, AgentWork] | None = None,
) -> tuple[WeightsResult, dict[str, AgentWork]]:
    """weights_from_trades, reusing `known` work where it applies (AgentWork), and returning
    this run's work for the next one. Pure: the same inputs give the same result, with or
    without `known`."""
    agents, known = config.agent_ids, known or {}
    with localcontext(ENGINE_CONTEXT):
        rf = risk_free_rate_daily_pct(config.risk_free_rate)
        z = normal_quantile(config.min_confidence) if config.min_confidence else None
        reusable = {
            agent: earlier
            for agent in agents
            if (earlier := known.get(agent)) is not None
            and earlier.trades is trades[agent]
            and earlier.config == config
        }
        scored, newest = {}, {}
        for agent in agents:
            if agent in reusable:
                scored[agent], newest[agent] = reusable[agent].scored, reusable[agent].newest_day
            else:
                scored[agent] = _score(_track(trades[agent], config), config, rf)
                newest[agent] = scored[agent].track.newest_day
        as_of = max((day for day in newest.values() if day is not None), default=None)
        work = {
            agent: reusable[agent]
            if agent in reusable and reusable[agent].as_of == as_of
            else AgentWork(
                trades[agent],
                config,
                z,
                scored[agent],
                newest[agent],
                as_of,
                analyse(scored[agent], config),
            )
            for agent in agents
        }
        result = _result(work, config)
    return result, work


def _result(work: Mapping[str, AgentWork], config: MaestroConfig) -> WeightsResult:
    agents = config.agent_ids
    analyses = {agent: work[agent].analysis for agent in agents}
    records = _OnDemand(agents, lambda agent: work[agent].record)
    statistics = _OnDemand(agents, lambda agent: work[agent].daily)
    allocation = _allocate(analyses, _Daily(records, statistics), config)
    scores = {agent: analysis.score for agent, analysis in analyses.items()}
    weights = quantize_weights(allocation.exact, allocation.target, allocation.adjustable, scores)
    exposure = _exposure(weights, records, config, allocation.warnings)
    results = {
        agent: _agent_result(agent, work[agent], weights[agent], allocation, config)
        for agent in agents
    }
    return WeightsResult(
        weights={agent: results[agent].weight for agent in agents},
        agents=results,
        config=config,
        warnings=tuple(allocation.warnings),
        exposure=exposure,
    )


def _exposure(
    weights: Mapping[str, Decimal],
    records: Mapping[str, DailyRecord],
    config: MaestroConfig,
    warnings: list[str],
) -> Decimal | None:
    """With a target_volatility, the exposure that meets it (exposure.py); a warning lists
    the agents whose daily record is too short to add variance."""
    if config.target_volatility is None:
        return None
    found = target_exposure(weights, records, config.target_volatility, config.max_exposure)
    if found.without_variance:
        warnings.append(
            "target_volatility: fewer than 2 days of record, no variance counted for "
            + ", ".join(found.without_variance)
        )
    return _rounded(found.exposure)


def _agent_result(
    agent: str,
    work: AgentWork,
    weight: Decimal,
    allocation: _Allocation,
    config: MaestroConfig,
) -> AgentResult:
    analysis = work.analysis
    statistics = analysis.statistics
    return AgentResult(
        agent_id=agent,
        weight=_normalized(weight),
        sharpe=_rounded(statistics.sharpe),
        mean_return_pct=_rounded(statistics.mean_return_pct),
        std_return_pct=_rounded(statistics.std_return_pct),
        status=analysis.status.value,
        trades_used=analysis.trades_used,
        trades_rejected=sum(analysis.rejected.values()),
        rejection_reasons=_reason_counts(analysis.rejected),
        weight_reason=allocation.reasons[agent],
        score=_rounded(analysis.score),
        score_method=config.score,
        allocator=allocation.method,
        diagnosis=work.diagnose,
        fallbacks=analysis.fallbacks + (allocation.fallbacks if analysis.performs else ()),
    )


def _rounded(value: Decimal) -> Decimal:
    return OUTPUT_CONTEXT.plus(value).normalize(OUTPUT_CONTEXT)


@overload
def _described(value: Decimal) -> Decimal: ...
@overload
def _described(value: Decimal | None) -> Decimal | None: ...
def _described(value: Decimal | None) -> Decimal | None:
    """A diagnostic, rounded to DIAGNOSTIC_DIGITS (it is written on every close: shorter is
    cheaper, and no statistic of a track record means anything to 28 digits)."""
    return None if value is None else DIAGNOSTIC_CONTEXT.plus(value).normalize(DIAGNOSTIC_CONTEXT)


def _normalized(weight: Decimal) -> Decimal:
    # Exact (at most 28 decimal places); normalize only drops trailing zeros.
    return weight.normalize(ENGINE_CONTEXT)


def _reason_counts(rejected: Mapping[Rejection, int]) -> dict[str, int]:
    return {reason.value: rejected[reason] for reason in sorted(rejected, key=lambda r: r.value)}
