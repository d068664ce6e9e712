"""Offline CLI: `python -m maestro weights (--journal FILE | --firestore-uid UID)
[--config FILE] [--json] [--quiet] [--strict]`, and `python -m maestro evaluate --journal FILE
--policies FILE [--json] [--plots DIR] [--rebalance-days N] [--start DATE]
[--return-basis notional|allocated] [--risk-free-rate R]` (evaluation/).

`weights --firestore-uid UID` reads that user's journal from Firestore with the functions' own
queries (firestore_io.read_agent_journals: each configured agent's last lookback_trades trades,
in Firestore's order): the emulator when FIRESTORE_EMULATOR_HOST is set, Application Default
Credentials otherwise; the project is GCLOUD_PROJECT or GOOGLE_CLOUD_PROJECT (without them,
the credentials' own; the emulator needs one). A file's trades are ordered by their timestamps
alone: a closed_at that is not one never takes a lookback slot (journal.ClosedAtOrder).

Bad input (unreadable file, malformed JSON or CSV, a missing column, invalid config, a
Firestore failure) exits with status 2 and one line on stderr naming the problem; never a
traceback. `weights` says what it read on stderr (load_summary.py); with --strict, a load
warning exits 3.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Final, NamedTuple, NoReturn

from .config import ConfigError, MaestroConfig, parse_decimal_option
from .early_read import journal_bytes
from .journal import ClosedAtOrder, JournalEntry
from .journal_file import JournalFileError, load_journal_file
from .load_summary import LoadSummary, deduplicated, summarize_load
from .methods import ReturnBasis
from .result import WeightsResult
from .typed_journal import read_typed_journal, select_typed_trades, summarize_typed
from .weighting import compute_weights, weights_from_trades

EXIT_BAD_INPUT = 2
EXIT_DOUBTFUL = 3  # --strict: the journal loaded, with warnings


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="maestro", description="Capital weights for trading agents.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)
    weights = commands.add_parser(
        "weights", help="compute weights from a trade journal file or a user's Firestore journal"
    )
    source = weights.add_mutually_exclusive_group(required=True)
    source.add_argument("--journal", type=Path, help="JSON array or CSV of trades")
    source.add_argument(
        "--firestore-uid",
        type=_uid,
        metavar="UID",
        help="read users/UID/tradeJournal from Firestore with the functions' own queries: the"
        " emulator when FIRESTORE_EMULATOR_HOST is set, Application Default Credentials"
        " otherwise; the project is GCLOUD_PROJECT or GOOGLE_CLOUD_PROJECT (needed with the"
        " emulator; else the credentials' own)",
    )
    weights.add_argument("--config", type=Path, help="JSON object of config options")
    weights.add_argument("--json", action="store_true", help="print the result as JSON")
    weights.add_argument(
        "--quiet", action="store_true", help="no load summary on stderr (--json carries it)"
    )
    weights.add_argument(
        "--strict", action="store_true", help=f"exit {EXIT_DOUBTFUL} on any load warning"
    )
    evaluate = commands.add_parser(
        "evaluate", help="replay allocation policies walk-forward on a trade journal file"
    )
    evaluate.add_argument("--journal", required=True, type=Path, help="JSON array or CSV")
    evaluate.add_argument(
        "--policies", required=True, type=Path, help="JSON object of named engine configs"
    )
    evaluate.add_argument("--json", action="store_true", help="print every figure as JSON")
    evaluate.add_argument("--plots", type=Path, metavar="DIR", help="write PNG plots there")
    evaluate.add_argument("--rebalance-days", type=int, default=1, metavar="N")
    evaluate.add_argument("--start", type=_date, metavar="DATE", help="first scored date")
    evaluate.add_argument(
        "--return-basis", choices=[basis.value for basis in ReturnBasis], default="notional"
    )
    evaluate.add_argument("--risk-free-rate", type=_rate, default=Decimal("0.04"), metavar="R")
    return parser


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _uid(text: str) -> str:
    if not text or "/" in text:
        raise argparse.ArgumentTypeError(f"not a user id (non-empty, no '/'): {text!r}")
    return text


def _rate(text: str) -> Decimal:
    try:
        rate = parse_decimal_option("risk-free-rate", text)
        MaestroConfig(risk_free_rate=rate)  # the engine's own bounds
    except ConfigError as error:
        raise argparse.ArgumentTypeError(error.problem) from None
    return rate


class _UnreadableJsonError(ValueError):
    """A JSON file that cannot be read; the message says why (the caller names the file)."""


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise _UnreadableJsonError(f"cannot read: {error.strerror or error}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _UnreadableJsonError(f"malformed JSON: {error}") from None
    except RecursionError:
        raise _UnreadableJsonError("JSON nested too deeply to read") from None
    except ValueError as error:  # an integer of more digits than Python converts (4,300)
        raise _UnreadableJsonError(f"unreadable JSON: {error}") from None


def load_config_file(path: Path | None) -> MaestroConfig:
    if path is None:
        return MaestroConfig()
    try:
        raw = _read_json(path)
    except _UnreadableJsonError as problem:
        raise ConfigError("config", f"{path}: {problem}") from None
    return MaestroConfig.from_mapping(raw)


@contextlib.contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Loading a journal allocates a few objects per row (dicts, tuples, Decimals), none of them
    in a reference cycle: reference counting frees them all. The cyclic collector would walk
    every live one again and again as they pile up, and find nothing (a third of the whole
    process at 200 agents x 1000 trades: docs/performance.md)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def main(argv: Sequence[str] | None = None) -> int:
    return _answer(build_parser().parse_args(argv))


def _answer(args: argparse.Namespace) -> int:
    if args.command == "evaluate":
        return _evaluate(args)
    # The run's objects are freed before the collector is back on: it never walks them (a
    # tenth of the whole process on a 200,000-row journal).
    with without_cycle_collection():
        status, run = _weights(args)
        del run
    return status


def run_process() -> NoReturn:
    """`python -m maestro` (__main__.py): main, as a process. `weights` on a journal file ends
    the process as soon as its whole output is written (os._exit), without freeing the run's
    rows, columns and trades one by one (60 ms at 200,000 rows: docs/performance.md 7): the
    operating system takes the memory back at once. Nothing else is skipped: that path starts
    no thread of its own and registers no atexit handler (tests/unit/test_cli.py; __main__'s
    early read of the journal, early_read.py, only reads, and has ended once the typed path
    took its bytes), and stdout and stderr are flushed here; when either cannot be (a closed
    pipe, a full disk), the process says so and exits 120, as Python does (_flushed_status).
    Never called in process (the tests, the bench's split): they call main."""
    args = build_parser().parse_args()
    if args.command != "weights" or args.journal is None:  # Firestore's client has threads
        gc.enable()  # off while __main__ imported this module
        sys.exit(_answer(args))
    gc.disable()  # for good: the run's objects are never freed, nor walked
    status, _run = _weights(args)
    os._exit(_flushed_status(status))


# What the interpreter does when its own last flush of stdout fails: it says so on stderr and
# exits 120. Done here rather than left to it: a flush that failed may have dropped what it
# could not write (4-8 KiB pending), and the interpreter's flush would then succeed and say
# nothing, exit 0 on a truncated output.
_FLUSH_FAILED: Final = 120


def _flushed_status(status: int) -> int:
    """The exit status once stdout and stderr are flushed: `status`, or 120 and Python's own
    message when either cannot be (a full disk, a closed pipe). A stream closed when the
    process started is None: nothing was written to it."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except (OSError, ValueError) as error:  # ValueError: closed since
        with contextlib.suppress(OSError, ValueError):
            if sys.stderr is not None:
                sys.stderr.write(
                    f"Exception ignored in: {sys.stdout!r}\n{type(error).__name__}: {error}\n"
                )
                sys.stderr.flush()
        return _FLUSH_FAILED
    try:
        if sys.stderr is not None:
            sys.stderr.flush()
    except (OSError, ValueError):
        return _FLUSH_FAILED
    return status


def _weights(args: argparse.Namespace) -> tuple[int, object]:
    """`weights`, with the cyclic collector off (main): the exit status, and the run's objects
    (the caller says when they are freed)."""
    try:
        config = load_config_file(args.config)
        if args.firestore_uid is not None:
            # Documents: unique ids, and Firestore's own order (what the functions see).
            entries = read_firestore_journal(args.firestore_uid, config)
            order = ClosedAtOrder.FIRESTORE
            result = compute_weights(entries, config, order)
            summary = summarize_load(entries, 0, config.agent_ids, order, "documents")
            built: object = entries
        else:
            result, summary, built = weigh_journal_file(args.journal, config)
    except ConfigError as error:
        print(f"maestro: invalid config: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT, None
    except (JournalFileError, FirestoreReadError) as error:
        print(f"maestro: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT, None
    if args.json:
        payload = result.to_json_dict()
        payload["load"] = summary.to_json_dict(result)
        print(json.dumps(payload, indent=2))
    else:
        print(result.render_table(summary.footnotes()))
    if not args.quiet:
        for line in summary.lines(result):
            print(f"maestro: {line}", file=sys.stderr)
    warnings = summary.warnings(result)
    for warning in warnings:  # loud, --quiet or not
        print(f"maestro: warning: {warning}", file=sys.stderr)
    status = EXIT_DOUBTFUL if warnings and args.strict else 0
    return status, (result, summary, built)


class JournalRun(NamedTuple):
    """weigh_journal_file's answer, and what was read and built on the way to it (the rows,
    the columns, the selected trades), handed back rather than freed on return: the caller
    says when (main: before the collector is back on; run_process: never)."""

    result: WeightsResult
    summary: LoadSummary
    built: object


def weigh_journal_file(path: Path, config: MaestroConfig) -> JournalRun:
    """The weights of a journal file and what was read from it. A well-formed JSON journal
    takes the typed path (typed_journal: the same answer, a column at a time); any other
    file, or one the typed decoder refuses, the exact path. The file is read once, for both:
    a pipe (`--journal /dev/stdin`) can be read only once. JournalFileError when the file
    cannot be read as a journal."""
    try:
        data: bytes | None = journal_bytes(path)  # read early, while the modules loaded
    except OSError:
        data = None  # the exact path reads it again, and says what is wrong
    typed = read_typed_journal(path, config.return_basis, data) if data is not None else None
    if typed is not None:
        selected = select_typed_trades(typed, config.agent_ids, config.lookback_trades)
        result = weights_from_trades(selected, config)
        return JournalRun(result, summarize_typed(typed, config.agent_ids), (typed, selected))
    return weigh_journal_file_exactly(path, config, data)


def weigh_journal_file_exactly(
    path: Path, config: MaestroConfig, data: bytes | None = None
) -> JournalRun:
    """weigh_journal_file's exact path: a journal entry per row, validated one by one (`data`:
    the file's bytes, when they were read already)."""
    # A file's trades, the later row of a repeated id kept, in time order (ClosedAtOrder).
    entries, duplicates = deduplicated(load_journal_file(path, config.return_basis, data))
    order = ClosedAtOrder.TIMESTAMPS_ONLY
    result = compute_weights(entries, config, order)
    summary = summarize_load(entries, duplicates, config.agent_ids, order, "rows")
    return JournalRun(result, summary, entries)


class FirestoreReadError(Exception):
    """The user's journal could not be read from Firestore; the message says where and why."""


EMULATOR_PROBE_SECONDS: Final = 2.0


def read_firestore_journal(uid: str, config: MaestroConfig) -> list[JournalEntry]:
    """The documents the functions' queries return for `uid` (firestore_io.read_agent_journals:
    each configured agent's last lookback_trades trades by closed_at). FirestoreReadError, in
    one line, when Firestore cannot be reached or refuses."""
    from google.api_core.exceptions import GoogleAPIError
    from google.auth.exceptions import GoogleAuthError

    from . import firestore_io

    where = f"firestore users/{uid}/{firestore_io.JOURNAL}"
    emulator = os.environ.get("FIRESTORE_EMULATOR_HOST")
    if emulator:
        if not (os.environ.get("GCLOUD_PROJECT") or os.environ.get("GOOGLE_CLOUD_PROJECT")):
            raise FirestoreReadError(
                f"{where}: FIRESTORE_EMULATOR_HOST is set, GCLOUD_PROJECT is not: set it to the"
                " emulator's project"
            )
        # An emulator that is not running would make the client retry for minutes.
        _probe(emulator, where)
    try:
        db = firestore_io.get_client()
        return firestore_io.read_agent_journals(db, uid, config.agent_ids, config.lookback_trades)
    except (GoogleAPIError, GoogleAuthError, OSError) as error:
        raise FirestoreReadError(f"{where}: {_one_line(error)}") from None


def _probe(emulator: str, where: str) -> None:
    import socket

    host, _, port = emulator.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), EMULATOR_PROBE_SECONDS).close()
    except (OSError, ValueError) as error:
        raise FirestoreReadError(
            f"{where}: no emulator at FIRESTORE_EMULATOR_HOST={emulator}: {_one_line(error)}"
        ) from None


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    if isinstance(error, OSError) and error.strerror:
        text = error.strerror
    return text or type(error).__name__


def _evaluate(args: argparse.Namespace) -> int:
    # Imported here: `weights` never needs them (a third of its imports).
    from tqdm import tqdm

    from .evaluation import report
    from .evaluation.policies import PolicyError, parse_policies
    from .evaluation.walk_forward import EvaluationError, evaluate

    basis = ReturnBasis(args.return_basis)
    try:
        with without_cycle_collection(), contextlib.ExitStack() as bars:
            try:
                raw_policies = _read_json(args.policies)
            except _UnreadableJsonError as problem:
                raise PolicyError(f"policies {args.policies}: {problem}") from None
            policies = parse_policies(raw_policies)
            entries = load_journal_file(args.journal, basis)

            def progress(total: int) -> Callable[[int], object]:
                # Shown on stderr once the replay has run for a second.
                bar = bars.enter_context(
                    tqdm(total=total, desc="replay", unit="day", delay=1, file=sys.stderr)
                )
                return bar.update

            evaluation = evaluate(
                entries,
                policies,
                every_days=args.rebalance_days,
                start=args.start,
                basis=basis,
                risk_free_rate=args.risk_free_rate,
                progress=progress,
            )
    except (PolicyError, EvaluationError, JournalFileError) as error:
        print(f"maestro: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.plots is not None:
        from .evaluation.plots import write_plots

        try:
            written = write_plots(evaluation, args.plots)
        except OSError as error:
            print(f"maestro: plots {args.plots}: {error.strerror or error}", file=sys.stderr)
            return EXIT_BAD_INPUT
        print(f"maestro: {len(written)} plots in {args.plots}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_json_dict(evaluation, basis, args.risk_free_rate), indent=2))
    else:
        print(report.render_table(evaluation, basis, args.risk_free_rate))
    return 0
