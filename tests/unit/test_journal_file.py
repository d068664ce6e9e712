"""Journal files read the way their authors wrote them: a byte order mark, a semicolon or tab
delimiter, padded header cells, Firestore-export timestamps; and a missing column named, with
the column it probably is."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maestro.cli import main
from maestro.config import MaestroConfig
from maestro.journal_file import JournalFileError, load_journal_file
from maestro.methods import ReturnBasis
from maestro.weighting import compute_weights

COLUMNS = ["trade_id", "agent_id", "closed_at", "realized_pnl", "entry_price", "quantity"]
ROWS = [
    ["t1", "A", "2026-11-02T14:30:00Z", "1", "100", "1"],
    ["t2", "A", "2026-11-02T14:31:00+00:00", "3", "100", "2"],
    ["t3", "B", "2026-11-02T15:32:00Z", "-2", "50", "1"],
    ["t4", "B", "2026-11-02T16:33:00Z", "4", "100", "1"],
]
CONFIG = MaestroConfig(agent_ids=("A", "B"))


def csv_text(delimiter: str = ",", header: list[str] | None = None) -> str:
    lines = [delimiter.join(header or COLUMNS)] + [delimiter.join(row) for row in ROWS]
    return "\n".join(lines) + "\n"


def weights_of(path: Path) -> dict[str, str]:
    result = compute_weights(load_journal_file(path), CONFIG)
    return result.to_json_dict()["weights"]


def write(tmp_path: Path, name: str, text: str, bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode())
    return path


def test_delimiters_a_byte_order_mark_and_padded_headers_read_alike(tmp_path: Path) -> None:
    expected = weights_of(write(tmp_path, "plain.csv", csv_text()))
    assert set(expected) == {"A", "B"}
    variants = {
        "semicolon.csv": (csv_text(";"), False),
        "tab.csv": (csv_text("\t"), False),
        "bom.csv": (csv_text(), True),
        "padded.csv": (csv_text(",", [f" {c} " for c in COLUMNS]), False),
    }
    for name, (text, bom) in variants.items():
        assert weights_of(write(tmp_path, name, text, bom)) == expected, name
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in ROWS]
    assert weights_of(write(tmp_path, "bom.json", json.dumps(rows), bom=True)) == expected


def test_a_delimiter_that_is_none_of_the_three_is_named(tmp_path: Path) -> None:
    with pytest.raises(JournalFileError, match=r"no comma, semicolon or tab.*seems to use '\|'"):
        load_journal_file(write(tmp_path, "pipes.csv", csv_text("|")))


@pytest.mark.parametrize("name", ["pnl", "realizedPnl", "RealizedPnL", "Realized PnL"])
def test_a_missing_column_is_named_with_the_one_it_probably_is(tmp_path: Path, name: str) -> None:
    header = [name if c == "realized_pnl" else c for c in COLUMNS]
    path = write(tmp_path, "renamed.csv", csv_text(",", header))
    message = (
        f"lacks column(s) realized_pnl (returns on the notional basis); did you mean"
        f" '{name}' for realized_pnl?"
    )
    with pytest.raises(
        JournalFileError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")
    ):
        load_journal_file(path)


def test_the_allocated_basis_needs_its_column(tmp_path: Path) -> None:
    path = write(tmp_path, "plain.csv", csv_text())
    with pytest.raises(
        JournalFileError,
        match=r"lacks column\(s\) allocated_capital \(returns on the allocated basis\)",
    ):
        load_journal_file(path, ReturnBasis.ALLOCATED)


def test_the_cli_names_the_missing_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = ["pnl" if c == "realized_pnl" else c for c in COLUMNS]
    path = write(tmp_path, "renamed.csv", csv_text(",", header))
    assert main(["weights", "--journal", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.strip().endswith("did you mean 'pnl' for realized_pnl?")
    assert len(err.strip().splitlines()) == 1


def test_firestore_export_timestamps(tmp_path: Path) -> None:
    moment = dt.datetime(2026, 11, 2, 14, 30, 0, 123456, tzinfo=dt.UTC)
    seconds = int(moment.timestamp())
    rows = [
        {"agent_id": "A", "closed_at": {"_seconds": seconds, "_nanoseconds": 123456789}},
        {"agent_id": "A", "closed_at": {"seconds": seconds, "nanos": 123456000}},
        {"agent_id": "A", "closed_at": {"seconds": seconds}},
        {"agent_id": "A", "closed_at": seconds},  # a bare number: never guessed
        {"agent_id": "A", "closed_at": {"seconds": "x", "nanos": 0}},
    ]
    for row in rows:
        row.update({"realized_pnl": "1", "entry_price": "100", "quantity": "1"})
    entries = load_journal_file(write(tmp_path, "export.json", json.dumps(rows)))
    closed = [entry.data["closed_at"] for entry in entries]
    assert closed[:3] == [moment, moment, moment.replace(microsecond=0)]
    assert closed[3] == seconds and closed[4] == {"seconds": "x", "nanos": 0}


TRADES = st.lists(
    st.tuples(
        st.sampled_from(["A", "B"]),
        st.integers(0, 10_000),  # minutes after T0
        st.sampled_from(["1", "-2.5", "3", "0", "x", "7.25"]),
        st.sampled_from(["100", "37.5", "-1"]),
    ),
    min_size=1,
    max_size=12,
)
T0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


@settings(max_examples=40, deadline=None)
@given(
    trades=TRADES,
    delimiter=st.sampled_from([",", ";", "\t"]),
    bom=st.booleans(),
    order=st.permutations(COLUMNS),
    stamp=st.sampled_from(["iso", "admin", "rest"]),
)
def test_a_csv_and_a_json_of_the_same_trades_give_the_same_weights(
    tmp_path_factory: pytest.TempPathFactory,
    trades: list[tuple[str, int, str, str]],
    delimiter: str,
    bom: bool,
    order: list[str],
    stamp: str,
) -> None:
    directory = tmp_path_factory.mktemp("variants")
    rows = []
    for i, (agent, minute, pnl, price) in enumerate(trades):
        moment = T0 + dt.timedelta(minutes=minute)
        iso = moment.isoformat().replace("+00:00", "Z")
        rows.append(
            {
                "trade_id": f"t{i}",
                "agent_id": agent,
                "closed_at": iso,
                "realized_pnl": pnl,
                "entry_price": price,
                "quantity": "1",
            }
        )
    lines = [delimiter.join(order)] + [delimiter.join(row[c] for c in order) for row in rows]
    csv_path = write(directory, "trades.csv", "\n".join(lines) + "\n", bom)
    seconds = {"admin": ("_seconds", "_nanoseconds"), "rest": ("seconds", "nanos")}
    json_rows = []
    for row in rows:
        if stamp == "iso":
            json_rows.append(row)
            continue
        moment = dt.datetime.fromisoformat(row["closed_at"])
        whole, nanos = seconds[stamp]
        json_rows.append({**row, "closed_at": {whole: int(moment.timestamp()), nanos: 0}})
    json_path = write(directory, "trades.json", json.dumps(json_rows), bom)
    assert weights_of(csv_path) == weights_of(json_path)
