"""Writes examples/sample_journal.json: a realistic, reproducible journal for the demo and docs.

Four agents over ~300 trades: a strong agent, a modest one, a losing one (negative Sharpe), one
with a single closed trade; plus open trades, a foreign agent and malformed rows that the engine
must reject and count. Amounts are decimal strings, as in the Firestore schema.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "examples" / "sample_journal.json"
START = dt.datetime(2026, 9, 1, 13, 30, tzinfo=dt.UTC)
SYMBOLS = ("SPY", "QQQ", "NVDA", "AAPL", "TSLA", "XLE", "XLF", "IWM")


def trade(
    rng: random.Random, number: int, agent: str, pnl_cents: tuple[int, int]
) -> dict[str, object]:
    price = Decimal(rng.randint(2_000, 90_000)) / 100
    quantity = rng.randint(1, 60) * rng.choice((1, 1, 1, -1))  # some shorts
    pnl = Decimal(rng.randint(*pnl_cents)) / 100
    opened = START + dt.timedelta(minutes=37 * number)
    return {
        "trade_id": f"t{number:04d}",
        "agent_id": agent,
        "symbol": rng.choice(SYMBOLS),
        "side": "long" if quantity > 0 else "short",
        "entry_price": str(price),
        "exit_price": str(price + pnl / abs(quantity)),
        "quantity": str(quantity),
        "realized_pnl": str(pnl),
        "opened_at": opened.isoformat(),
        "closed_at": (opened + dt.timedelta(minutes=rng.randint(5, 400))).isoformat(),
    }


def main() -> None:
    rng = random.Random(20261124)
    rows: list[dict[str, object]] = []
    plan = [
        ("WhaleFlowAgent", 130, (-9_000, 16_000)),
        ("SentimentAgent", 110, (-4_000, 10_000)),
        ("GammaScalper", 90, (-14_000, 7_000)),
    ]
    number = 0
    for agent, count, pnl_range in plan:
        for _ in range(count):
            number += 1
            rows.append(trade(rng, number, agent, pnl_range))
    number += 1
    rows.append(trade(rng, number, "SectorRotation", (2_000, 6_000)))  # a single closed trade
    for agent in ("WhaleFlowAgent", "SentimentAgent", "SectorRotation"):  # open positions
        number += 1
        open_trade = trade(rng, number, agent, (0, 0))
        open_trade.update(closed_at=None, realized_pnl=None, exit_price=None)
        rows.append(open_trade)
    for _ in range(5):  # an agent the config does not know
        number += 1
        rows.append(trade(rng, number, "MomentumAgentV0", (-500, 900)))
    malformed = [
        {"realized_pnl": "NaN"},
        {"realized_pnl": "Infinity"},
        {"entry_price": None},
        {"quantity": "0"},
        {"realized_pnl": ""},
        {"entry_price": True},
        {"entry_price": "-12.50"},
    ]
    for agent, damage in zip(
        (
            "WhaleFlowAgent",
            "GammaScalper",
            "SentimentAgent",
            "WhaleFlowAgent",
            "GammaScalper",
            "SentimentAgent",
            "WhaleFlowAgent",
        ),
        malformed,
        strict=True,
    ):
        number += 1
        bad = trade(rng, number, agent, (-1_000, 1_000))
        bad.update(damage)
        rows.append(bad)
    rng.shuffle(rows)  # journals are not sorted; the engine orders by closed_at
    OUT.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} trades to {OUT}")


if __name__ == "__main__":
    main()
