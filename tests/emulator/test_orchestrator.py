"""The seed's usage of MaestroOrchestrator, reading a real journal from the Firestore emulator."""

from __future__ import annotations

from decimal import Decimal

import pytest

from maestro.config import MaestroConfig
from strategies.base import BaseStrategy, SignalType
from strategies.maestro_orchestrator import MaestroOrchestrator

from .harness import Suite, trade


def test_the_seeds_usage_works_as_written(suite: Suite) -> None:
    uid = "orchestrated-user"
    suite.background_triggers(False)
    try:
        for i, pnl in enumerate(["5", "-1", "7", "2"]):
            suite.journal(uid).document(f"w{i}").set(trade("WhaleFlowAgent", i, pnl))
        for i, pnl in enumerate(["-4", "1", "-6"]):
            suite.journal(uid).document(f"g{i}").set(trade("GammaScalper", 10 + i, pnl))
        suite.journal(uid).document("open").set(trade("SentimentAgent", 20, "0", closed=False))
    finally:
        suite.background_triggers(True)

    orchestrator = MaestroOrchestrator(config={"lookback_trades": 50}, db=suite.db)
    assert isinstance(orchestrator, BaseStrategy)
    orchestrator.initialize()
    weights = orchestrator.calculate_agent_weights(uid)
    assert all(isinstance(w, Decimal) for w in weights.values())
    assert {a: str(w) for a, w in weights.items()} == suite.offline_weights(
        uid, MaestroConfig(lookback_trades=50)
    )
    assert sum(weights.values()) == 1

    signal = orchestrator.evaluate(
        {"SPY": {"price": "601.12"}}, {"user_id": uid, "equity": "25000.00"}
    )
    assert signal.signal_type is SignalType.REBALANCE
    assert signal.metadata["weights"] == weights
    allocations = signal.metadata["allocations"]
    assert sum(allocations.values()) == Decimal("25000.00")
    assert allocations["WhaleFlowAgent"] == Decimal("25000.00") * weights["WhaleFlowAgent"]
    assert "exposure" not in signal.metadata
    orchestrator.shutdown()

    # Engine v2's options go through the same config; with a volatility target the capital put
    # to work is equity x exposure (one day of record: no variance, so max_exposure).
    options = {"lookback_trades": 50, "score": "sortino", "target_volatility": "0.1"}
    targeted = MaestroOrchestrator(config={**options, "max_exposure": "0.5"}, db=suite.db)
    signal = targeted.evaluate({}, {"user_id": uid, "equity": "25000.00"})
    offline = suite.offline_weights(
        uid, MaestroConfig.from_mapping({**options, "max_exposure": "0.5"})
    )
    assert {a: str(w) for a, w in signal.metadata["weights"].items()} == offline
    assert signal.metadata["exposure"] == Decimal("0.5")
    assert sum(signal.metadata["allocations"].values()) == Decimal("12500.00")


def test_the_orchestrator_refuses_bad_input(suite: Suite) -> None:
    orchestrator = MaestroOrchestrator(db=suite.db)
    with pytest.raises(ValueError, match="user_id"):
        orchestrator.evaluate({}, {})
    with pytest.raises(ValueError, match="lookback_trades"):
        MaestroOrchestrator(config={"lookback_trades": 0}, db=suite.db)
