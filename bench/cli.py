"""The CLI as a whole process on a 200-agent x 1000-trade JSON journal (34 MB), beside a plain
implementation of the first version's weighting with no validation (bench/plain_engine.py),
alternating, 5 runs each (the CLI with its table, and with --json); and where the CLI's time
goes (imports, reading and decoding the file, a journal entry per row, duplicate ids, ordering
and building the selected trades, the engine, the load summary, the table or the JSON), timed
in one process with the cyclic collector off, as the CLI runs.

Run: functions/venv/bin/python bench/cli.py (make bench runs it)."""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))
sys.path.insert(0, str(ROOT))

from bench.stats import save, summarize  # noqa: E402

AGENTS, TRADES = 200, 1000
T0 = dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)
SPLIT = """
import json, sys, time
started = time.perf_counter()
from pathlib import Path
from maestro.cli import load_config_file, without_cycle_collection
from maestro.journal import ClosedAtOrder, select_agent_trades
from maestro.journal_file import load_journal_file
from maestro.load_summary import deduplicated, summarize_load
from maestro.weighting import weights_from_trades
# As the CLI runs (the output too, here). Kept in a name: a generator context manager left to
# be freed closes its generator, whose finally would turn the collector back on at once.
collector_off = without_cycle_collection()
collector_off.__enter__()
split, last = {}, [started]
def lap(step):
    now = time.perf_counter()
    split[step], last[0] = (now - last[0]) * 1000, now
lap("imports")
decoding = []
def timed_loads(*args, decode=json.loads, **kwargs):  # load_journal_file's json.loads, timed
    begun = time.perf_counter()
    try:
        return decode(*args, **kwargs)
    finally:
        decoding.append((time.perf_counter() - begun) * 1000)
json.loads = timed_loads
config = load_config_file(Path(sys.argv[2]))
entries = load_journal_file(Path(sys.argv[1]))
lap("read_and_entries")
split["decode_json"] = sum(decoding)
split["read_and_entries"] -= split["decode_json"]  # reading the file, a journal entry a row
entries, duplicates = deduplicated(entries)
lap("deduplicate")
order = ClosedAtOrder.TIMESTAMPS_ONLY
selected = select_agent_trades(entries, config.agent_ids, config.lookback_trades, order)
lap("select_and_build_trades")
result = weights_from_trades(selected, config)
lap("engine")
summary = summarize_load(entries, duplicates, config.agent_ids, order)
lap("load_summary")
result.render_table(summary.footnotes())
lap("table")
json.dumps({**result.to_json_dict(), "load": summary.to_json_dict(result)}, indent=2)
lap("json_output")  # --json instead of the table: every diagnostic of every agent
print(json.dumps(split))
"""


def write_journal(directory: Path) -> tuple[Path, Path]:
    rng = random.Random(1)
    rows = [
        {
            "trade_id": f"A{a:03d}-{i}",
            "agent_id": f"Agent{a:03d}",
            "symbol": "SPY",
            "closed_at": (T0 + dt.timedelta(hours=6 * i)).isoformat().replace("+00:00", "Z"),
            "realized_pnl": str(rng.randint(-5000, 8000) / 100),
            "entry_price": str(rng.randint(2000, 90000) / 100),
            "quantity": str(rng.randint(1, 50)),
        }
        for a in range(AGENTS)
        for i in range(TRADES)
    ]
    journal, config = directory / "journal.json", directory / "config.json"
    journal.write_text(json.dumps(rows))
    agent_ids = [f"Agent{a:03d}" for a in range(AGENTS)]
    config.write_text(
        json.dumps({"agent_ids": agent_ids, "lookback_trades": TRADES, "min_floor_weight": "0"})
    )
    return journal, config


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        command,
        cwd=ROOT / "functions",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # the CLI's load summary: 200 lines a run on the terminal
        check=True,
    )
    return (time.perf_counter() - started) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        journal, config = write_journal(Path(scratch))
        maestro = [
            sys.executable,
            "-m",
            "maestro",
            "weights",
            "--journal",
            str(journal),
            "--config",
            str(config),
        ]
        plain = [sys.executable, str(ROOT / "bench" / "plain_engine.py"), str(journal), str(config)]
        cli_ms, json_ms, plain_ms = [], [], []
        for _ in range(5):  # alternating, so all see the same machine
            cli_ms.append(timed(maestro))  # the table: the diagnostics are never worked out
            json_ms.append(timed([*maestro, "--json"]))  # every diagnostic of 200 agents
            plain_ms.append(timed(plain))
        split = json.loads(
            subprocess.run(
                [sys.executable, "-c", SPLIT, str(journal), str(config)],
                cwd=ROOT / "functions",
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
    cli, cli_json, base = summarize(cli_ms), summarize(json_ms), summarize(plain_ms)
    results = {
        "journal": f"{AGENTS} agents x {TRADES} trades, JSON",
        "cli": cli,
        "cli_json": cli_json,
        "plain": base,
        "ratio_median": round(cli["median_ms"] / base["median_ms"], 3),
        "ratio_median_json": round(cli_json["median_ms"] / base["median_ms"], 3),
        "cli_split_ms": {step: round(ms, 1) for step, ms in split.items()},
    }
    print(json.dumps(results, indent=1))
    print("wrote", save("cli", results))


if __name__ == "__main__":
    main()
