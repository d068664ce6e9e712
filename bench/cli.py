"""The CLI as a whole process on a 200-agent x 1000-trade JSON journal (34 MB), beside a plain
implementation of the first version's weighting with no validation (bench/plain_engine.py),
alternating, ROUNDS runs each: the CLI with its table (the typed path: typed_journal), with
--json, the CLI's exact path (the row-by-row reading it takes for any journal the typed
decoder refuses), and the plain implementation; the ratios to the plain one are taken per
round. And where the time goes, for each path, timed in one process with the cyclic collector
off, as the CLI runs (medians of SPLIT_RUNS, alternating): the typed path's imports, reading
and decoding the file (msgspec), the columns (closed_at parsed, duplicate ids), ordering and
building the selected trades, the engine, the load summary, the table or the JSON; the exact
path's the same, with a journal entry per row and json's decoding.

Run: functions/venv/bin/python bench/cli.py [ROUNDS] (make bench runs it; 7 rounds)."""

from __future__ import annotations

import compileall
import datetime as dt
import json
import random
import statistics
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
ROUNDS, SPLIT_RUNS = 7, 5
T0 = dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)
# Both splits: the cycle collector off as the CLI runs (kept in a name: a generator context
# manager left to be freed closes its generator, whose finally would turn the collector back on
# at once), and lap(step), the milliseconds since the last lap.
LAPS = """
collector_off = without_cycle_collection()
collector_off.__enter__()
split, last = {}, [started]
def lap(step):
    now = time.perf_counter()
    split[step], last[0] = (now - last[0]) * 1000, now
"""
# Both splits, once the result and the load summary are built: the table, then what --json
# prints instead (every diagnostic of every agent), each timed.
OUTPUTS = """
result.render_table(summary.footnotes())
lap("table")
json.dumps({**result.to_json_dict(), "load": summary.to_json_dict(result)}, indent=2)
lap("json_output")  # --json instead of the table: every diagnostic of every agent
"""
TYPED_SPLIT = (
    """
import json, sys, time
started = time.perf_counter()
from pathlib import Path
from maestro.cli import load_config_file, without_cycle_collection
from maestro import typed_journal
from maestro.weighting import weights_from_trades
import msgspec  # read_typed_journal imports it on its first call
"""
    + LAPS
    + """
lap("imports")
config = load_config_file(Path(sys.argv[2]))
decoding = []
decoder = typed_journal._decoder(msgspec)
class TimedDecoder:  # read_typed_journal's msgspec decode, timed
    def decode(self, data):
        begun = time.perf_counter()
        try:
            return decoder.decode(data)
        finally:
            decoding.append((time.perf_counter() - begun) * 1000)
typed_journal._decoder = lambda msgspec: TimedDecoder()
journal = typed_journal.read_typed_journal(Path(sys.argv[1]), config.return_basis)
assert journal is not None, "the typed path refused the journal"
lap("read_and_columns")
split["decode_msgspec"] = sum(decoding)
split["read_and_columns"] -= split["decode_msgspec"]  # reading, columns, closed_at, duplicates
selected = typed_journal.select_typed_trades(journal, config.agent_ids, config.lookback_trades)
lap("select_and_build_trades")
result = weights_from_trades(selected, config)
lap("engine")
summary = typed_journal.summarize_typed(journal, config.agent_ids)
lap("load_summary")
"""
    + OUTPUTS
    + """
del journal, selected, result, summary
lap("freeing")  # what `python -m maestro` skips (cli.run_process)
print(json.dumps(split))
"""
)
EXACT_SPLIT = (
    """
import json, sys, time
started = time.perf_counter()
from pathlib import Path
from maestro.cli import load_config_file, without_cycle_collection
from maestro.journal import ClosedAtOrder, select_agent_trades
from maestro.journal_file import load_journal_file
from maestro.load_summary import deduplicated, summarize_load
from maestro.weighting import weights_from_trades
"""
    + LAPS
    + """
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
"""
    + OUTPUTS
    + """
del entries, selected, result, summary
lap("freeing")  # what `python -m maestro` skips (cli.run_process)
print(json.dumps(split))
"""
)
# The CLI's exact path, as `python -m maestro` runs it for a journal the typed decoder refuses.
EXACT = """
from maestro import cli
cli.read_typed_journal = lambda path, basis, data=None: None
cli.run_process()
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


def split_of(script: str, journal: Path, config: Path) -> dict[str, float]:
    return json.loads(
        subprocess.run(
            [sys.executable, "-c", script, str(journal), str(config)],
            cwd=ROOT / "functions",
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {step: round(statistics.median(run[step] for run in runs), 1) for step in runs[0]}


def ratios(numerators: list[float], denominators: list[float]) -> dict[str, float]:
    """Per round (the two ran within seconds of each other): median and range."""
    per_round = sorted(n / d for n, d in zip(numerators, denominators, strict=True))
    return {
        "median": round(statistics.median(per_round), 3),
        "min": round(per_round[0], 3),
        "max": round(per_round[-1], 3),
    }


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS
    # An installed CLI runs from its modules' bytecode (pip compiles it at install; a checkout
    # writes it on its first run). This machine sets PYTHONDONTWRITEBYTECODE, so without this
    # every timed run would compile Maestro's modules again (about 22 ms), where the plain
    # implementation imports only the standard library's, compiled at install.
    compileall.compile_dir(ROOT / "functions" / "maestro", quiet=1)
    with tempfile.TemporaryDirectory() as scratch:
        journal, config = write_journal(Path(scratch))
        weights = ["weights", "--journal", str(journal), "--config", str(config)]
        maestro = [sys.executable, "-m", "maestro", *weights]
        exact = [sys.executable, "-c", EXACT, *weights]
        plain = [sys.executable, str(ROOT / "bench" / "plain_engine.py"), str(journal), str(config)]
        cli_ms, json_ms, exact_ms, plain_ms = [], [], [], []
        for _ in range(rounds):  # alternating, so all see the same machine
            cli_ms.append(timed(maestro))  # the table: the diagnostics are never worked out
            json_ms.append(timed([*maestro, "--json"]))  # every diagnostic of 200 agents
            exact_ms.append(timed(exact))  # the table, by the exact path
            plain_ms.append(timed(plain))
        typed_runs, exact_runs = [], []
        for _ in range(SPLIT_RUNS):
            typed_runs.append(split_of(TYPED_SPLIT, journal, config))
            exact_runs.append(split_of(EXACT_SPLIT, journal, config))
    cli, cli_json, base = summarize(cli_ms), summarize(json_ms), summarize(plain_ms)
    results = {
        "journal": f"{AGENTS} agents x {TRADES} trades, JSON",
        "cli": cli,
        "cli_json": cli_json,
        "cli_exact_path": summarize(exact_ms),
        "plain": base,
        "ratio_median": round(cli["median_ms"] / base["median_ms"], 3),
        "ratio_median_json": round(cli_json["median_ms"] / base["median_ms"], 3),
        "ratio_per_round": ratios(cli_ms, plain_ms),
        "ratio_per_round_json": ratios(json_ms, plain_ms),
        "ratio_per_round_exact_path": ratios(exact_ms, plain_ms),
        "cli_split_ms": medians(typed_runs),
        "cli_exact_path_split_ms": medians(exact_runs),
    }
    print(json.dumps(results, indent=1))
    print("wrote", save("cli", results))


if __name__ == "__main__":
    main()
