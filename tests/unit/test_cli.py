"""The offline CLI: outputs, and exit status 2 with one line for every kind of bad input."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from maestro.cli import main
from maestro.journal_file import load_journal_file

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample_journal.json"

CSV_JOURNAL = """trade_id,agent_id,closed_at,realized_pnl,entry_price,quantity
t1,A,2026-11-02T14:30:00Z,1,100,1
t2,A,2026-11-02T14:31:00Z,3,100,1
t3,B,2026-11-02T14:32:00Z,2,100,1
t4,B,2026-11-02T14:33:00+00:00,4,100,1
t5,B,,9,100,1
t6,A,2026-11-02T14:34:00Z,,100,1
"""


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as stopped:
        sys.exit(main(args))
    captured = capsys.readouterr()
    return int(stopped.value.code or 0), captured.out, captured.err


def test_table_on_the_sample_journal(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["weights", "--journal", str(SAMPLE), "--quiet"], capsys)
    # --quiet leaves the warnings: the sample has an agent that is not configured
    assert status == 0
    assert err == "maestro: warning: 1 agent id(s) in the file not configured: 'MomentumAgentV0'\n"
    # Each weight explained: the score's name and unit, trades used / rejected, the mean return,
    # the status in plain words and why; thin evidence marked; what was ignored; the dates.
    assert [line.split("  ") for line in out.splitlines()] == [
        line.split("  ")
        for line in [
            "MAESTRO AGENT WEIGHTS",
            "Agent            Weight  Sharpe per trade  Used / rejected  Mean per trade  Status"
            "         Why",
            "-" * 113,
            "SentimentAgent   46.26%            0.3521           98 / 2           0.54%  scored"
            "         softmax share",
            "WhaleFlowAgent   43.74%            0.2959           97 / 3           0.64%  scored"
            "         softmax share",
            "GammaScalper      5.00%           -0.0920           90 / 2          -0.76%  scored"
            "         floor: negative Sharpe",
            "SectorRotation    5.00%            0.0000          1 / 0 *           0.13%  1 valid"
            " trade  floor: 1 trade only",
            "-" * 113,
            "Total           100.00%",
            "* thin evidence: fewer than 10 valid trades",
            "ignored: 'MomentumAgentV0' (5 rows), not in agent_ids",
            "closes from 2026-09-01 to 2026-09-10",
        ]
    ]


def test_json_output_shape(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["weights", "--journal", str(SAMPLE), "--json"], capsys)
    payload = json.loads(out)
    assert status == 0
    assert set(payload["weights"]) == {
        "WhaleFlowAgent",
        "SentimentAgent",
        "GammaScalper",
        "SectorRotation",
    }
    assert sum(Decimal(w) for w in payload["weights"].values()) == 1
    agent = payload["agents"]["SectorRotation"]
    assert agent["status"] == "insufficient_data" and agent["trades_used"] == 1
    # the sample holds malformed rows; they are counted, not fatal
    assert sum(a["trades_rejected"] for a in payload["agents"].values()) == 7
    assert payload["config"]["risk_free_rate"] == "0.04"


def test_the_table_with_engine_v2_options(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "config.json"
    config.write_text('{"score": "psr", "allocator": "hrp", "target_volatility": "0.2"}')
    status, out, _ = run(["weights", "--journal", str(SAMPLE), "--config", str(config)], capsys)
    lines = out.splitlines()
    assert status == 0
    # the sample spans 6 days: too few for hrp, which falls back, and says so
    assert lines[1] == "score: psr, allocator: hrp, fell back to inverse_volatility"
    assert [cell.strip() for cell in lines[2].split("  ") if cell] == [
        "Agent",
        "Weight",
        "Sharpe per trade",
        "Score: PSR (probability)",
        "Used / rejected",
        "Mean per trade",
        "Status",
        "Why",
    ]
    # the shares come from inverse volatility, the allocator that ran
    assert "inverse-volatility share" in out
    assert any(line.startswith("exposure (target_volatility): ") for line in lines)
    status, out, _ = run(
        ["weights", "--journal", str(SAMPLE), "--config", str(config), "--json"], capsys
    )
    payload = json.loads(out)
    assert Decimal(payload["exposure"]) > 0
    sentiment = payload["agents"]["SentimentAgent"]
    assert sentiment["score_method"] == "psr" and sentiment["allocator"] == "inverse_volatility"
    assert sentiment["fallbacks"] == [
        "hrp: fewer than 20 days on which every performer is defined, so inverse_volatility"
    ]
    # the score keeps 28 digits; the diagnostics 12 (they describe, they do not allocate)
    assert Decimal(sentiment["diagnostics"]["psr"]) == round(Decimal(sentiment["score"]), 12)


def test_csv_and_json_journals_give_the_same_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_path = tmp_path / "journal.csv"
    csv_path.write_text(CSV_JOURNAL)
    rows = [
        {
            "trade_id": "t1",
            "agent_id": "A",
            "closed_at": "2026-11-02T14:30:00Z",
            "realized_pnl": "1",
            "entry_price": "100",
            "quantity": "1",
        },
        {
            "trade_id": "t2",
            "agent_id": "A",
            "closed_at": "2026-11-02T14:31:00Z",
            "realized_pnl": 3,
            "entry_price": 100,
            "quantity": 1,
        },
        {
            "trade_id": "t3",
            "agent_id": "B",
            "closed_at": "2026-11-02T14:32:00Z",
            "realized_pnl": "2",
            "entry_price": "100",
            "quantity": "1",
        },
        {
            "trade_id": "t4",
            "agent_id": "B",
            "closed_at": "2026-11-02T14:33:00+00:00",
            "realized_pnl": "4",
            "entry_price": "100",
            "quantity": "1",
        },
        {
            "trade_id": "t5",
            "agent_id": "B",
            "closed_at": None,
            "realized_pnl": "9",
            "entry_price": "100",
            "quantity": "1",
        },
        {
            "trade_id": "t6",
            "agent_id": "A",
            "closed_at": "2026-11-02T14:34:00Z",
            "entry_price": "100",
            "quantity": "1",
        },
    ]
    json_path = tmp_path / "journal.json"
    json_path.write_text(json.dumps(rows))
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps({"agent_ids": ["A", "B"], "risk_free_rate": 0}))
    outputs = []
    for path in (csv_path, json_path):
        status, out, _ = run(
            ["weights", "--journal", str(path), "--config", str(config_path), "--json"], capsys
        )
        assert status == 0
        outputs.append(json.loads(out))
    assert outputs[0] == outputs[1]
    assert outputs[0]["agents"]["A"]["rejection_reasons"] == {"realized_pnl_missing": 1}
    assert outputs[0]["agents"]["B"]["trades_used"] == 2  # the open trade is ignored


@pytest.mark.parametrize(
    ("journal_text", "suffix", "config_text", "message"),
    [
        (None, ".json", None, "cannot read"),
        ("[{", ".json", None, "malformed JSON at line 1"),
        ('{"trades": []}', ".json", None, "expected a JSON array"),
        ("[1, 2]", ".json", None, "entry 0 is not a JSON object"),
        ("agent_id,realized_pnl\nA,1\n", ".csv", None, "lacks column(s) closed_at"),
        ("agent_id,closed_at\nA,2026-01-01,extra\n", ".csv", None, "more cells than the header"),
        ('agent_id,closed_at\n"A,2026\n', ".csv", None, "malformed CSV"),
        ("", ".csv", None, "empty CSV"),
        (
            "[]",
            ".json",
            '{"lookback_trades": 1}',
            "invalid config: lookback_trades: must be from 2",
        ),
        ("[]", ".json", '{"bogus": 1}', "invalid config: bogus: unknown option"),
        ("[]", ".json", "{not json", "invalid config: config:"),
        ("\xff\xfe", ".json", None, "cannot read"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    journal_text: str | None,
    suffix: str,
    config_text: str | None,
    message: str,
) -> None:
    journal = tmp_path / f"journal{suffix}"
    if journal_text is not None:
        journal.write_bytes(journal_text.encode("latin-1"))
    args = ["weights", "--journal", str(journal)]
    if config_text is not None:
        (tmp_path / "config.json").write_text(config_text)
        args += ["--config", str(tmp_path / "config.json")]
    status, out, err = run(args, capsys)
    assert status == 2
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert message in err


def test_usage_errors_exit_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["weights"], capsys)
    assert status == 2
    assert len(err.splitlines()) == 1
    assert "--journal" in err


def test_module_entry_point_runs_without_a_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("[")
    completed = subprocess.run(
        [sys.executable, "-m", "maestro", "weights", "--journal", str(broken)],
        cwd=ROOT / "functions",
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert completed.stderr.startswith("maestro: journal ")


def test_the_load_summary_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["weights", "--journal", str(SAMPLE)], capsys)
    assert status == 0
    assert err.splitlines() == [
        "maestro: 346 rows read, closes from 2026-09-01 to 2026-09-10",
        "maestro: WhaleFlowAgent: 134 rows; of the 100 most recent closed, 97 used, 3 rejected"
        " (non_positive_capital 2, realized_pnl_invalid 1)",
        "maestro: SentimentAgent: 113 rows; of the 100 most recent closed, 98 used, 2 rejected"
        " (entry_price_invalid 1, entry_price_missing 1)",
        "maestro: GammaScalper: 92 rows; of the 92 most recent closed, 90 used, 2 rejected"
        " (realized_pnl_invalid 2)",
        "maestro: SectorRotation: 2 rows; of the 1 most recent closed, 1 used, 0 rejected",
        "maestro: not configured, ignored: 'MomentumAgentV0' (5 rows)",
        "maestro: warning: 1 agent id(s) in the file not configured: 'MomentumAgentV0'",
    ]


def test_duplicates_and_near_misses_are_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        {"trade_id": "t1", "agent_id": "A", "closed_at": "2026-11-02T14:30:00Z",
         "realized_pnl": "1", "entry_price": "100", "quantity": "1"},
        {"trade_id": "t2", "agent_id": "A", "closed_at": "2026-11-02T14:31:00Z",
         "realized_pnl": "3", "entry_price": "100", "quantity": "1"},
        {"trade_id": "t2", "agent_id": "A", "closed_at": "2026-11-02T14:31:00Z",
         "realized_pnl": "5", "entry_price": "100", "quantity": "1"},
        {"trade_id": "t3", "agent_id": "b ", "closed_at": "2026-11-03T09:00:00Z",
         "realized_pnl": "2", "entry_price": "100", "quantity": "1"},
    ]  # fmt: skip
    journal, config = tmp_path / "j.json", tmp_path / "c.json"
    journal.write_text(json.dumps(rows))
    config.write_text(json.dumps({"agent_ids": ["A", "B"]}))
    status, out, err = run(
        ["weights", "--journal", str(journal), "--config", str(config), "--json"], capsys
    )
    assert status == 0
    assert "maestro: 1 duplicate trade id(s): the later row kept" in err
    assert "maestro: not configured, ignored: 'b ' (1 rows); did you mean B?" in err
    payload = json.loads(out)
    assert payload["agents"]["A"]["trades_used"] == 2  # t2 once, its later row (5 %)
    assert Decimal(payload["agents"]["A"]["mean_return"]) == 3
    assert payload["load"]["duplicate_trade_ids"] == 1 and payload["load"]["rows"] == 4
    assert payload["load"]["not_configured"] == [{"agent_id": "b ", "rows": 1, "did_you_mean": "B"}]
    assert payload["load"]["agents"]["A"] == {
        "rows": 2,
        "used": 2,
        "rejected": {},
        "rejected_outside_lookback": {},
    }


def test_warnings_and_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A doubtful journal still gets the engine's answer and exit 0; --strict exits 3."""
    rows = [
        {"trade_id": f"t{i}", "agent_id": "A", "closed_at": f"2026-11-02T14:3{i}:00Z",
         "realized_pnl": pnl, "entry_price": "100", "quantity": "1"}
        for i, pnl in enumerate(["1", "x", "y", "2", "z"])
    ]  # fmt: skip
    journal, config = tmp_path / "j.json", tmp_path / "c.json"
    journal.write_text(json.dumps(rows))
    config.write_text(json.dumps({"agent_ids": ["A", "B"]}))
    args = ["weights", "--journal", str(journal), "--config", str(config), "--quiet"]
    status, out, err = run(args, capsys)
    assert status == 0 and "MAESTRO AGENT WEIGHTS" in out
    assert err.splitlines() == [
        "maestro: warning: A: 3 of its 5 most recent closed trades rejected (more than half)"
    ]
    status, _, _ = run([*args, "--strict"], capsys)
    assert status == 3
    status, out, _ = run([*args, "--json"], capsys)
    assert json.loads(out)["load"]["warnings"] == [
        "A: 3 of its 5 most recent closed trades rejected (more than half)"
    ]
    (tmp_path / "none.json").write_text(json.dumps([{**rows[1], "agent_id": "B"}]))
    status, _, err = run(
        ["weights", "--journal", str(tmp_path / "none.json"), "--config", str(config), "--quiet"],
        capsys,
    )
    assert "no configured agent has a usable trade: the weights rest on nothing" in err


def test_the_collector_is_back_on_after_weights(capsys: pytest.CaptureFixture[str]) -> None:
    # Off while a journal loads and the engine runs (cli.without_cycle_collection), on again
    # once the run's objects are freed, on an early exit too.
    for args in (["weights", "--journal", str(SAMPLE)], ["weights", "--journal", "missing.json"]):
        assert gc.isenabled()
        run(args, capsys)
        assert gc.isenabled()


def _process(
    args: list[str], stdout: int | None = subprocess.PIPE, **env: str
) -> subprocess.CompletedProcess[str]:
    """`python -m maestro ARGS` (cli.run_process), its streams block-buffered as a user's are
    (this environment may set PYTHONUNBUFFERED)."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"} | env
    return subprocess.run(
        [sys.executable, "-m", "maestro", *args],
        cwd=ROOT / "functions",
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        check=False,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["weights", "--journal", str(SAMPLE)],
        ["weights", "--journal", str(SAMPLE), "--json", "--strict"],
        ["weights", "--journal", str(SAMPLE), "--config", "missing.json"],
    ],
)
def test_the_process_writes_what_main_answers(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # run_process ends the process without freeing the run (os._exit): only once both streams
    # are flushed, so that nothing written is lost on the way out.
    ended = _process(args)
    assert (ended.returncode, ended.stdout, ended.stderr) == run(args, capsys)


@pytest.mark.parametrize(
    "args",
    [
        ["weights", "--journal", str(SAMPLE)],  # under the stream's 4 KiB buffer
        # 6 KB: a failed flush drops what it could not write, and a flush at exit would then
        # succeed and say nothing (exit 0 on a lost output)
        ["weights", "--journal", str(SAMPLE), "--json"],
    ],
)
def test_the_process_says_so_when_its_output_cannot_be_written(args: list[str]) -> None:
    # A full disk: the process ends as Python ends it when its last flush fails.
    with open("/dev/full", "w") as full:
        ended = _process(args, stdout=full.fileno())
    assert ended.returncode == 120
    assert ended.stderr.endswith(
        "Exception ignored in: <_io.TextIOWrapper name='<stdout>' mode='w' encoding='utf-8'>\n"
        "OSError: [Errno 28] No space left on device\n"
    )
    # A reader that has gone: the same, a broken pipe.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        ended = _process(args, stdout=write_end)
    finally:
        os.close(write_end)
    assert ended.returncode == 120
    assert ended.stderr.endswith("BrokenPipeError: [Errno 32] Broken pipe\n")


def test_the_process_ends_as_before_when_stdout_is_closed() -> None:
    # stdout closed when the process starts: nothing to write, nothing to report
    closed = subprocess.run(
        [sys.executable, "-m", "maestro", "weights", "--journal", str(SAMPLE), "--strict"],
        cwd=ROOT / "functions",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        preexec_fn=lambda: os.close(1),
    )
    assert closed.returncode == 3  # the sample's warning, --strict
    assert "warning: 1 agent id(s) in the file not configured" in closed.stderr


def test_weights_on_a_journal_file_leaves_nothing_for_the_interpreter_to_end(
    tmp_path: Path,
) -> None:
    # run_process skips the interpreter's own ending after `weights` on a journal file
    # (os._exit): that is only right while the command starts no thread, registers no atexit
    # handler and sets no logging up, on both paths.
    code = """
import atexit, contextlib, io, sys, threading
from maestro import cli
for journal in (sys.argv[1], sys.argv[2]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        cli.main(["weights", "--journal", journal, "--json"])
print(atexit._ncallbacks(), threading.active_count(), "logging" in sys.modules)
"""
    csv = tmp_path / "journal.csv"  # the exact path
    csv.write_text(CSV_JOURNAL)
    ended = subprocess.run(
        [sys.executable, "-c", code, str(SAMPLE), str(csv)],
        cwd=ROOT / "functions",
        capture_output=True,
        text=True,
        check=True,
    )
    assert ended.stdout.split() == ["0", "1", "False"]


def test_weights_does_not_import_what_only_evaluate_needs() -> None:
    # tqdm and the evaluation package were a third of the weights command's imports.
    code = (
        "import sys, maestro.cli;"
        " print(sorted(m for m in sys.modules if m.startswith(('tqdm', 'maestro.evaluation'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "functions",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert loaded.strip() == "[]"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[" * 5000 + "]" * 5000, "nested too deeply"),
        ('[{"trade_id": "a", "notes": ' + "9" * 5000 + "}]", "unreadable JSON"),
    ],
)
def test_json_python_cannot_read_is_one_line_and_exit_2(
    text: str, fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for kind in ("journal", "config"):
        path = tmp_path / f"{kind}.json"
        path.write_text(text, encoding="utf-8")
        args = ["weights", "--journal", str(path if kind == "journal" else SAMPLE)]
        args += ["--config", str(path)] if kind == "config" else []
        status, _, err = run(args, capsys)
        assert status == 2 and fragment in err and "Traceback" not in err, err
        assert len(err.strip().splitlines()) == 1


def test_a_closed_at_before_year_1_in_utc_is_rejected_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        {"trade_id": f"t{i}", "agent_id": "WhaleFlowAgent", "closed_at": closed_at}
        | {"realized_pnl": "1", "entry_price": "10", "quantity": "1"}
        for i, closed_at in enumerate(
            ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00", "2026-01-01T00:00:00Z"]
        )
    ]
    path = tmp_path / "journal.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    status, _, err = run(["weights", "--journal", str(path)], capsys)
    assert status == 0, err
    assert "closed_at_invalid 2" in err


def test_a_journal_piped_in_is_read_once_for_both_paths(tmp_path: Path) -> None:
    # The sample's amounts are numbers: the typed decoder refuses it and the exact path reads
    # it. From a pipe, that second read got nothing ("malformed JSON at line 1 column 1").
    def weights(journal: str, **stdin: bytes) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "maestro", "weights", "--journal", journal, "--json"],
            cwd=ROOT / "functions",
            capture_output=True,
            check=False,
            **stdin,  # type: ignore[arg-type]
        )

    piped = weights("/dev/stdin", input=SAMPLE.read_bytes())
    from_file = weights(str(SAMPLE))
    assert piped.returncode == from_file.returncode == 0
    assert piped.stdout == from_file.stdout and b'"weights"' in piped.stdout
    # and a CSV read from bytes already read is the file's text: line ends as open() reads them
    csv = tmp_path / "journal.csv"
    csv.write_bytes(
        b"trade_id,agent_id,closed_at,realized_pnl,entry_price,quantity\r\n"
        b't1,A,2026-01-01T00:00:00Z,"1\r\n2",100,1\rt2,A,2026-01-02T00:00:00Z,5,100,1\n'
    )
    assert load_journal_file(csv, data=csv.read_bytes()) == load_journal_file(csv)
    assert [entry.data["realized_pnl"] for entry in load_journal_file(csv)] == ["1\n2", "5"]
