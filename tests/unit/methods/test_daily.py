"""Daily records, pairwise-complete covariance, the inverse-volatility and HRP allocators (Lopez
de Prado's example, reproduced to the published digits) and the exposure for a volatility
target, against numpy/pandas-style oracles."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal, localcontext

import numpy as np

from maestro.methods import AllocatorMethod, Fallback
from maestro.methods.allocator import AllocationInputs, allocate_shares
from maestro.methods.covariance import pair_correlation, pair_covariance
from maestro.methods.daily import DailyRecord, daily_record, daily_statistics
from maestro.methods.exposure import target_exposure
from maestro.methods.hrp import bisection_weights, quasi_diagonal_order
from maestro.methods.returns import TradeTrack
from maestro.precision import ENGINE_CONTEXT

from .helpers import close

D = Decimal
DAY = dt.date(2026, 3, 2)


def test_a_daily_record_sums_each_day_and_fills_zeros_to_the_as_of_date() -> None:
    # closes on day 0 (+1, +2), day 2 (-4); as of day 4: 3, 0, -4, 0, 0
    midnight = dt.datetime.combine(DAY, dt.time(), dt.UTC)
    closes = (midnight + dt.timedelta(days=2, hours=23, minutes=59), midnight, midnight)
    track = TradeTrack((D(-4), D(2), D(1)), closes=closes)
    assert track.days == (DAY + dt.timedelta(2), DAY, DAY)
    assert track.newest_day == DAY + dt.timedelta(2)
    assert TradeTrack(()).newest_day is None
    with localcontext(ENGINE_CONTEXT):
        record = daily_record(track, DAY + dt.timedelta(4))
        statistics = daily_statistics(record, D("0.0365"))
    assert record == DailyRecord(DAY, (D(3), D(0), D(-4), D(0), D(0)))
    values = np.array([3, 0, -4, 0, 0.0])
    assert close(statistics.volatility_pct, values.std(ddof=1), 12)  # type: ignore[arg-type]
    # rf 3.65 % a year = 0.01 % a day; annualised with sqrt(365)
    expected = (values.mean() - 0.01) / values.std(ddof=1) * math.sqrt(365)
    assert close(statistics.sharpe_annualised, expected, 12)  # type: ignore[arg-type]
    assert statistics.days == 5
    assert daily_record(TradeTrack(()), DAY) == DailyRecord(None, ())


def test_pairs_use_the_days_both_are_defined() -> None:
    long = DailyRecord(DAY, (D(5), D(1), D(2), D(3), D(-1)))
    short = DailyRecord(DAY + dt.timedelta(2), (D(4), D(1), D(0)))
    with localcontext(ENGINE_CONTEXT):
        covariance = pair_covariance(long, short)
        correlation = pair_correlation(long, short)
    x, y = np.array([2, 3, -1.0]), np.array([4, 1, 0.0])  # the last 3 days of each
    assert close(covariance, np.cov(x, y)[0, 1], 12)  # type: ignore[arg-type]
    assert close(correlation, np.corrcoef(x, y)[0, 1], 12)  # type: ignore[arg-type]
    flat = DailyRecord(DAY, (D(1), D(1), D(1)))
    with localcontext(ENGINE_CONTEXT):
        assert pair_correlation(long, flat) is None


def test_a_record_keeps_its_whole_centring_and_no_shorter_one() -> None:
    # A longer record is asked for each shorter partner's days: keeping each of those grew
    # with agents^2 x days. The whole record's is kept (the same object asked again).
    record = DailyRecord(DAY, (D(5), D(1), D(2), D(3), D(-1)))
    with localcontext(ENGINE_CONTEXT):
        whole = record.centred(5)
        assert record.centred(5) is whole and whole.deviations == (3, -1, 0, 1, -3)
        assert whole.squares == 20
        newest = record.centred(3)  # 2, 3, -1 less their mean, 4/3
        assert record.centred(3) is not newest and record.centred(3) == newest
        assert newest.deviations[2] == D(-1) - D(4) / 3


VOLATILITIES = [0.10, 0.20, 0.15, 0.25, 0.12]
CORRELATIONS = [
    [1, 0.6, -0.06, 0.2, 0.04],
    [0.6, 1, 0.11, 0.18, 0.12],
    [-0.06, 0.11, 1, 0.37, -0.13],
    [0.2, 0.18, 0.37, 1, 0.18],
    [0.04, 0.12, -0.13, 0.18, 1],
]


def test_hrp_reproduces_lopez_de_prados_example() -> None:
    rho = [[D(str(value)) for value in row] for row in CORRELATIONS]
    sigma = [D(str(value)) for value in VOLATILITIES]
    with localcontext(ENGINE_CONTEXT):
        covariance = [[sigma[i] * sigma[j] * rho[i][j] for j in range(5)] for i in range(5)]
        order = quasi_diagonal_order(rho)
        weights = bisection_weights(covariance, order)
    # methods.md: LdP's order [0, 1, 4, 2, 3], weights [.339381, .084845, .167736, .060385,
    # .347652] (PyPortfolioOpt's, on d rather than d~, differ: [4, 0, 1, 2, 3]).
    assert order == [0, 1, 4, 2, 3]
    assert weights is not None
    for got, expected in zip(
        weights, [0.339381, 0.084845, 0.167736, 0.060385, 0.347652], strict=True
    ):
        assert close(got, expected)
    assert abs(sum(weights) - 1) < D("1e-45")


def test_single_linkage_ties_merge_the_earliest_agents_first() -> None:
    # Four agents, all pairwise correlations equal: every distance ties. Agents 0 and 1 merge
    # first (cluster 4: left 0, right 1). Then the pairs (cluster 4, agent 2), counted as
    # (0, 2), come before (2, 3): cluster 5 = 2 on the left (the lower number), 4 on the
    # right. Last, agent 3 (lower than 5) on the left: leaves 3, 2, 0, 1.
    rho = [[D(1) if i == j else D("0.3") for j in range(4)] for i in range(4)]
    with localcontext(ENGINE_CONTEXT):
        assert quasi_diagonal_order(rho) == [3, 2, 0, 1]


def records(*series: list[int]) -> dict[str, DailyRecord]:
    return {
        name: DailyRecord(DAY, tuple(D(v) for v in values))
        for name, values in zip("ABC", series, strict=False)
    }


def inputs(daily: dict[str, DailyRecord]) -> AllocationInputs:
    from maestro.methods.daily import daily_statistics as stats

    with localcontext(ENGINE_CONTEXT):
        statistics = {agent: stats(record, D(0)) for agent, record in daily.items()}
    scores = dict.fromkeys(daily, D(1))
    return AllocationInputs(tuple(daily), scores, D(1), daily, statistics)


def test_the_allocators_fall_back_in_order() -> None:
    rng = np.random.default_rng(5)
    long = records(*([int(v) for v in rng.integers(-5, 6, 30)] for _ in range(3)))
    short = records([1, -1, 2], [2, 0, 1], [0, 1, -2])  # 3 days: too few for hrp
    flat = records([1, 1, 1], [2, 0, 1])  # A's daily volatility is 0
    with localcontext(ENGINE_CONTEXT):
        hrp = allocate_shares(AllocatorMethod.HRP, inputs(long))
        fell_once = allocate_shares(AllocatorMethod.HRP, inputs(short))
        fell_twice = allocate_shares(AllocatorMethod.HRP, inputs(flat))
    assert hrp.method is AllocatorMethod.HRP and hrp.fallbacks == ()
    assert (fell_once.method, fell_once.fallbacks) == (
        AllocatorMethod.INVERSE_VOLATILITY,
        (Fallback.HRP_TOO_FEW_COMMON_DAYS,),
    )
    volatility = [np.std(series, ddof=1) for series in ([1, -1, 2], [2, 0, 1], [0, 1, -2])]
    shares = fell_once.shares
    assert close(shares["A"] / shares["B"], volatility[1] / volatility[0], 12)
    assert fell_twice.method is AllocatorMethod.SOFTMAX
    assert fell_twice.fallbacks == (
        Fallback.HRP_TOO_FEW_COMMON_DAYS,
        Fallback.INVERSE_VOLATILITY_UNDEFINED,
    )


def test_exposure_for_a_volatility_target() -> None:
    # methods.md's inverse-volatility portfolio: daily vols 2 %, 1 %, 4 % -> weights
    # [.285714, .571429, .142857]; here the covariance comes from the records themselves.
    rng = np.random.default_rng(11)
    series = rng.normal(0, [2, 1, 4], size=(60, 3)).round(3)
    daily = {
        a: DailyRecord(DAY, tuple(D(str(v)) for v in series[:, i])) for i, a in enumerate("ABC")
    }
    weights = {"A": D("0.3"), "B": D("0.5"), "C": D("0.2")}
    with localcontext(ENGINE_CONTEXT):
        found = target_exposure(weights, daily, D("0.1"), D(1))
        capped = target_exposure(weights, daily, D("10"), D("1.5"))
    w = np.array([0.3, 0.5, 0.2])
    sigma = math.sqrt(w @ np.cov(series.T) @ w) * math.sqrt(365) / 100
    assert close(found.portfolio_volatility, sigma, 12)
    assert close(found.exposure, min(1, 0.1 / sigma), 12)
    assert capped.exposure == D("1.5")  # the target would need more than max_exposure
    assert found.without_variance == ()
