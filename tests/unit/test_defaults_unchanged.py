"""With no engine v2 option set, every weight, statistic, status, reason and warning is the first
version's, to the digit: the engine runs beside a frozen copy of the first version's
(tests/unit/golden, from commit bb3222c) on generated journals and configs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from maestro.config import MaestroConfig
from maestro.journal import JournalEntry
from maestro.weighting import compute_weights

from .golden.weighting import compute_weights as first_version
from .helpers import T0

AGENTS = ("A", "B", "C", "D", "E")
PNLS = ["12.5", "-3.1", "8", "0", "-0.004", "1e-3", "250", "-99.5", "x", None, "NaN", "7.25"]
QUANTITIES = ["1", "2", "-3", "0.5", "0", "1e2"]


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[JournalEntry], MaestroConfig]:
    agent_count = draw(st.integers(1, len(AGENTS)))
    entries = []
    for index in range(draw(st.integers(0, 60))):
        data: dict[str, Any] = {
            "agent_id": draw(st.sampled_from([*AGENTS[:agent_count], "Other"])),
            "closed_at": T0 + dt.timedelta(minutes=draw(st.integers(0, 40))),
            "realized_pnl": draw(st.sampled_from(PNLS)),
            "entry_price": draw(st.sampled_from(["100", "37.5", "0.01", "-1"])),
            "quantity": draw(st.sampled_from(QUANTITIES)),
        }
        if draw(st.integers(0, 12)) == 0:
            data["closed_at"] = draw(st.sampled_from(["2026-11-02", 5, None]))
        entries.append(JournalEntry(f"t{index:03d}", data))
    floor = draw(st.sampled_from(["0", "0.01", "0.05", "0.1", "0.2"]))
    if Decimal(floor) * agent_count > 1:
        floor = "0"
    config = MaestroConfig(
        agent_ids=AGENTS[:agent_count],
        lookback_trades=draw(st.integers(2, 20)),
        risk_free_rate=Decimal(draw(st.sampled_from(["0", "0.04", "-0.3", "0.9"]))),
        min_floor_weight=Decimal(floor),
        enforce_performance=draw(st.booleans()),
    )
    return entries, config


@settings(max_examples=600, deadline=None)
@given(cases())
def test_the_first_versions_output_to_the_digit(
    case: tuple[list[JournalEntry], MaestroConfig],
) -> None:
    entries, config = case
    assert config.uses_defaults
    now = compute_weights(entries, config).to_json_dict()
    before = first_version(entries, config).to_json_dict()  # type: ignore[arg-type]
    assert now["weights"] == before["weights"]
    assert now["config"] == before["config"] and now["warnings"] == before["warnings"]
    for agent, detail in before["agents"].items():
        assert {key: now["agents"][agent][key] for key in detail} == detail, agent
    assert list(now["agents"][AGENTS[0]])[: len(before["agents"][AGENTS[0]])] == list(
        before["agents"][AGENTS[0]]
    )  # the first version's keys, first and in their order
