"""The journal file read on the machine's other core while the CLI's modules load: `python -m
maestro weights --journal FILE` spends about 45 ms importing, and reading a 34 MB journal takes
18 ms more, most of it in the kernel, which holds no interpreter lock. __main__ starts the read;
the typed path (typed_journal) takes the bytes. Only `weights` with `--journal FILE` or
`--journal=FILE` written out in full is read early: argparse still decides what the command
line means, and bytes read early that the run does not ask for are dropped. Only a regular
file is read early: a pipe or a terminal is read once, when the run asks for it (a run that
fails before, on its config or its arguments, must leave a pipe's data to its next reader).
When no thread can be started (a process limit), nothing is read early."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path
from typing import Final

_ARGUMENT: Final = "--journal"
_STACK_BYTES: Final = 256 * 1024  # a read needs little: the default 8 MB counts against ulimit -v


class _EarlyRead:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: bytes | None = None
        self.thread = threading.Thread(target=self._read, name="maestro-early-read", daemon=True)

    def _read(self) -> None:
        try:
            if stat.S_ISREG(os.stat(self.path).st_mode):
                self.data = self.path.read_bytes()
        except Exception:  # MemoryError too: read again when asked for, that read says why
            self.data = None


_early: list[_EarlyRead] = []  # at most one: the process's journal file


def read_journal_early(argv: list[str]) -> None:
    """Start reading the file `weights` will read as its journal (argv: no program name)."""
    path = _journal_argument(argv)
    if path is None or path.suffix.lower() == ".csv":  # the typed path reads JSON
        return
    early = _EarlyRead(path)
    stack = threading.stack_size(_STACK_BYTES)
    try:
        early.thread.start()
    except RuntimeError:  # can't start new thread: the run reads the file itself
        return
    finally:
        threading.stack_size(stack)
    _early.append(early)


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
