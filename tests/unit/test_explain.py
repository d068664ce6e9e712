"""Each weight's explanation: the status in plain words, the short reason for every way an
agent gets its weight, and thin evidence, on the engine's own results."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from maestro.config import MaestroConfig
from maestro.documents import reasons_of
from maestro.explain import THIN_EVIDENCE_TRADES, explain
from maestro.journal import JournalEntry
from maestro.weighting import compute_weights

T0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


def trades(agent: str, pnls: list[str]) -> list[JournalEntry]:
    return [
        JournalEntry(
            f"{agent}-{i}",
            {
                "agent_id": agent,
                "closed_at": T0 + dt.timedelta(days=i),  # a daily record for the allocators
                "realized_pnl": pnl,
                "entry_price": "100",
                "quantity": "1",
            },
        )
        for i, pnl in enumerate(pnls)
    ]


WINNER = ["3", "-1", "4", "2", "-0.5", "5", "1", "2", "3", "-2", "4", "1"]  # 12 trades
LOSER = ["-3", "1", "-4", "-2", "0.5", "-5", "-1", "-2", "-3", "2", "-4", "-1"]
JOURNAL = [
    *trades("Winner", WINNER),
    *trades("Loser", LOSER),
    *trades("Lucky", ["9"]),
    *trades("Flat", ["1", "1", "1"]),
    *trades("Steady", ["1", "1.1", "0.9"] * 10),  # PSR near 1
]
AGENTS = ("Winner", "Loser", "Lucky", "Flat", "Silent")


def reasons(config: MaestroConfig) -> dict[str, tuple[str, str, bool]]:
    payload = compute_weights(JOURNAL, config).to_json_dict()
    found = {}
    for agent, detail in payload["agents"].items():
        stored = detail["explanation"]
        assert explain(detail).to_json_dict() == stored  # the JSON form explains itself
        found[agent] = (stored["status"], stored["reason"], stored["thin_evidence"])
    return found


def test_every_way_to_a_weight_has_its_words() -> None:
    assert reasons(MaestroConfig(agent_ids=AGENTS)) == {
        "Winner": ("scored", "softmax share", False),
        "Loser": ("scored", "floor: negative Sharpe", False),
        "Lucky": ("1 valid trade", "floor: 1 trade only", True),
        "Flat": ("all returns equal", "floor: all returns equal", True),
        "Silent": ("no valid trade", "floor: no trades", True),
    }
    enforced = reasons(MaestroConfig(agent_ids=AGENTS, enforce_performance=True))
    assert enforced["Loser"] == ("scored", "0: negative Sharpe", False)
    nobody = reasons(MaestroConfig(agent_ids=("Loser", "Silent")))  # nobody performs
    assert nobody["Loser"][1] == "equal split: no agent performs"
    nobody_enforced = reasons(MaestroConfig(agent_ids=("Loser",), enforce_performance=True))
    assert nobody_enforced["Loser"][1] == "0: no agent performs"


@pytest.mark.parametrize(
    ("options", "agents", "winner"),
    [
        ({"max_weight": "0.3", "min_floor_weight": "0"}, AGENTS, "capped at max_weight"),
        ({"allocator": "inverse_volatility"}, AGENTS, "inverse-volatility share"),
        # Steady (PSR near 1) keeps performing when Winner falls short of min_confidence
        ({"min_confidence": "0.9999"}, (*AGENTS, "Steady"), "floor: PSR below min_confidence"),
    ],
)
def test_the_v2_options_reasons(
    options: dict[str, object], agents: tuple[str, ...], winner: str
) -> None:
    config = MaestroConfig.from_mapping({"agent_ids": list(agents), **options})
    assert reasons(config)["Winner"][1] == winner


def test_a_floor_above_a_share_says_so_and_thin_evidence_is_under_ten_trades() -> None:
    two = [*trades("A", WINNER), *trades("B", ["1", "2", "1.5", "0.5", "1"] * 2)]
    config = MaestroConfig(agent_ids=("A", "B"), min_floor_weight=Decimal("0.45"))
    payload = compute_weights(two, config).to_json_dict()
    assert payload["agents"]["B"]["trades_used"] == THIN_EVIDENCE_TRADES
    assert payload["agents"]["B"]["explanation"]["thin_evidence"] is False
    low = min(payload["weights"], key=lambda agent: Decimal(payload["weights"][agent]))
    assert payload["agents"][low]["explanation"]["reason"] == "floor: softmax share below it"
    # the log line's words, from a stored document, with or without stored explanations
    stripped = {
        a: {k: v for k, v in d.items() if k != "explanation"} for a, d in payload["agents"].items()
    }
    assert reasons_of(payload) == reasons_of({**payload, "agents": stripped})
    damaged = {**payload, "agents": {"A": {"status": "ok"}, "B": "not a map"}}
    assert set(reasons_of(damaged).values()) == {
        "unexplained (the stored entry is not one Maestro writes)"
    }
    lone = compute_weights(
        [*trades("A", WINNER), *trades("C", ["1"])], MaestroConfig(agent_ids=("A", "C"))
    ).to_json_dict()
    assert reasons_of(lone) == {"A": "softmax share", "C": "floor: 1 trade only (thin evidence)"}


def test_every_status_has_plain_words_and_psr_undefined_says_so() -> None:
    from maestro.explain import PLAIN_STATUS
    from maestro.methods.sharpe import AgentStatus

    assert set(PLAIN_STATUS) == set(AgentStatus)
    config = MaestroConfig.from_mapping({"agent_ids": ["Winner", "Pair"], "score": "psr"})
    payload = compute_weights([*trades("Winner", WINNER), *trades("Pair", ["3", "1"])], config)
    pair = payload.to_json_dict()["agents"]["Pair"]
    assert pair["status"] == "psr_undefined"
    assert pair["explanation"] == {
        "status": "PSR undefined",
        "reason": "floor: PSR undefined (under 3 trades)",
        "thin_evidence": True,
    }
