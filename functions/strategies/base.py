"""The small strategy interface the seed's orchestrator follows: a strategy has a lifecycle
(initialize, then evaluate per market tick, then shutdown) and answers with a TradingSignal."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any


class SignalType(StrEnum):
    BUY = "BUY"
    SELL = "SELL"
    HOLD = "HOLD"
    REBALANCE = "REBALANCE"  # a meta-strategy's answer: change the capital split, not a position


@dataclass(frozen=True)
class TradingSignal:
    signal_type: SignalType
    symbol: str | None = None
    confidence: Decimal = Decimal(0)  # 0..1
    reasoning: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


class BaseStrategy(ABC):
    """Lifecycle: initialize() once, evaluate() per tick, on_trade_closed() as trades close,
    shutdown() at the end. Subclasses implement evaluate()."""

    name: str = "BaseStrategy"

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config: dict[str, Any] = dict(config or {})
        self.initialized = False

    def initialize(self) -> None:
        self.initialized = True

    @abstractmethod
    def evaluate(
        self, market_data: Mapping[str, Any], account_snapshot: Mapping[str, Any]
    ) -> TradingSignal:
        """Decide on this tick."""

    def on_trade_closed(self, trade: Mapping[str, Any]) -> None:  # noqa: B027 - optional hook
        """Called when one of this strategy's trades closes; the default does nothing."""

    def shutdown(self) -> None:
        self.initialized = False
