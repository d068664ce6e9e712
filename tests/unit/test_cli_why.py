"""Issue 16's "Why", case by case, through the CLI: each export that used to be misread in
silence now gives the exact message or load summary line below. (Also covered elsewhere: the
`pnl` column in test_journal_file.py, duplicates and near-miss ids in test_cli.py; here each
is checked line for line.) Then a CSV and a JSON of the same trades, written with every
accepted variation, give the same output, byte for byte."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maestro import firestore_io
from maestro.cli import main
from maestro.journal import JournalEntry, select_agent_trades
from maestro.journal_file import load_journal_file

from .helpers import run_cli as run

COLUMNS = ["trade_id", "agent_id", "closed_at", "realized_pnl", "entry_price", "quantity"]
NOT_A_TIMESTAMP = "closed_at not an ISO-8601 text or a Firestore export's timestamp map"


def write_csv(path: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    path.write_text("\n".join(delimiter.join(row) for row in [COLUMNS, *rows]) + "\n")
    return path


def write_json(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(rows))
    return path


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"agent_ids": ["A", "B"], "lookback_trades": 3}))
    return path


def test_amounts_with_thousands_separators_are_rejections_of_their_own(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = write_csv(
        tmp_path / "j.csv",
        [
            ["t1", "A", "2026-11-02T14:30:00Z", '"1,234.50"', "100", "1"],
            ["t2", "A", "2026-11-02T14:31:00Z", "3", "100", "1"],
            ["t3", "A", "2026-11-02T14:32:00Z", "$12", "100", "1"],
        ],
    )
    status, _, err = run(["weights", "--journal", str(journal), "--config", str(config)], capsys)
    assert status == 0
    assert err == [
        "maestro: 3 rows read, closes from 2026-11-02 to 2026-11-02",
        "maestro: A: 3 rows; of the 3 most recent closed, 1 used, 2 rejected (amount_format 2)",
        "maestro: B: 0 rows; of the 0 most recent closed, 0 used, 0 rejected",
        "maestro: warning: A: 2 of its 3 most recent closed trades rejected (more than half)",
    ]


def test_a_column_named_pnl_is_named(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = tmp_path / "j.csv"
    journal.write_text(
        "trade_id,agent_id,closed_at,pnl,entry_price,quantity\nt1,A,2026-11-02T14:30:00Z,1,100,1\n"
    )
    status, out, err = run(["weights", "--journal", str(journal), "--config", str(config)], capsys)
    assert (status, out) == (2, "")
    assert err == [
        f"maestro: journal {journal}: lacks column(s) realized_pnl (returns on the notional"
        " basis); did you mean 'pnl' for realized_pnl?"
    ]


def test_camel_case_json_keys_are_named(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = write_json(
        tmp_path / "j.json",
        [
            {
                "tradeId": "t1",
                "agentId": "A",
                "closedAt": "2026-11-02T14:30:00Z",
                "realizedPnl": "1",
                "entryPrice": "100",
                "quantity": "1",
            }
        ],
    )
    status, out, err = run(["weights", "--journal", str(journal), "--config", str(config)], capsys)
    assert (status, out) == (2, "")
    assert err == [
        f"maestro: journal {journal}: lacks column(s) agent_id, closed_at, realized_pnl,"
        " entry_price (returns on the notional basis); did you mean 'agentId' for agent_id,"
        " 'closedAt' for closed_at, 'realizedPnl' for realized_pnl, 'entryPrice' for"
        " entry_price?"
    ]


def test_firestore_export_timestamps_are_read(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    moments = [dt.datetime(2026, 11, 2, 14, 30 + i, tzinfo=dt.UTC) for i in range(3)]
    stamps: list[object] = [
        {"_seconds": int(moments[0].timestamp()), "_nanoseconds": 0},
        {"seconds": int(moments[1].timestamp()), "nanos": 500_000_000},
        {"seconds": int(moments[2].timestamp())},
    ]
    rows = [
        {"trade_id": f"t{i}", "agent_id": "A", "closed_at": stamp, "realized_pnl": str(i - 1),
         "entry_price": "100", "quantity": "1"}
        for i, stamp in enumerate(stamps)
    ]  # fmt: skip
    exported = write_json(tmp_path / "export.json", rows)
    iso = write_json(
        tmp_path / "iso.json",
        [
            {**row, "closed_at": moment.isoformat()}
            for row, moment in zip(rows, moments, strict=True)
        ],
    )
    args = ["weights", "--config", str(config), "--json", "--journal"]
    status, out, err = run([*args, str(exported)], capsys)
    assert status == 0
    assert err[:2] == [
        "maestro: 3 rows read, closes from 2026-11-02 to 2026-11-02",
        "maestro: A: 3 rows; of the 3 most recent closed, 3 used, 0 rejected",
    ]
    assert json.loads(out)["weights"] == json.loads(run([*args, str(iso)], capsys)[1])["weights"]


def test_epoch_milliseconds_are_never_guessed_and_take_no_slot(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    millis = int(dt.datetime(2026, 11, 2, 15, tzinfo=dt.UTC).timestamp() * 1000)
    rows: list[dict[str, Any]] = [
        {"trade_id": "t1", "agent_id": "A", "closed_at": "2026-11-02T14:30:00Z"},
        {"trade_id": "t2", "agent_id": "A", "closed_at": "2026-11-02T14:31:00Z"},
        {"trade_id": "t3", "agent_id": "A", "closed_at": millis},
        {"trade_id": "t4", "agent_id": "A", "closed_at": millis + 60_000},
        {"trade_id": "t5", "agent_id": "B", "closed_at": millis},
    ]
    for i, row in enumerate(rows):
        row.update(realized_pnl=str(i + 1), entry_price="100", quantity="1")
    journal = write_json(tmp_path / "j.json", rows)
    status, out, err = run(
        ["weights", "--journal", str(journal), "--config", str(config), "--json"], capsys
    )
    assert status == 0
    assert err == [
        "maestro: 5 rows read, closes from 2026-11-02 to 2026-11-02",
        "maestro: A: 4 rows; of the 2 most recent closed, 2 used, 0 rejected; 2 more rejected"
        f" (closed_at_invalid 2): {NOT_A_TIMESTAMP}",
        "maestro: B: 1 rows; of the 0 most recent closed, 0 used, 0 rejected; 1 more rejected"
        f" (closed_at_invalid 1): {NOT_A_TIMESTAMP}",
        "maestro: warning: B: 1 of its 1 closed trades rejected (more than half), 1 for a"
        " closed_at that is not a timestamp",
    ]
    load = json.loads(out)["load"]
    assert load["agents"]["A"]["rejected_outside_lookback"] == {"closed_at_invalid": 2}


def test_agent_ids_differing_in_case_or_a_trailing_space_are_said(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = write_csv(
        tmp_path / "j.csv",
        [
            ["t1", "A", "2026-11-02T14:30:00Z", "1", "100", "1"],
            ["t2", "a", "2026-11-02T14:31:00Z", "2", "100", "1"],
            ["t3", "B ", "2026-11-02T14:32:00Z", "3", "100", "1"],
        ],
    )
    status, _, err = run(["weights", "--journal", str(journal), "--config", str(config)], capsys)
    assert status == 0
    assert err == [
        "maestro: 3 rows read, closes from 2026-11-02 to 2026-11-02",
        "maestro: A: 1 rows; of the 1 most recent closed, 1 used, 0 rejected",
        "maestro: B: 0 rows; of the 0 most recent closed, 0 used, 0 rejected",
        "maestro: not configured, ignored: 'B ' (1 rows); did you mean B?",
        "maestro: not configured, ignored: 'a' (1 rows); did you mean A?",
        "maestro: warning: 2 agent id(s) in the file not configured: 'B ', 'a'",
    ]


def test_duplicate_rows_are_counted_once(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row = ["t1", "A", "2026-11-02T14:30:00Z", "1", "100", "1"]
    journal = write_csv(
        tmp_path / "j.csv", [row, row, ["t2", "A", "2026-11-03T09:00:00Z", "2", "100", "1"]]
    )
    status, _, err = run(["weights", "--journal", str(journal), "--config", str(config)], capsys)
    assert status == 0
    assert err == [
        "maestro: 3 rows read, closes from 2026-11-02 to 2026-11-03",
        "maestro: 1 duplicate trade id(s): the later row kept",
        "maestro: A: 2 rows; of the 2 most recent closed, 2 used, 0 rejected",
        "maestro: B: 0 rows; of the 0 most recent closed, 0 used, 0 rejected",
        "maestro: warning: 1 duplicate trade id(s) in the file",
    ]


BAD_DATES = [
    ["t1", "A", "2026-11-02T14:30:00Z", "1", "100", "1"],
    ["t2", "A", "2026-11-02T14:31:00Z", "2", "100", "1"],
    ["t3", "A", "2026-11-02T14:32:00Z", "3", "100", "1"],
    ["t4", "A", "02/11/2026 14:40", "40", "100", "1"],
    ["t5", "A", "2026-11-02 2:41 PM", "41", "100", "1"],
]


def test_badly_formatted_dates_never_push_valid_trades_out_of_a_files_lookback(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """lookback_trades 3, 3 valid trades and 2 closed_at strings that are no timestamps."""
    journal = write_csv(tmp_path / "j.csv", BAD_DATES)
    status, out, err = run(
        ["weights", "--journal", str(journal), "--config", str(config), "--json"], capsys
    )
    assert status == 0
    assert err == [
        "maestro: 5 rows read, closes from 2026-11-02 to 2026-11-02",
        "maestro: A: 5 rows; of the 3 most recent closed, 3 used, 0 rejected; 2 more rejected"
        f" (closed_at_invalid 2): {NOT_A_TIMESTAMP}",
        "maestro: B: 0 rows; of the 0 most recent closed, 0 used, 0 rejected",
    ]
    payload = json.loads(out)
    assert payload["agents"]["A"]["trades_used"] == 3
    assert payload["agents"]["A"]["rejection_reasons"] == {}
    assert payload["load"]["agents"]["A"] == {
        "rows": 5,
        "used": 3,
        "rejected": {},
        "rejected_outside_lookback": {"closed_at_invalid": 2},
    }


def test_the_same_documents_read_from_firestore_keep_firestores_order(
    tmp_path: Path,
    config: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Firestore sorts strings before every timestamp in a descending query: the functions'
    windows hold what the query returns, and so does --firestore-uid."""
    documents = load_journal_file(write_csv(tmp_path / "j.csv", BAD_DATES))

    def query(_db: object, _uid: str, agents: list[str], lookback: int) -> list[JournalEntry]:
        returned = select_agent_trades(documents, agents, lookback)  # Firestore's order
        ids = {trade.trade_id for trades in returned.values() for trade in trades}
        return [entry for entry in documents if entry.trade_id in ids]

    monkeypatch.setattr(firestore_io, "get_client", object)
    monkeypatch.setattr(firestore_io, "read_agent_journals", query)
    monkeypatch.delenv("FIRESTORE_EMULATOR_HOST", raising=False)
    status, out, err = run(
        ["weights", "--firestore-uid", "u1", "--config", str(config), "--json"], capsys
    )
    assert status == 0
    assert err == [
        "maestro: 3 documents read, closes from 2026-11-02 to 2026-11-02",
        "maestro: A: 3 documents; of the 3 most recent closed, 1 used, 2 rejected"
        " (closed_at_invalid 2)",
        "maestro: B: 0 documents; of the 0 most recent closed, 0 used, 0 rejected",
        "maestro: warning: A: 2 of its 3 most recent closed trades rejected (more than half)",
    ]
    assert json.loads(out)["agents"]["A"]["rejection_reasons"] == {"closed_at_invalid": 2}


def test_a_semicolon_delimited_csv_reads_like_a_comma_delimited_one(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        ["t1", "A", "2026-11-02T14:30:00Z", "1", "100", "1"],
        ["t2", "A", "2026-11-02T14:31:00Z", "-3", "100", "1"],
        ["t3", "B", "2026-11-02T15:00:00Z", "2", "100", "1"],
    ]
    args = ["weights", "--config", str(config), "--json", "--journal"]
    semicolons = write_csv(tmp_path / "semicolons.csv", rows, ";")
    status, out, err = run([*args, str(semicolons)], capsys)
    assert status == 0
    assert err == [
        "maestro: 3 rows read, closes from 2026-11-02 to 2026-11-02",
        "maestro: A: 2 rows; of the 2 most recent closed, 2 used, 0 rejected",
        "maestro: B: 1 rows; of the 1 most recent closed, 1 used, 0 rejected",
    ]
    assert out == run([*args, str(write_csv(tmp_path / "commas.csv", rows))], capsys)[1]
    # a decimal comma, as a semicolon-delimited export writes it, is never guessed at
    decimal_comma = write_csv(tmp_path / "eu.csv", [[*rows[0][:3], "1,5", "100", "1"]], ";")
    status, _, err = run(
        ["weights", "--config", str(config), "--journal", str(decimal_comma)], capsys
    )
    assert (
        "maestro: A: 1 rows; of the 1 most recent closed, 0 used, 1 rejected (amount_format 1)"
        in err
    )


# --- a CSV and a JSON of the same trades, each written with any accepted variation -----------

T0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
# minutes after T0, often near midnight UTC (an offset moves such a close to another day)
MINUTES = st.builds(
    lambda day, minute: day * 1440 + minute,
    st.integers(0, 6),
    st.sampled_from([0, 59, 60, 720, 1379, 1380, 1439]) | st.integers(0, 1439),
)
TRADES = st.lists(
    st.tuples(
        st.sampled_from(["A", "B", "C"]),  # C is not configured
        st.one_of(MINUTES, st.sampled_from(["02/11/2026", "epoch", "open"])),
        st.sampled_from(["1", "-2.5", "3", "0", "x", "7.25", "1,234.50"]),
        st.sampled_from(["100", "37.5", "-1"]),
    ),
    min_size=1,
    max_size=14,
)
CSV_STAMPS = {
    "z": lambda moment: moment.isoformat().replace("+00:00", "Z"),
    "offset": lambda moment: moment.isoformat(),
    "naive": lambda moment: moment.replace(tzinfo=None).isoformat(),  # UTC
    "paris": lambda moment: moment.astimezone(dt.timezone(dt.timedelta(hours=1))).isoformat(),
}
JSON_STAMPS = {
    "z": CSV_STAMPS["z"],
    "paris": CSV_STAMPS["paris"],
    "admin": lambda moment: {"_seconds": int(moment.timestamp()), "_nanoseconds": 0},
    "rest": lambda moment: {"seconds": int(moment.timestamp()), "nanos": 0},
}


def cli_output(path: Path, config: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["weights", "--journal", str(path), "--config", str(config), "--json"])
    return status, out.getvalue(), err.getvalue().replace(str(path), "FILE")


@settings(max_examples=60, deadline=None)
@given(
    trades=TRADES,
    delimiter=st.sampled_from([",", ";", "\t"]),
    boms=st.tuples(st.booleans(), st.booleans()),
    csv_order=st.permutations(COLUMNS),
    json_order=st.permutations(COLUMNS),
    padded=st.booleans(),
    csv_stamp=st.sampled_from(sorted(CSV_STAMPS)),
    json_stamp=st.sampled_from(sorted(JSON_STAMPS)),
    numbers=st.booleans(),
    lookback=st.integers(2, 6),
)
def test_a_csv_and_a_json_of_the_same_trades_give_the_same_output(
    tmp_path_factory: pytest.TempPathFactory,
    trades: list[tuple[str, int | str, str, str]],
    delimiter: str,
    boms: tuple[bool, bool],
    csv_order: list[str],
    json_order: list[str],
    padded: bool,
    csv_stamp: str,
    json_stamp: str,
    numbers: bool,
    lookback: int,
) -> None:
    directory = tmp_path_factory.mktemp("variants")
    config = directory / "config.json"
    config.write_text(json.dumps({"agent_ids": ["A", "B"], "lookback_trades": lookback}))
    csv_rows, json_rows = [], []
    for i, (agent, when, pnl, price) in enumerate(trades):
        csv_row = {"trade_id": f"t{i}", "agent_id": agent, "realized_pnl": pnl}
        csv_row |= {"entry_price": price, "quantity": "1"}
        json_row: dict[str, Any] = dict(csv_row)
        if numbers and pnl not in ("x", "1,234.50"):  # amounts as JSON numbers
            json_row |= {"realized_pnl": _number(pnl), "entry_price": _number(price), "quantity": 1}
        if isinstance(when, int):
            moment = T0 + dt.timedelta(minutes=when)
            csv_row["closed_at"] = CSV_STAMPS[csv_stamp](moment)
            json_row["closed_at"] = JSON_STAMPS[json_stamp](moment)
        elif when == "epoch":  # a bare number: never guessed, in a cell or as a JSON number
            csv_row["closed_at"], json_row["closed_at"] = "1762093800000", 1762093800000
        elif when == "open":
            csv_row["closed_at"], json_row["closed_at"] = "", None
        else:
            csv_row["closed_at"] = json_row["closed_at"] = when
        csv_rows.append(csv_row)
        json_rows.append({column: json_row[column] for column in json_order})
    header = [f" {column} " if padded else column for column in csv_order]
    lines = [delimiter.join(header)]
    lines += [delimiter.join(_cell(row[c], delimiter) for c in csv_order) for row in csv_rows]
    csv_path, json_path = directory / "trades.csv", directory / "trades.json"
    csv_path.write_bytes(("\ufeff" if boms[0] else "").encode() + "\n".join(lines).encode())
    json_path.write_bytes(("\ufeff" if boms[1] else "").encode() + json.dumps(json_rows).encode())
    assert cli_output(csv_path, config) == cli_output(json_path, config)


def _cell(value: str, delimiter: str) -> str:
    return f'"{value}"' if delimiter in value else value


def _number(text: str) -> int | float:
    return int(text) if text.lstrip("-").isdigit() else float(text)
