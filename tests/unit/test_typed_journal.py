"""The CLI's typed path for well-formed JSON journals (typed_journal) answers exactly what the
exact path answers: the whole `weights` command, run both ways on generated journals that mix
clean rows with every kind of malformed one (stdout, stderr and exit status compared byte for
byte, with and without --json), and the typed path taken on the journals it is for."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from maestro import cli
from maestro.config import MaestroConfig
from maestro.methods import ReturnBasis
from maestro.typed_journal import read_typed_journal

MISSING = object()  # a field left out of the row
AGENTS = ["A", "B", "C", "a ", "Z"]

CLEAN_AMOUNTS = st.sampled_from(
    ["1", "2.5", "-3.25", "100", "0.01", "42", "7.000", "1e2", "-0.5", "0", "250.75", "-12"]
)
CLEAN_PRICES = st.sampled_from(["100", "2.5", "0.01", "42", "7.000", "1e2", "250.75"])
# Texts parse_amount refuses or reads otherwise than a plain decimal: a typed row takes
# them, and each must end where the exact path ends (a rejection, and its reason).
ODD_TEXTS = st.sampled_from(
    [
        "1_000",
        " 1",
        "1 ",
        "NaN",
        "-Infinity",
        "sNaN",
        "1e20",
        "1e-20",
        "0E-20",
        "0E+30",
        "9" * 65,
        "0." + "0" * 61 + "1",
        "1." + "0" * 60,
        "1,234.5",
        "$12",
        "(5)",
        "",
        "abc",
        "\u0661\u0662",  # Arabic-Indic digits: Decimal reads them
        "1e999999999",
    ]
)
# Values that are not text: the typed decoder refuses the file, the exact path reads it.
ODD_VALUES = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.booleans(),
    st.just(MISSING),
    st.just({"value": "1"}),
    st.just(["1"]),
)
ODD_AMOUNTS = st.one_of(ODD_TEXTS, ODD_VALUES)
CLEAN_CLOSED_AT = st.builds(
    lambda day, hour, minute, offset: f"2026-01-{day:02d}T{hour:02d}:{minute:02d}:00{offset}",
    st.integers(1, 3),
    st.integers(10, 12),
    st.sampled_from([0, 30]),  # few instants: ties, broken by trade id
    st.sampled_from(["Z", "+00:00", "", "+05:30", "-08:00", "-00:00"]),
)
ODD_CLOSED_AT = st.one_of(
    st.sampled_from(
        [
            "2026-01-02T10:30:00.1234567Z",  # msgspec rounds, fromisoformat truncates
            "2026-01-02T10:30:00.9999999Z",
            "2026-01-02T10:30:00z",  # msgspec reads it, fromisoformat does not
            "2026-01-02",
            "2026-01-02 10:30:00Z",
            " 2026-01-02T10:30:00Z",
            "2026-01-02T10:30:00+05:30:10",
            "2026-02-30T00:00:00Z",
            "20260102T103000Z",
            "not a time",
            "",
        ]
    ),
    st.none(),
    st.just(MISSING),
    st.integers(0, 2_000_000_000),
    st.just({"_seconds": 1_767_000_000, "_nanoseconds": 5}),
    st.just({"seconds": 1_767_000_000}),
    st.just(["2026-01-02T10:30:00Z"]),
)
CLEAN_IDS = st.builds("t{}".format, st.integers(0, 30))  # 31 ids: duplicates happen
ODD_IDS = st.one_of(st.none(), st.just(MISSING), st.integers(0, 5), st.just("\u00e9t\u00e9"))


@st.composite
def rows(draw: st.DrawFn, odd: float, texts_only: bool) -> dict[str, Any]:
    """A trade row; each field odd with probability `odd` (with `texts_only`, only the
    amounts, and only by their text: the rows stay typed)."""

    def field(clean: st.SearchStrategy[Any], strange: st.SearchStrategy[Any]) -> Any:
        if texts_only:
            strange = ODD_TEXTS if strange is ODD_AMOUNTS else clean
        return draw(strange if draw(st.floats(0, 1)) < odd else clean)

    row = {
        "trade_id": field(CLEAN_IDS, ODD_IDS),
        "agent_id": field(st.sampled_from(AGENTS), st.sampled_from([None, 7, ["A"], MISSING])),
        "symbol": "SPY",
        "closed_at": field(CLEAN_CLOSED_AT, ODD_CLOSED_AT),
        "realized_pnl": field(CLEAN_AMOUNTS, ODD_AMOUNTS),
        "entry_price": field(CLEAN_PRICES, ODD_AMOUNTS),
        "quantity": field(CLEAN_AMOUNTS, ODD_AMOUNTS),
    }
    if draw(st.booleans()):
        row["allocated_capital"] = field(st.sampled_from(["1000", "50.5", "1e3"]), ODD_AMOUNTS)
    if draw(st.integers(0, 20)) == 0:
        row["id"] = "x1"  # used only when trade_id is missing or null
    return {key: value for key, value in row.items() if value is not MISSING}


@st.composite
def journal_texts(draw: st.DrawFn) -> str:
    """A JSON array of trade objects; now and then a row repeats a key (the later one counts
    in both readers), the text carries a byte order mark or a non-ASCII id, or the array is
    not one of objects."""
    odd = draw(st.sampled_from([0.0, 0.02, 0.1, 0.5]))
    journal = draw(st.lists(rows(odd, draw(st.booleans())), max_size=40))
    texts = [json.dumps(row) for row in journal]
    if texts and draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(texts) - 1))
        texts[at] = texts[at][:-1] + ', "closed_at": ' + json.dumps(draw(CLEAN_CLOSED_AT)) + "}"
    if draw(st.integers(0, 10)) == 0:
        texts.append(draw(st.sampled_from(["1", '"row"', "null", "[]"])))
    text = "[" + ",\n".join(texts) + "]"
    if draw(st.integers(0, 10)) == 0:
        text = "\ufeff" + text
    return text


CONFIGS = st.builds(
    lambda agents, lookback, basis: {
        "agent_ids": agents,
        "lookback_trades": lookback,
        "return_basis": basis,
        "min_floor_weight": "0.05",
    },
    st.lists(st.sampled_from(["A", "B", "C", "D"]), min_size=1, max_size=4, unique=True),
    st.integers(2, 12),
    st.sampled_from(["notional", "notional", "allocated"]),
)


def run(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(args)
    return status, out.getvalue(), err.getvalue()


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(journal_texts(), CONFIGS, st.sampled_from([[], ["--json"], ["--strict", "--quiet"]]))
def test_the_typed_path_answers_what_the_exact_path_answers(
    text: str, config: dict[str, Any], flags: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        journal, config_file = Path(scratch) / "journal.json", Path(scratch) / "config.json"
        journal.write_text(text, encoding="utf-8")
        config_file.write_text(json.dumps(config))
        args = ["weights", "--journal", str(journal), "--config", str(config_file), *flags]
        basis = ReturnBasis(config["return_basis"])
        typed = read_typed_journal(journal, basis) is not None
        event("typed path" if typed else "exact path")
        either = run(args)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(cli, "read_typed_journal", lambda path, basis: None)
            exact = run(args)
    assert either == exact


def test_a_well_formed_journal_takes_the_typed_path(tmp_path: Path) -> None:
    rows = [
        {
            "trade_id": f"t{i}",
            "agent_id": "AB"[i % 2],
            "closed_at": f"2026-01-02T10:{i:02d}:00Z",
            "realized_pnl": str(i - 3),
            "entry_price": "100",
            "quantity": "-2",
            "notes": {"any": ["shape", 1.5, None]},  # other fields: ignored by both paths
        }
        for i in range(12)
    ]
    journal = tmp_path / "journal.json"
    journal.write_text(json.dumps(rows))
    assert read_typed_journal(journal, ReturnBasis.NOTIONAL) is not None
    # the allocated basis needs its column: the exact path names it
    assert read_typed_journal(journal, ReturnBasis.ALLOCATED) is None
    config = MaestroConfig(agent_ids=("A", "B"))
    typed, exact = (
        cli.weigh_journal_file(journal, config),
        cli.weigh_journal_file_exactly(journal, config),
    )
    assert typed[0].to_json_dict() == exact[0].to_json_dict()
    assert typed[1] == exact[1]


@pytest.mark.parametrize(
    "odd",
    [
        {"realized_pnl": 1.5},  # a JSON number: the exact path reads its float's repr
        {"closed_at": "2026-01-02T10:00:00z"},  # msgspec's datetime reads it; ours does not
        {"trade_id": None},
        {"agent_id": 3},
        {"entry_price": None},
        {"allocated_capital": None},
    ],
)
def test_what_a_typed_decoder_could_read_otherwise_takes_the_exact_path(
    tmp_path: Path, odd: dict[str, Any]
) -> None:
    row = {
        "trade_id": "t1",
        "agent_id": "A",
        "closed_at": "2026-01-02T10:00:00Z",
        "realized_pnl": "1",
        "entry_price": "100",
        "quantity": "1",
    }
    journal = tmp_path / "journal.json"
    journal.write_text(json.dumps([{**row, **odd}]))
    assert read_typed_journal(journal, ReturnBasis.NOTIONAL) is None


def test_closed_at_is_read_by_fromisoformat_not_by_the_decoder(tmp_path: Path) -> None:
    # msgspec's own datetime would round a seventh fraction digit up; journal_file truncates
    journal = tmp_path / "journal.json"
    row = {
        "trade_id": "t1",
        "agent_id": "A",
        "closed_at": "2026-01-02T10:00:00.9999999Z",
        "realized_pnl": "1",
        "entry_price": "100",
        "quantity": "1",
    }
    journal.write_text(json.dumps([row]))
    typed = read_typed_journal(journal, ReturnBasis.NOTIONAL)
    assert typed is not None
    assert typed.closed_at == [dt.datetime(2026, 1, 2, 10, 0, 0, 999999, tzinfo=dt.UTC)]


def test_without_msgspec_every_journal_takes_the_exact_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = tmp_path / "journal.json"
    journal.write_text(
        json.dumps(
            [
                {
                    "trade_id": "t1",
                    "agent_id": "A",
                    "closed_at": "2026-01-02T10:00:00Z",
                    "realized_pnl": "1",
                    "entry_price": "100",
                    "quantity": "1",
                }
            ]
        )
    )
    monkeypatch.setitem(__import__("sys").modules, "msgspec", None)  # import msgspec fails
    assert read_typed_journal(journal, ReturnBasis.NOTIONAL) is None
