"""MaestroOrchestrator: the seed's usage, on Maestro's engine.

    from strategies.maestro_orchestrator import MaestroOrchestrator
    orchestrator = MaestroOrchestrator(config={"lookback_trades": 50})
    weights = orchestrator.calculate_agent_weights(user_id)     # Dict[str, Decimal]
    signal = orchestrator.evaluate(market_data, account_snapshot)
    signal.metadata["weights"]     # and "allocations" (cents) given an equity, "exposure" with
                                   # a target_volatility (the allocations then add up to
                                   # equity x exposure)

It reads the journal through an injected Firestore client (the real one by default) with the same
per-agent queries as the Cloud Functions, and runs the same engine. It does not write the
weights document: that is the functions' job.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from maestro import firestore_io
from maestro.allocation import allocate_capital
from maestro.config import MaestroConfig
from maestro.weighting import compute_weights

from .base import BaseStrategy, SignalType, TradingSignal

if TYPE_CHECKING:
    from google.cloud.firestore import Client

    from maestro.result import WeightsResult


_CENT = Decimal("0.01")


class MaestroOrchestrator(BaseStrategy):
    name = "MaestroOrchestrator"

    def __init__(
        self, config: Mapping[str, Any] | MaestroConfig | None = None, db: Client | None = None
    ) -> None:
        maestro_config = (
            config
            if isinstance(config, MaestroConfig)
            else MaestroConfig.from_mapping(config or {})
        )
        super().__init__(maestro_config.to_json_dict())
        self.maestro_config = maestro_config
        self._db = db
        self.last_result: WeightsResult | None = None

    @property
    def db(self) -> Client:
        if self._db is None:
            self._db = firestore_io.get_client()
        return self._db

    def calculate_agent_weights(self, user_id: str) -> dict[str, Decimal]:
        if not isinstance(user_id, str) or not user_id:
            raise ValueError("user_id: must be a non-empty string")
        config = self.maestro_config
        entries = firestore_io.read_agent_journals(
            self.db, user_id, config.agent_ids, config.lookback_trades
        )
        self.last_result = compute_weights(entries, config)
        return dict(self.last_result.weights)

    def evaluate(
        self, market_data: Mapping[str, Any], account_snapshot: Mapping[str, Any]
    ) -> TradingSignal:
        """A REBALANCE signal carrying the weights (and, given the account's equity, the amounts
        per agent in cents that add up to it)."""
        user_id = account_snapshot.get("user_id")
        if not isinstance(user_id, str) or not user_id:
            raise ValueError("account_snapshot['user_id']: must be a non-empty string")
        weights = self.calculate_agent_weights(user_id)
        assert self.last_result is not None
        exposure = self.last_result.exposure
        metadata: dict[str, Any] = {"weights": weights}
        if exposure is not None:
            metadata["exposure"] = exposure
        equity = account_snapshot.get("equity")
        if equity is not None:
            try:
                total = Decimal(str(equity)).quantize(_CENT)
            except InvalidOperation:
                raise ValueError("account_snapshot['equity']: must be a decimal amount") from None
            # With a target_volatility, the capital put to work is equity x exposure.
            if exposure is not None:
                total = (total * exposure).quantize(_CENT, rounding=ROUND_DOWN)
            metadata["allocations"] = allocate_capital(total, weights)
        metadata["warnings"] = list(self.last_result.warnings)
        top = max(weights, key=lambda agent: (weights[agent], agent))
        return TradingSignal(
            signal_type=SignalType.REBALANCE,
            confidence=weights[top],
            reasoning=(
                f"Maestro weights from the last {self.maestro_config.lookback_trades} trades"
                f" per agent; largest: {top} at {weights[top] * 100:.2f}%"
            ),
            metadata=metadata,
        )
