"""Track records: the return of each selected trade on its basis, simple or log, and the
half-life weights (skfolio's EWMu: lambda = 2^(-1/h))."""

from __future__ import annotations

from decimal import Decimal, localcontext

from maestro.journal import ClosedTrade, JournalEntry, Rejection, closed_trade
from maestro.methods import ReturnBasis, ReturnTransform
from maestro.methods.returns import (
    half_life_weights,
    log_return_of_text,
    log_return_pct,
    trade_track,
)
from maestro.precision import ENGINE_CONTEXT

from ..helpers import closed
from .helpers import close


def trades(*rows: dict[str, object]) -> list[ClosedTrade]:
    """Closed trades of agent A, newest first, each a base trade with `row` written over it."""
    built = []
    for i, row in enumerate(rows):
        trade = closed_trade(JournalEntry(f"t{i}", {**closed("A", 10 - i, "0").data, **row}))
        assert trade is not None
        built.append(trade)
    return built


def test_returns_on_the_allocated_basis_and_their_rejections() -> None:
    # 12 on 400 of allocated capital: 3 %; on the notional (20 x 5, or 100 x 1): 12 %.
    rows = [
        {"realized_pnl": "12", "entry_price": "20", "quantity": "5", "allocated_capital": "400"},
        {"realized_pnl": "12", "entry_price": "20", "quantity": "5"},
        {"realized_pnl": "12", "entry_price": "20", "quantity": "5", "allocated_capital": "-1"},
        {"realized_pnl": "12", "allocated_capital": "oops"},
    ]
    with localcontext(ENGINE_CONTEXT):
        notional = trade_track(trades(*rows))
        allocated = trade_track(trades(*rows), basis=ReturnBasis.ALLOCATED)
    assert notional.returns_pct == (Decimal(12),) * 4 and notional.rejected == {}
    assert allocated.returns_pct == (Decimal(3),)
    assert allocated.rejected == {
        Rejection.ALLOCATED_CAPITAL_MISSING: 1,
        Rejection.NON_POSITIVE_ALLOCATED_CAPITAL: 1,
        Rejection.ALLOCATED_CAPITAL_INVALID: 1,
    }


def test_log_returns_and_a_loss_of_the_whole_capital() -> None:
    with localcontext(ENGINE_CONTEXT):
        # 100 x ln(1.1) = 9.531017980432486...; ln(0.5) x 100 = -69.31471805599453...
        assert close(log_return_pct(Decimal(10)), 9.531017980432486, 12)
        assert close(log_return_pct(Decimal(-50)), -69.31471805599453, 12)
        assert log_return_pct(Decimal(-100)) is Rejection.LOSS_EXCEEDS_CAPITAL
        assert log_return_pct(Decimal(-150)) is Rejection.LOSS_EXCEEDS_CAPITAL
        track = trade_track(
            trades({"realized_pnl": "-200", "entry_price": "100", "quantity": "1"}),
            transform=ReturnTransform.LOG,
        )
    assert track.returns_pct == () and track.rejected == {Rejection.LOSS_EXCEEDS_CAPITAL: 1}


def test_half_life_weights_decay_by_half_every_h_trades() -> None:
    with localcontext(ENGINE_CONTEXT):
        weights = half_life_weights(8, 4)
    # lambda = 2^(-1/4) = 0.840896...; w_0 (newest) / w_4 = 2
    assert sum(weights) == 1 or abs(sum(weights) - 1) < Decimal("1e-48")
    assert abs(weights[0] / weights[4] - 2) < Decimal("1e-45")
    assert close(weights[1] / weights[0], 0.840896, 6)
    assert half_life_weights(0, 4) == ()


def test_the_newest_trades_alone_are_the_track_record_of_those_trades() -> None:
    """An analysis lookback slices the track record: the same as building it from the newest
    trades alone, rejected trades keeping their places, half-life weights started again."""
    rows = [
        {"realized_pnl": pnl, "entry_price": "100", "quantity": "1"}
        for pnl in ("5", "-200", "3", "oops", "-7", "2", "-150", "9")
    ]
    selected = trades(*rows)
    for half_life in (None, 3):
        with localcontext(ENGINE_CONTEXT):
            whole = trade_track(selected, ReturnTransform.LOG, half_life_trades=half_life)
            for count in range(len(selected) + 1):
                alone = trade_track(
                    selected[:count], ReturnTransform.LOG, half_life_trades=half_life
                )
                sliced = whole.newest(count, half_life)
                assert sliced.returns_pct == alone.returns_pct
                assert sliced.weights == alone.weights and sliced.days == alone.days
    assert whole.positions == (0, 2, 4, 5, 7)  # -200 and -150: whole capital lost; oops


def test_kept_log_returns_depend_on_the_value_alone() -> None:
    """They are kept by the return's text (log_return_of_text): returns equal in value but
    written with other exponents must have the very same logarithm, digits and exponent, as
    Decimal.ln gives them."""
    for texts in (["0", "0.00", "0E-30", "-0.0"], ["10", "10.0", "1E+1", "10.000000"],
                  ["-3.25", "-3.250", "-325E-2"]):  # fmt: skip
        logs = {repr(log_return_of_text(text)) for text in texts}
        with localcontext(ENGINE_CONTEXT):
            growth = 1 + Decimal(texts[0]) / 100
            expected = repr(100 * growth.ln())
        assert logs == {expected}, texts
    assert log_return_of_text("-100.0") is Rejection.LOSS_EXCEEDS_CAPITAL
