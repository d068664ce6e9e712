"""The journal file read early (maestro/early_read.py): which argument is read, that the run
takes those bytes only for the same path, and that a process run answers as before."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from maestro import early_read
from maestro.early_read import journal_bytes, read_journal_early

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample_journal.json"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["weights", "--journal", "a.json"], Path("a.json")),
        (["weights", "--config", "c.json", "--journal=./b//c.json"], Path("b/c.json")),
        (["weights", "--journal", "a.json", "--journal", "b.json"], None),  # argparse decides
        (["weights", "--journal"], None),
        (["weights", "--jour", "a.json"], None),  # abbreviations: not guessed
        (["evaluate", "--journal", "a.json"], None),
        ([], None),
    ],
)
def test_only_a_weights_journal_written_out_is_read_early(
    argv: list[str], expected: Path | None
) -> None:
    assert early_read._journal_argument(argv) == expected


def test_the_run_takes_the_early_bytes_of_its_own_journal_only(tmp_path: Path) -> None:
    journal, other = tmp_path / "journal.json", tmp_path / "other.json"
    journal.write_bytes(b"[1]")
    other.write_bytes(b"[2]")
    read_journal_early(["weights", "--journal", str(journal)])
    early_read._early[0].thread.join()
    journal.write_bytes(b"[3]")  # written since: the early bytes are what the run reads
    assert journal_bytes(journal) == b"[1]"
    assert not early_read._early
    read_journal_early(["weights", "--journal", str(journal)])
    reader = early_read._early[0].thread
    assert journal_bytes(other) == b"[2]"  # another path: read now, the early bytes dropped
    assert not early_read._early and not reader.is_alive()
    assert journal_bytes(journal) == b"[3]"  # nothing read early: read now


def test_an_early_read_that_fails_is_read_again_and_says_why(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    read_journal_early(["weights", "--journal", str(missing)])
    with pytest.raises(FileNotFoundError):
        journal_bytes(missing)
    read_journal_early(["weights", "--journal", str(tmp_path / "journal.csv")])
    assert not early_read._early  # the typed path never reads a CSV journal


def test_a_run_that_read_early_answers_as_one_that_did_not_and_leaves_no_thread() -> None:
    # As __main__ runs it: the early read started before the CLI's modules load.
    code = """
import contextlib, io, sys, threading
from maestro.early_read import read_journal_early
read_journal_early(sys.argv[1:])
from maestro import cli
status = cli.main(sys.argv[1:])
print(threading.active_count(), status, file=sys.stderr)
"""
    args = ["weights", "--journal", str(SAMPLE), "--json"]
    early = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT / "functions",
        capture_output=True,
        text=True,
        check=True,
    )
    process = subprocess.run(  # python -m maestro reads early too; this run does not
        [sys.executable, "-c", "import sys; from maestro import cli; sys.exit(cli.main())", *args],
        cwd=ROOT / "functions",
        capture_output=True,
        text=True,
        check=True,
    )
    assert early.stderr.splitlines()[-1] == "1 0"  # the reader joined: one thread, status 0
    assert early.stdout == process.stdout and process.stdout.startswith("{")


def test_a_pipe_is_never_read_early(tmp_path: Path) -> None:
    # A run that fails on its config must leave a pipe's data to its next reader: only a
    # regular file is read early (opening a FIFO would even wait for a writer).
    fifo = tmp_path / "journal.json"
    os.mkfifo(fifo)
    read_journal_early(["weights", "--journal", str(fifo)])
    early = early_read._early.pop()
    early.thread.join(timeout=5)
    assert not early.thread.is_alive() and early.data is None


def test_no_thread_to_be_had_means_no_early_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refused)
    journal = tmp_path / "journal.json"
    journal.write_bytes(b"[]")
    read_journal_early(["weights", "--journal", str(journal)])  # no error: nothing read early
    assert not early_read._early and journal_bytes(journal) == b"[]"
