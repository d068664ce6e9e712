"""`maestro evaluate`: the table and the JSON on the sample journal and its policies, and exit
status 2 with one line for every kind of bad input."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from maestro.cli import main

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "examples" / "sample_journal.json"
POLICIES = ROOT / "examples" / "policies.json"
SCORED = ["--start", "2026-09-02"]  # SectorRotation trades only on the sample's last day


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as stopped:
        sys.exit(main(args))
    captured = capsys.readouterr()
    return int(stopped.value.code or 0), captured.out, captured.err


def evaluate_args(*extra: str) -> list[str]:
    return ["evaluate", "--journal", str(SAMPLE), "--policies", str(POLICIES), *extra]


def test_the_table_ranks_by_sharpe_and_marks_the_baselines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = run(evaluate_args(*SCORED), capsys)
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "MAESTRO WALK-FORWARD EVALUATION"
    assert "scored 2026-09-02 to 2026-09-10 (9 days)" in lines[1]
    rows = lines[4 : 4 + 7 + 2]
    names = [row.split()[0] for row in rows]
    policies = json.loads(POLICIES.read_text())
    assert set(names) == {*policies, "equal_weight", "seed_default"}
    assert any(row.startswith("equal_weight *") for row in rows)
    sharpes = [Decimal(row.split("%")[2].split()[0]) for row in rows]
    assert sharpes == sorted(sharpes, reverse=True)
    assert "deflated Sharpe ratio of the best" in out


def test_json_carries_every_figure_and_the_daily_series(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = run(evaluate_args(*SCORED, "--json", "--rebalance-days", "2"), capsys)
    assert status == 0
    payload = json.loads(out)
    assert payload["scoring"] == {"start": "2026-09-02", "end": "2026-09-10", "days": 9}
    assert payload["rebalance_days"] == 2 and payload["return_basis"] == "notional"
    equal = payload["policies"]["equal_weight"]
    assert equal["baseline"] is True and equal["config"] is None
    assert len(equal["daily"]) == 9
    agents = payload["policies"]["seed_default"]["config"]["agent_ids"]
    assert set(equal["daily"][0]["held"]) == set(agents)
    assert all(isinstance(v, str) for v in equal["figures"].values() if v not in (None, 9))
    equity = Decimal(1)
    for day in payload["policies"]["hrp"]["daily"]:
        equity *= 1 + Decimal(day["return"])
    total = Decimal(payload["policies"]["hrp"]["figures"]["total_return"])
    assert abs(equity - 1 - total) < Decimal("1e-9")
    assert payload["ranking"][0] == payload["deflated_sharpe"]["best"]


@pytest.mark.parametrize(
    ("policies", "extra", "message"),
    [
        ("{", [], "maestro: policies "),
        ('{"equal_weight": {}}', [], "maestro: policies.equal_weight: a baseline"),
        ('{"a": {"temperature": "0"}}', [], "maestro: policies.a.temperature"),
        ('{"a": {}}', [], "pass an earlier --start"),
        ('{"a": {}}', ["--start", "2027-01-01"], "no date to score"),
        ('{"a": {}}', ["--rebalance-days", "0"], "rebalance-days: must be from 1 to 365"),
        ('{"a": {}}', ["--start", "yesterday"], "not a date"),
        ('{"a": {}}', ["--risk-free-rate", "2"], "risk-free-rate"),
        ('{"a": {"agent_ids": ["Nobody"]}}', [], "no valid closed trade of the configured"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    policies: str,
    extra: list[str],
    message: str,
) -> None:
    path = tmp_path / "policies.json"
    path.write_text(policies)
    status, out, err = run(
        ["evaluate", "--journal", str(SAMPLE), "--policies", str(path), *extra], capsys
    )
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err


def test_plots_are_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(evaluate_args(*SCORED, "--plots", str(tmp_path / "plots")), capsys)
    assert status == 0
    written = sorted(path.name for path in (tmp_path / "plots").iterdir())
    policies = json.loads(POLICIES.read_text())
    expected = {f"weights_{name}.png" for name in [*policies, "equal_weight", "seed_default"]}
    assert set(written) == {"equity.png", "drawdowns.png", *expected}
    assert all((tmp_path / "plots" / name).read_bytes().startswith(b"\x89PNG") for name in written)
    assert err.strip() == f"maestro: {len(written)} plots in {tmp_path / 'plots'}"


def test_the_readme_shows_what_make_evaluate_prints(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (ROOT / "README.md").read_text()
    shown = readme.split("`make evaluate` prints")[1].split("```\n")[1]
    status, out, _ = run(evaluate_args(*SCORED), capsys)
    assert status == 0 and out == shown
