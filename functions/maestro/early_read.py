"""The journal file read on the machine's other core while the CLI's modules load: `python -m
maestro weights --journal FILE` spends about 45 ms importing, and reading a 34 MB journal takes
18 ms more, most of it in the kernel, which holds no interpreter lock. __main__ starts the read;
the typed path (typed_journal) takes the bytes. Only `weights` with `--journal FILE` or
`--journal=FILE` written out in full is read early: argparse still decides what the command
line means, and bytes read early that the run does not ask for are dropped."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Final

_ARGUMENT: Final = "--journal"


class _EarlyRead:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: bytes | None = None
        self.thread = threading.Thread(target=self._read, name="maestro-early-read", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            self.data = self.path.read_bytes()
        except OSError:  # read again when asked for: that read says what is wrong
            self.data = None


_early: list[_EarlyRead] = []  # at most one: the process's journal file


def read_journal_early(argv: list[str]) -> None:
    """Start reading the file `weights` will read as its journal (argv: no program name)."""
    path = _journal_argument(argv)
    if path is not None and path.suffix.lower() != ".csv":  # the typed path reads JSON
        _early.append(_EarlyRead(path))


def _journal_argument(argv: list[str]) -> Path | None:
    """The journal argument as argparse makes it a Path, when `weights` is given exactly one."""
    if not argv or argv[0] != "weights":
        return None
    given = []
    for at, argument in enumerate(argv):
        if argument == _ARGUMENT and at + 1 < len(argv):
            given.append(argv[at + 1])
        elif argument.startswith(_ARGUMENT + "="):
            given.append(argument[len(_ARGUMENT) + 1 :])
    return Path(given[0]) if len(given) == 1 else None


def journal_bytes(path: Path) -> bytes:
    """The file's bytes: those read early when that read was of this path and succeeded;
    otherwise read now."""
    if _early:
        early = _early.pop()
        early.thread.join()
        if early.path == path and early.data is not None:
            return early.data
    return path.read_bytes()
