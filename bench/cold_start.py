"""Cold start: the time to import functions/main.py in a fresh interpreter (what an instance
pays before its first request), against a bare interpreter, and the heaviest imports.
Run: functions/venv/bin/python bench/cold_start.py"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.stats import save, summarize  # noqa: E402

RUNS = 25
PYTHON = str(ROOT / "functions" / "venv" / "bin" / "python")


def timed(code: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [PYTHON, "-c", code],
        cwd=ROOT / "functions",
        check=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    return (time.perf_counter() - started) * 1000


def main() -> None:
    timed("import main")  # compile bytecode once, as a deployed instance has it
    bare = summarize([timed("pass") for _ in range(RUNS)])
    with_main = summarize([timed("import main") for _ in range(RUNS)])
    trace = subprocess.run(
        [PYTHON, "-X", "importtime", "-c", "import main"],
        cwd=ROOT / "functions",
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    cumulative = []
    for line in trace.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if match and len(match.group(2)) == 3:  # what main imports directly, with their children
            cumulative.append((int(match.group(1)) / 1000, match.group(3)))
    heaviest = sorted(cumulative, reverse=True)[:10]
    result = {
        "bare_interpreter": bare,
        "import_main": with_main,
        "import_main_minus_bare_median_ms": round(with_main["median_ms"] - bare["median_ms"], 1),
        "heaviest_imports_cumulative_ms": [{"module": m, "ms": round(ms, 1)} for ms, m in heaviest],
    }
    print(result)
    print("wrote", save("cold_start", result))


if __name__ == "__main__":
    main()
