"""Builders for journal entries in unit tests (no Firebase)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from maestro.cli import main
from maestro.journal import JournalEntry

T0 = dt.datetime(2026, 11, 2, 14, 30, tzinfo=dt.UTC)


def closed(
    agent: str,
    minute: int,
    pnl: str | float | None,
    price: str | float | None = "100",
    quantity: str | float | None = "1",
    **extra: Any,
) -> JournalEntry:
    """A trade of `agent` closed `minute` minutes after T0 (larger = more recent)."""
    data: dict[str, Any] = {
        "agent_id": agent,
        "closed_at": T0 + dt.timedelta(minutes=minute),
        "realized_pnl": pnl,
        "entry_price": price,
        "quantity": quantity,
        **extra,
    }
    return JournalEntry(trade_id=f"{agent}-{minute}", data=data)


def with_returns(agent: str, returns_pct: list[str], start_minute: int = 0) -> list[JournalEntry]:
    """Trades whose returns are exactly `returns_pct` (capital 100, so pnl = return)."""
    return [
        closed(agent, start_minute + i, str(Decimal(value))) for i, value in enumerate(returns_pct)
    ]


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, list[str]]:
    """The CLI's exit status (argparse's usage errors included), stdout, and stderr's lines."""
    with pytest.raises(SystemExit) as stopped:
        raise SystemExit(main(args))
    captured = capsys.readouterr()
    return int(stopped.value.code or 0), captured.out, captured.err.splitlines()
