"""The scores and what they rest on, on methods.md's worked inputs: moments (equal and
half-life weights), Sharpe, Sortino (empyrical), PSR and MinTRL (mlfinlab, population moments
here), drawdowns, Kelly. Oracles: numpy/scipy on the same numbers."""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np
from scipy import stats

from maestro.methods import Fallback
from maestro.methods.drawdown import drawdowns
from maestro.methods.kelly import kelly_fraction
from maestro.methods.moments import moments
from maestro.methods.psr import minimum_track_record, probabilistic_sharpe, psr_score
from maestro.methods.returns import TradeTrack, half_life_weights
from maestro.methods.score import ScoreInputs, sharpe_score
from maestro.methods.sharpe import AgentStatus, agent_statistics
from maestro.methods.sortino import sortino_score
from maestro.precision import ENGINE_CONTEXT

from .helpers import A_PCT_NEWEST_FIRST, B_PCT_NEWEST_FIRST, A, close

ZERO = Decimal(0)


def inputs(track: TradeTrack, rf: Decimal = ZERO) -> ScoreInputs:
    stats = moments(track)
    statistics = agent_statistics(track.returns_pct, stats, rf)
    psr = (
        probabilistic_sharpe(statistics.sharpe, stats)
        if statistics.status is AgentStatus.OK
        else None
    )
    return ScoreInputs(track, stats, statistics, rf, psr)


def test_moments_with_equal_weights() -> None:
    with localcontext(ENGINE_CONTEXT):
        stats = moments(TradeTrack(A_PCT_NEWEST_FIRST))
    # mean 0.8125 %, sample sd 1.79160 %, SR 0.453506 (methods.md)
    assert close(stats.mean, 0.8125) and close(stats.variance.sqrt(), 1.79160, 5)  # type: ignore[union-attr]
    assert stats.n == 8 and stats.n_eff == 8
    # population skewness and (non-excess) kurtosis: scipy with bias=True
    assert close(stats.skewness, stats_skew := stats_oracle()[0], 12)  # type: ignore[arg-type]
    assert close(stats.kurtosis, stats_oracle()[1], 12)  # type: ignore[arg-type]
    assert stats_skew != 0


def stats_oracle() -> tuple[float, float]:
    return float(stats.skew(A, bias=True)), float(stats.kurtosis(A, fisher=False, bias=True))


def test_moments_with_a_half_life_are_skfolios() -> None:
    with localcontext(ENGINE_CONTEXT):
        track = TradeTrack(A_PCT_NEWEST_FIRST, half_life_weights(8, 4))
        stats = moments(track)
        sharpe = agent_statistics(track.returns_pct, stats, ZERO).sharpe
    # h = 4: mean 0.0092951, n_eff 6.942256, unbiased variance 2.93924e-4, SR 0.542173
    assert close(stats.mean / 100, 0.0092951, 7)
    assert close(stats.n_eff, 6.942256)
    assert close(stats.variance / 10_000, 2.93924e-4, 9)  # type: ignore[operator]
    assert close(sharpe, 0.542173)


def test_weighted_m3_and_m4_are_the_loop_written_out() -> None:
    # moments.py sums them by map(): the same operations in the same order as this loop.
    weights = half_life_weights(8, 4)
    with localcontext(ENGINE_CONTEXT):
        stats = moments(TradeTrack(A_PCT_NEWEST_FIRST, weights))
        s3 = s4 = ZERO
        for weight, value in zip(weights, A_PCT_NEWEST_FIRST, strict=True):
            deviation = value - stats.mean
            square = deviation * deviation
            s3 += weight * square * deviation
            s4 += weight * square * square
        assert (repr(stats.m3), repr(stats.m4)) == (repr(s3), repr(s4))


def test_sharpe_and_sortino_on_input_a() -> None:
    with localcontext(ENGINE_CONTEXT):
        given = inputs(TradeTrack(A_PCT_NEWEST_FIRST))
        sharpe, sortino = sharpe_score(given), sortino_score(given)
    assert close(sharpe.value, 0.453506)
    # empyrical sortino_ratio(required_return=0): DD = sqrt(mean(min(r, 0)^2)) over all 8
    assert close(sortino.value, 1.002972)
    downside = math.sqrt(np.mean(np.minimum(A, 0) ** 2)) * 100
    assert close(sortino.deviation, downside, 12) and sortino.fallbacks == ()


def test_sortino_without_a_loss_falls_back_to_the_sharpe() -> None:
    with localcontext(ENGINE_CONTEXT):
        given = inputs(TradeTrack((Decimal(3), Decimal(1), Decimal(2))), rf=Decimal("0.5"))
        outcome = sortino_score(given)
    assert outcome.fallbacks == (Fallback.SORTINO_NO_DOWNSIDE,)
    assert outcome.value == given.statistics.sharpe  # (2 - 0.5) / 1 = 1.5
    assert outcome.value == Decimal("1.5")


def test_psr_and_mintrl_use_population_moments() -> None:
    with localcontext(ENGINE_CONTEXT):
        given = inputs(TradeTrack(A_PCT_NEWEST_FIRST))
        z = Decimal("1.644853626951472714863848908")  # Phi^-1(0.95)
        min_trl = minimum_track_record(given.statistics.sharpe, given.moments, z)
    sr = A.mean() / A.std(ddof=1)
    g3, g4 = stats_oracle()
    term = 1 - g3 * sr + (g4 - 1) / 4 * sr**2
    expected = stats.norm.cdf(sr * math.sqrt(7) / math.sqrt(term))
    assert close(given.psr, expected, 12)  # type: ignore[arg-type]
    # methods.md pins 0.859726 (and MinTRL 17.264) with pandas' bias-corrected moments; this
    # engine's PSR uses the population moments (g3 -0.350115, g4 1.735986), which give:
    assert close(given.psr, 0.863650, 6)  # type: ignore[arg-type]
    assert close(min_trl, 16.741472, 6)  # type: ignore[arg-type]
    assert close(min_trl, 1 + term * (stats.norm.ppf(0.95) / sr) ** 2, 10)  # type: ignore[arg-type]
    assert psr_score(given).value == given.psr


def test_psr_is_undefined_below_three_trades() -> None:
    with localcontext(ENGINE_CONTEXT):
        given = inputs(TradeTrack((Decimal(1), Decimal(2))))
        outcome = psr_score(given)
    assert given.psr is None
    assert (outcome.value, outcome.status) == (0, AgentStatus.PSR_UNDEFINED)
    assert outcome.fallbacks == (Fallback.PSR_UNDEFINED,)


def test_drawdowns_count_a_first_loss() -> None:
    with localcontext(ENGINE_CONTEXT):
        # B: 10, -5, -8, 12, -3, -6, 20 %: the curve 0, 10, 5, -3, 9, 6, 0, 20; the fall from 10
        # to -3 is 13 points (Riskfolio's abs DD 0.13), and it ends at its peak.
        falls = drawdowns(B_PCT_NEWEST_FIRST)
        first_loss = drawdowns((Decimal(2), Decimal(-1), Decimal(-5)))  # oldest -5 first
    assert (falls.maximum, falls.current) == (13, 0)
    assert (first_loss.maximum, first_loss.current) == (6, 4)  # 0 -> -5 -> -6 -> -4


def test_kelly_is_mean_over_variance_scaled() -> None:
    with localcontext(ENGINE_CONTEXT):
        stats = moments(TradeTrack(A_PCT_NEWEST_FIRST))
        full = kelly_fraction(stats.mean, stats.variance, ZERO, Decimal(1))
        half = kelly_fraction(stats.mean, stats.variance, ZERO, Decimal("0.5"))
        assert half == full / 2  # type: ignore[operator]
    assert close(full, 25.31, 2)  # type: ignore[arg-type]  # mu / sigma^2 (methods.md)
    assert kelly_fraction(Decimal(1), None, ZERO, Decimal(1)) is None
    assert kelly_fraction(Decimal(1), ZERO, ZERO, Decimal(1)) is None
