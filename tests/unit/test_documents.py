"""The stored documents: what is written decodes to what was meant, exactly; a document of the
old shape or a damaged one is Unreadable (rebuilt, never misread); the client's "is my trade in?"
answers from journal_as_of and the ledger."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from maestro.config import MaestroConfig
from maestro.documents import (
    WEIGHTS_FORMAT,
    Cause,
    CauseKind,
    EffectiveConfig,
    Provenance,
    StoredWeights,
    Unreadable,
    decode_weights,
    decode_windows,
    encode_windows,
    reflects_write,
    resolve_config,
    to_json_ready,
    weights_version,
    window_shard_count,
)
from maestro.firestore_io import document_patch
from maestro.journal import TIMESTAMP_RANK, JournalEntry, Rejection, closed_trade
from maestro.timestamps import from_ns, to_ns
from maestro.weighting import compute_weights
from maestro.window import LedgerEntry, WindowTrade, rebuild_window, with_close

from .helpers import T0, closed

SECOND = 1_000_000_000
AS_OF = to_ns(T0) + 3600 * SECOND


def trade(trade_id: str, minute: int, pnl: str = "1", **extra: Any) -> WindowTrade:
    entry = JournalEntry(trade_id, closed("A", minute, pnl, **extra).data)
    closed_one = closed_trade(entry)
    assert closed_one is not None
    return WindowTrade(closed_one, AS_OF + minute)


PROVENANCE = Provenance(
    Cause(CauseKind.TRADE, "t.1", "event-1", AS_OF + 5, "close"),
    "saved",
    computed_at_ns=AS_OF + 7,
    journal_as_of_ns=AS_OF,
    latest_closed_at=T0,
)


def version(ledger: dict[str, LedgerEntry], previous: Any = None) -> StoredWeights:
    config = MaestroConfig(agent_ids=("A",))
    result = compute_weights([closed("A", 1, "2"), closed("A", 2, "-1")], config)
    return weights_version(result, PROVENANCE, ledger, previous)


def test_a_weights_version_decodes_to_itself() -> None:
    ledger = with_close({}, "A", trade("t.1", 9, "1.25", allocated_capital="500"))
    written = version(ledger)
    read = decode_weights(written.fields)
    assert read == written  # every typed field, the ledger's trades to the last digit
    assert written.fields["format"] == WEIGHTS_FORMAT
    assert written.fields["cause"] == {
        "kind": "trade",
        "trade_id": "t.1",
        "event_id": "event-1",
        "commit_time": from_ns(AS_OF + 5),
        "event": "close",
    }
    assert written.uses(EffectiveConfig(MaestroConfig(agent_ids=("A",)), "saved"))
    assert not written.uses(EffectiveConfig(MaestroConfig(agent_ids=("A",)), "defaults"))


def test_ledger_entries_already_stored_are_carried_over_as_they_are() -> None:
    first = version(with_close({}, "A", trade("t1", 9)))
    second = version(with_close(first.ledger, "A", trade("t2", 10)), previous=first)
    assert second.fields["ledger"]["t1"] is first.fields["ledger"]["t1"]
    assert second.fields["ledger"]["t2"] == from_ns(AS_OF + 10)


def test_the_ledger_is_a_commit_time_per_trade_and_its_trades_one_string() -> None:
    """One stored value per close for clients (`ledger[tradeId]`, the commit time of the write
    applied), and Maestro's replay rows in one JSON string, agent id first."""
    ledger = with_close({}, "A", trade("t1", 9, "1.25", allocated_capital="500"))
    fields = version(with_close(ledger, "A", trade("t2", 10))).fields
    assert fields["ledger"] == {"t1": from_ns(AS_OF + 9), "t2": from_ns(AS_OF + 10)}
    rows = json.loads(fields["ledger_trades"])
    assert list(rows) == ["t1", "t2"]
    agent, rank, closed_at, pnl, _notional, allocated = rows["t1"]
    minute_9 = T0 + dt.timedelta(minutes=9)
    assert (agent, rank, closed_at) == ("A", TIMESTAMP_RANK, f"{minute_9:%Y-%m-%dT%H:%M:%S.%f}")
    assert (pnl, allocated) == ("1.25", "500")
    assert version({}).fields["ledger"] == {} and version({}).fields["ledger_trades"] == "{}"


def test_the_ledgers_trades_are_the_same_string_appended_to_or_written_anew() -> None:
    """A close appends its row to the stored string; a later close of a trade already listed
    replaces its row, and a rebuild empties the ledger: each the string encoded from scratch."""
    closes = [("t1", 9), ("t2", 10), ("t3", 11), ("t2", 12), ("t4", 13)]
    current = version({})
    for trade_id, minute in closes:
        current = version(with_close(current.ledger, "A", trade(trade_id, minute)), current)
        anew = version(current.ledger)
        assert current.fields["ledger_trades"] == anew.fields["ledger_trades"]
        assert decode_weights(current.fields) == current
    assert list(json.loads(current.fields["ledger_trades"])) == ["t1", "t2", "t3", "t4"]
    assert to_ns(current.fields["ledger"]["t2"]) == AS_OF + 12
    rebuilt = version({}, current)
    assert rebuilt.fields["ledger"] == {} and rebuilt.fields["ledger_trades"] == "{}"
    # Nothing new to list: the stored string itself, which the write then skips.
    again = version(rebuilt.ledger, rebuilt)
    assert again.fields["ledger_trades"] is rebuilt.fields["ledger_trades"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"format": None}, "format None"),  # the shape before the ledger had no format field
        ({"format": 1}, "format 1"),
        ({"format": 2}, "format 2"),  # each ledger entry a map {commit_time, trade}
        ({"journal_as_of": "yesterday"}, "journal_as_of"),
        ({"ledger": {"t1": T0}, "ledger_trades": '{"t1":[['}, "ledger_trades"),
        ({"ledger": {"t1": T0}, "ledger_trades": '[["A"]]'}, "not an object"),
        ({"ledger": {"t1": T0}, "ledger_trades": '{"t1":["A",3]}'}, "2 fields"),
        ({"ledger": {"t1": T0}, "ledger_trades": '{"t1":[3]}'}, "no agent id"),
        ({"ledger": {"t1": T0}, "ledger_trades": "{}"}, "different trades: ['t1']"),
        ({"ledger": {}, "ledger_trades": '{"t1":["A"]}'}, "different trades: ['t1']"),
        ({"ledger": {"t1": {"commit_time": T0}}, "ledger_trades": '{"t1":["A"]}'}, "ledger.t1"),
        ({"ledger": {"t1": T0}, "ledger_trades": None}, "ledger_trades: not a string"),
        (  # amounts no encoder writes: a capital of 0, an exponent past the engine's range
            {
                "ledger": {"t1": T0},
                "ledger_trades": f'{{"t1":["A",3,"{T0:%Y-%m-%dT%H:%M:%S.%f}","1","0",null]}}',
            },
            "DivisionByZero",
        ),
        (
            {
                "ledger": {"t1": T0},
                "ledger_trades": (
                    f'{{"t1":["A",3,"{T0:%Y-%m-%dT%H:%M:%S.%f}","1E+999999","1",null]}}'
                ),
            },
            "Overflow",
        ),
        ({"stale": "no"}, "stale"),
        ({"cause": None}, "damaged"),
        ({"format": 3}, "format 3"),  # each agent's diagnostics a map
        ({"agents": None}, "agents: NoneType"),
        ({"agents": {"A": "x"}}, "agents.A: str"),
        ({"agents": {"A": {"diagnostics": {"n": 2}}}}, "agents.A.diagnostics: not a string"),
        ({"agents": {"A": {"diagnostics": '{"n":'}}}, "agents.A.diagnostics: Expecting"),
        ({"agents": {"A": {"diagnostics": "[]"}}}, "agents.A.diagnostics: not an object"),
        ({"agents": {"A": {}}}, "agents.A.diagnostics: not a string"),
    ],
)
def test_an_old_or_damaged_weights_document_is_unreadable(
    change: dict[str, Any], problem: str
) -> None:
    fields = {**version({}).fields, **change}
    read = decode_weights(fields)
    assert isinstance(read, Unreadable) and problem in read.reason
    assert read.fields == fields  # kept, so that the rebuild's write replaces every field
    assert decode_weights(None) is None


def test_the_old_shape_is_unreadable_whatever_it_holds() -> None:
    old = {
        "weights": {"A": "1"},
        "journal_as_of": T0,
        "closes_applied": {"t1": T0},
        "window_log": {"t1": "[0]"},
        "stale": False,
    }
    assert decode_weights(old) == Unreadable(f"format None, expected {WEIGHTS_FORMAT}", old)


def test_a_format_2_document_is_rebuilt_never_misread() -> None:
    """The shape before the ledger's trades moved into one string: each entry a map of its
    commit time and replay row. Read as the new shape it would be damaged; it is another format,
    so the next run rebuilds it whole (decisions: STORED_WEIGHTS_UNREADABLE)."""
    fields = version({}).fields
    old = {
        **{key: value for key, value in fields.items() if key != "ledger_trades"},
        "ledger": {
            "t1": {"commit_time": T0, "trade": f'["A",3,"{T0:%Y-%m-%dT%H:%M:%S.%f}","1","1",null]'}
        },
        "format": 2,
    }
    read = decode_weights(old)
    assert read == Unreadable(f"format 2, expected {WEIGHTS_FORMAT}", old)


def test_a_format_3_document_is_rebuilt_never_misread() -> None:
    """The shape before each agent's diagnostics went into one string: a map per agent. It is
    another format, so the next run rebuilds it whole; and were its format field changed to 4,
    it would be damaged (never passed on with a map where a string is stored)."""
    fields = version({}).fields
    engine = to_json_ready(fields)["agents"]
    old = {
        **fields,
        "agents": {
            agent: {**detail, "diagnostics": engine[agent]["diagnostics"]}
            for agent, detail in fields["agents"].items()
        },
        "format": 3,
    }
    assert decode_weights(old) == Unreadable(f"format 3, expected {WEIGHTS_FORMAT}", old)
    relabelled = decode_weights({**old, "format": WEIGHTS_FORMAT})
    assert isinstance(relabelled, Unreadable)
    assert "agents.A.diagnostics: not a string" in relabelled.reason
    assert WEIGHTS_FORMAT == 4


def test_each_agents_diagnostics_are_stored_as_one_string_of_the_engines_map() -> None:
    """One stored value per agent where the map held 14 (analysis lookbacks add one each); the
    text is compact JSON of the engine's map, decimals as strings, keys in the engine's order,
    and every other field of the agent's entry is the engine's, in its place."""
    config = MaestroConfig(agent_ids=("A", "B"), analysis_lookbacks=(2,), kelly_scale=Decimal(1))
    journal = [
        closed("A", 1, "2"),
        closed("A", 2, "-1"),
        closed("A", 3, "1.5"),
        closed("B", 4, "1"),
    ]
    result = compute_weights(journal, config)
    engine = result.to_json_dict()["agents"]
    stored = weights_version(result, PROVENANCE, {}, None).fields["agents"]
    assert list(stored) == list(engine) == ["A", "B"]
    for agent, detail in engine.items():
        text = stored[agent]["diagnostics"]
        assert isinstance(text, str) and " " not in text
        assert list(stored[agent]) == list(detail)
        assert {**stored[agent], "diagnostics": detail["diagnostics"]} == detail
        decoded = json.loads(text)
        assert decoded == detail["diagnostics"]
        assert list(decoded) == list(detail["diagnostics"])
    a = json.loads(stored["A"]["diagnostics"])
    assert a["n"] == 3 and isinstance(a["n_eff"], str) and Decimal(a["psr"]) > 0
    assert list(a["analysis_lookbacks"]) == ["2"] and isinstance(a["analysis_lookbacks"]["2"], str)
    assert json.loads(stored["B"]["diagnostics"])["skewness"] is None  # undefined: null


def test_a_close_writes_an_agents_diagnostics_as_one_path() -> None:
    """The close path sends the difference from the stored version as field paths: an agent
    whose diagnostics changed costs one path for all of them, the others none."""
    config = MaestroConfig(agent_ids=("A", "B"))
    before = [closed("A", 1, "2"), closed("A", 2, "-1"), closed("B", 3, "1"), closed("B", 4, "2")]
    stored = weights_version(compute_weights(before, config), PROVENANCE, {}, None)
    after = compute_weights([*before, closed("A", 5, "3")], config)
    patch = document_patch(stored.fields, weights_version(after, PROVENANCE, {}, stored).fields)
    assert "agents.A.diagnostics" in patch
    assert not any(path.startswith(("agents.A.diagnostics.", "agents.B")) for path in patch)


def test_is_my_trade_in() -> None:
    stored = version(with_close({}, "A", trade("t1", 9))).fields
    at_rebuild = from_ns(AS_OF)
    assert reflects_write(stored, "anything", at_rebuild)  # committed at or before journal_as_of
    assert not reflects_write(stored, "anything", from_ns(AS_OF + 1))
    assert reflects_write(stored, "t1", from_ns(AS_OF + 9))  # the ledger holds it at that commit
    assert reflects_write(stored, "t1", from_ns(AS_OF + 8))
    assert not reflects_write(stored, "t1", from_ns(AS_OF + 10))  # a later write of t1
    # The same answers, to the nanosecond, from the typed form.
    typed = decode_weights(stored)
    assert isinstance(typed, StoredWeights)
    assert typed.reflects("t1", AS_OF + 9) and not typed.reflects("t1", AS_OF + 10)


def test_the_callables_answer_keeps_the_ledgers_contract_not_its_replay_data() -> None:
    stored = version(with_close({}, "A", trade("t1", 9))).fields
    ready = to_json_ready(stored)
    assert ready["ledger"] == {"t1": from_ns(AS_OF + 9).isoformat()}
    assert ready["journal_as_of"] == from_ns(AS_OF).isoformat()
    assert "ledger_trades" in stored and "ledger_trades" not in ready


def test_the_callables_answer_gives_the_diagnostics_back_as_the_engines_map() -> None:
    """The callable answers what it answered before format 4: each agent's entry as the CLI's
    --json gives it, diagnostics a map, in the engine's order; the stored fields untouched."""
    config = MaestroConfig(agent_ids=("A",), analysis_lookbacks=(2,))
    result = compute_weights([closed("A", 1, "2"), closed("A", 2, "-1")], config)
    stored = weights_version(result, PROVENANCE, {}, None).fields
    ready = to_json_ready(stored)
    assert ready["agents"] == result.to_json_dict()["agents"]
    assert list(ready["agents"]["A"]["diagnostics"]) == list(
        result.to_json_dict()["agents"]["A"]["diagnostics"]
    )
    assert isinstance(stored["agents"]["A"]["diagnostics"], str)
    # A damaged entry (only ever in a trigger's log: the callable answers documents that
    # decoded) is passed on as stored rather than failing.
    damaged = {**stored, "agents": {"A": {**stored["agents"]["A"], "diagnostics": "{"}}}
    assert to_json_ready(damaged)["agents"]["A"]["diagnostics"] == "{"


def test_windows_round_trip_exactly_and_a_damaged_one_is_left_out() -> None:
    odd = closed_trade(JournalEntry("odd", {"agent_id": "A", "closed_at": "yesterday"}))
    assert odd is not None
    trades = [
        trade("third", 3, "1", price="3"),  # 100/3 %: the capital keeps every digit
        trade("bad", 2, "x"),
        WindowTrade(odd, AS_OF),
    ]
    windows = {
        "A/B": rebuild_window("A/B", trades, 5, AS_OF),
        "C": rebuild_window("C", [], 5, AS_OF),
    }
    shards = encode_windows(windows)
    assert shards is not None and len(shards) == 1
    assert decode_windows(shards) == windows
    a_b = windows["A/B"]
    # Firestore's order: a string closed_at before every timestamp (descending).
    assert [t.trade_id for t in a_b.trades] == ["odd", "third", "bad"]
    assert [t.trade.realized_pnl for t in a_b.trades][1:] == [1, Rejection.REALIZED_PNL_INVALID]
    (head,) = shards
    for broken, problem_agent in [
        ('[["x", 3, "noon", "1", "1", null, 1]]', "closed_at"),
        ('[["x", 4, "t", "NaN", "1", null, 1]]', "not finite"),
        ('[["x", 4, "t", "!no_such", "1", null, 1]]', "amount"),
        ('[["x", "4", "t", "1", "1", null, 1]]', "malformed"),
        ('[["x", 4, "t", "1", "1", null]]', "malformed row"),
        ("[[", "json"),
    ]:
        damaged = {**head, "windows": {**head["windows"], "A/B": broken}}
        assert decode_windows([damaged]) == {"C": windows["C"]}, problem_agent
    for field, value in [("format", 1), ("lookback_trades", 2), ("as_of", None)]:
        assert "A/B" not in decode_windows([{**head, field: value}]), field
    assert decode_windows([{**head, "windows": "not a map"}]) == {}
    assert window_shard_count({"shard_count": 10**6}) == 1  # damaged: never a million reads
    assert window_shard_count(head) == 1 and window_shard_count(None) == 1
    assert decode_windows([]) == {}


def test_windows_too_large_for_one_document_spill_into_shards() -> None:
    agents = {
        f"agent{a:02d}": rebuild_window(
            f"agent{a:02d}",
            [trade(f"a{a}-t{i:04d}-{'x' * 60}", i) for i in range(1000)],
            1000,
            AS_OF,
        )
        for a in range(12)
    }
    shards = encode_windows(agents)
    assert shards is not None and len(shards) > 1
    assert all(shard["shard_count"] == len(shards) for shard in shards)
    assert decode_windows(shards) == agents
    assert decode_windows(shards[:1]) != agents  # a missing shard leaves its agents out
    # All of them too large for the rebuild's one commit (10 MiB): none is stored.
    wide = {
        f"agent{a:02d}": rebuild_window(
            f"agent{a:02d}", list(agents["agent00"].trades), 1000, AS_OF
        )
        for a in range(100)
    }
    assert encode_windows(wide) is None
    # One window alone too large for a document: none is stored.
    long_id = "x" * 1500  # Firestore's longest document id
    huge = [trade(f"{long_id}{i}", i) for i in range(800)]
    assert encode_windows({"A": rebuild_window("A", huge, 1000, AS_OF)}) is None


def test_a_saved_config_is_used_and_a_corrupted_one_replaced_by_the_defaults() -> None:
    assert resolve_config(None) == EffectiveConfig(MaestroConfig(), "defaults")
    saved = resolve_config({"lookback_trades": 5, "updated_at": T0})
    assert saved == EffectiveConfig(MaestroConfig(lookback_trades=5), "saved")
    broken = resolve_config({"lookback_trades": "lots"})
    assert broken.config == MaestroConfig()
    assert broken.source.startswith("defaults (saved config invalid: lookback_trades")
    too_many = {"agent_ids": [f"a{i}" for i in range(65)], "lookback_trades": 10}
    oversized = resolve_config({**too_many, "min_floor_weight": 0})
    assert oversized.config == MaestroConfig()  # more agents than a run may take: no cut fits
    assert "at most 64 agents" in oversized.source
    # Saved before MAESTRO_MAX_RUN_TRADES was lowered: the agents stay, the lookback is cut.
    agents = [f"a{i}" for i in range(40)]
    lowered = resolve_config({"agent_ids": agents, "lookback_trades": 1000, "min_floor_weight": 0})
    assert lowered.config.agent_ids == tuple(agents) and lowered.config.lookback_trades == 800
    assert lowered.source == "saved, lookback_trades cut to 800 (MAESTRO_MAX_RUN_TRADES 32000)"
    smaller = resolve_config({"lookback_trades": 100}, max_run_trades=200)
    assert smaller.config == MaestroConfig(lookback_trades=50)
    tiny = resolve_config({"lookback_trades": 100}, max_run_trades=7)  # 1 a agent: under 2
    assert tiny.config == MaestroConfig() and tiny.source.startswith("defaults (saved config")


def test_amounts_keep_every_digit_through_the_stored_form() -> None:
    precise = trade("p", 1, "1.00000000000000000000000000001", price="3")
    shards = encode_windows({"A": rebuild_window("A", [precise], 2, AS_OF)})
    assert shards is not None
    (held,) = decode_windows(shards)["A"].trades
    assert held.trade.realized_pnl == Decimal("1.00000000000000000000000000001")
    assert held.trade.return_pct() == precise.trade.return_pct()
    assert held.trade.closed_at == T0 + dt.timedelta(minutes=1)


def test_a_cause_says_what_asked() -> None:
    from maestro.events import CallableRequest, ConfigWritten, TradeEvent, classify_trade_write

    close = classify_trade_write("t1", "e1", None, closed("A", 1, "1").data, AS_OF + 3)
    assert isinstance(close, TradeEvent)
    assert Cause.of(close).encode() == {
        "kind": "trade",
        "trade_id": "t1",
        "event_id": "e1",
        "commit_time": from_ns(AS_OF + 3),
        "event": "close",
    }
    assert Cause.of(CallableRequest(force=True)).encode() == {"kind": "callable"}
    assert Cause.of(ConfigWritten()).encode() == {"kind": "config"}


def test_the_call_limits_document_round_trips_and_a_damaged_one_counts_as_empty() -> None:
    from maestro.documents import call_log_fields, call_log_of
    from maestro.timestamps import to_ns

    fields = call_log_fields((5, 7), expires_at_ns=3_600_000_000_007)
    assert call_log_of(fields) == (5, 7)
    assert to_ns(fields["expires_at"]) == 3_600_000_000_007
    for damaged in (
        None,
        {},
        {**fields, "format": 2},  # another format: never misread
        {**fields, "admitted_ns": "5,7"},
        {**fields, "admitted_ns": [5, "7"]},
        {**fields, "admitted_ns": [5, True]},
    ):
        assert call_log_of(damaged) == ()
