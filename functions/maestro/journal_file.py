"""Trade journal files for the offline CLI: a JSON array of trade objects, or a CSV with the
same columns. Field names and types follow the Firestore schema; closed_at is an ISO-8601 string,
or one of the maps a Firestore export writes ({"_seconds", "_nanoseconds"} or {"seconds",
"nanos"}); null, or an empty CSV cell, for an open trade. A UTF-8 byte order mark is accepted;
a CSV's delimiter (comma, semicolon or tab) is read from its header, whose cells are trimmed.
The columns the return basis needs must be there: a missing one is an error that names it, with
the column it probably is."""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

from .journal import JournalEntry
from .methods import ReturnBasis

BASE_COLUMNS: Final = ("agent_id", "closed_at", "realized_pnl")
CAPITAL_COLUMNS: Final = {
    ReturnBasis.NOTIONAL: ("entry_price", "quantity"),
    ReturnBasis.ALLOCATED: ("allocated_capital",),
}
CSV_DELIMITERS: Final = (",", ";", "\t")
# Names other tools give these columns (compared lower-case, without separators).
ALIASES: Final = {
    "realized_pnl": ("pnl", "profit", "netpnl", "realisedpnl", "profitloss", "pl"),
    "closed_at": ("closetime", "closedtime", "exittime", "closedate", "closed", "exitdate"),
    "agent_id": ("agent", "agentname", "strategy", "strategyid", "bot"),
    "entry_price": ("price", "openprice", "entry", "avgentryprice"),
    "quantity": ("qty", "size", "shares", "volume", "amount"),
    "allocated_capital": ("capital", "allocation", "allocated"),
}


def required_columns(basis: ReturnBasis) -> tuple[str, ...]:
    return (*BASE_COLUMNS, *CAPITAL_COLUMNS[basis])


class JournalFileError(ValueError):
    """The file cannot be read as a journal at all (as opposed to a trade being invalid)."""


def load_journal_file(
    path: Path, basis: ReturnBasis = ReturnBasis.NOTIONAL, data: bytes | None = None
) -> list[JournalEntry]:
    """The file's trades (`data`: its bytes, when they were read already: a pipe can be read
    only once); JournalFileError when it cannot be read as a journal, or lacks a column that
    `basis` needs."""
    try:
        text = _text(path.read_bytes() if data is None else data)
    except (OSError, UnicodeDecodeError) as error:
        raise JournalFileError(f"journal {path}: cannot read: {_describe(error)}") from None
    if path.suffix.lower() == ".csv":
        entries, columns = _entries_from_csv(path, text)
    else:
        entries = _entries_from_json(path, text)
        # A JSON row may leave a field out (that trade is then rejected): the columns are every
        # row's keys, gathered only when the first row lacks one (the common case costs nothing).
        columns = set(entries[0].data) if entries else set()
        if not set(required_columns(basis)) <= columns:
            columns = {key for entry in entries for key in entry.data}
    if entries:
        _check_columns(path, columns, basis)
    return entries


def _text(data: bytes) -> str:
    """The bytes as a text file's read gives them: UTF-8, a byte order mark dropped, every
    line end (\\r\\n, \\r) a \\n (universal newlines)."""
    return data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")


def parse_closed_at(value: object) -> object:
    """An ISO-8601 string becomes an aware datetime (no offset means UTC), and so does a
    Firestore export's timestamp map; anything else is kept as it is, for the engine to treat
    as open (None) or to reject (wrong type: a bare number is never guessed at)."""
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)  # takes "Z" (Python 3.11)
        except ValueError:
            try:
                moment = dt.datetime.fromisoformat(value.strip())
            except ValueError:
                return value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=dt.UTC)
        try:
            moment.astimezone(dt.UTC)  # "0001-01-01T00:00:00+05:00" is before year 1 in UTC
        except OverflowError:
            return value  # kept as text: rejected as closed_at_invalid
        return moment
    if isinstance(value, dict):
        return _exported_timestamp(value)
    return value


def _exported_timestamp(value: dict[str, Any]) -> object:
    """{"_seconds": s, "_nanoseconds": n} (the Admin SDK's JSON) or {"seconds": s, "nanos": n}
    (the REST API's and protobuf's): a UTC datetime, to the microsecond. Another map is kept."""
    for seconds_key, nanos_key in (("_seconds", "_nanoseconds"), ("seconds", "nanos")):
        if set(value) in ({seconds_key, nanos_key}, {seconds_key}):
            seconds, nanos = value[seconds_key], value.get(nanos_key, 0)
            if type(seconds) is not int or type(nanos) is not int or not 0 <= nanos < 10**9:
                return value
            try:
                moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
            except (OverflowError, OSError, ValueError):
                return value
            return moment + dt.timedelta(microseconds=nanos // 1000)
    return value


def _entries_from_json(path: Path, text: str) -> list[JournalEntry]:
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as error:
        raise JournalFileError(
            f"journal {path}: malformed JSON at line {error.lineno}"
            f" column {error.colno}: {error.msg}"
        ) from None
    except RecursionError:
        raise JournalFileError(f"journal {path}: JSON nested too deeply to read") from None
    except ValueError as error:  # an integer of more digits than Python converts (4,300)
        raise JournalFileError(f"journal {path}: unreadable JSON: {error}") from None
    if not isinstance(rows, list):
        raise JournalFileError(f"journal {path}: expected a JSON array of trade objects")
    entries = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise JournalFileError(f"journal {path}: entry {index} is not a JSON object")
        entries.append(_entry(row, index))
    return entries


def _entries_from_csv(path: Path, text: str) -> tuple[list[JournalEntry], set[str]]:
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        raise JournalFileError(f"journal {path}: empty CSV file")
    delimiter = _delimiter(path, first_line)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = reader.fieldnames
        if header is None:
            raise JournalFileError(f"journal {path}: empty CSV file")
        reader.fieldnames = [name.strip() for name in header]
        _check_columns(path, set(reader.fieldnames), None)
        entries = []
        for index, row in enumerate(reader):
            if None in row:
                raise JournalFileError(
                    f"journal {path}: CSV line {reader.line_num} has more cells than the header"
                )
            # A CSV has no null: an empty cell is a missing value.
            fields = {key: (value if value != "" else None) for key, value in row.items()}
            entries.append(_entry(fields, index))
        return entries, set(reader.fieldnames)
    except csv.Error as error:
        raise JournalFileError(f"journal {path}: malformed CSV: {error}") from None


def _delimiter(path: Path, header: str) -> str:
    """The header's most frequent of comma, semicolon and tab; none of them is an error that
    names what the header seems to use instead."""
    counts = {delimiter: header.count(delimiter) for delimiter in CSV_DELIMITERS}
    delimiter = max(CSV_DELIMITERS, key=lambda d: counts[d])
    if counts[delimiter]:
        return delimiter
    others = [c for c in header if not c.isalnum() and c not in "_ -\"'\r"]
    seen = f" (it seems to use {max(others, key=others.count)!r})" if others else ""
    raise JournalFileError(
        f"journal {path}: the CSV header has no comma, semicolon or tab between columns{seen}"
    )


def _check_columns(path: Path, present: set[str], basis: ReturnBasis | None) -> None:
    """Every column the basis needs (None: the ones every trade needs, agent_id and
    closed_at, checked before any row is read) is present, or the error names the missing
    ones and what they probably are."""
    needed = ("agent_id", "closed_at") if basis is None else required_columns(basis)
    missing = [column for column in needed if column not in present]
    if not missing:
        return
    hints = [hint for column in missing if (hint := _near(column, present - set(needed)))]
    because = "" if basis is None else f" (returns on the {basis.value} basis)"
    hint_text = f"; did you mean {', '.join(hints)}?" if hints else ""
    raise JournalFileError(
        f"journal {path}: lacks column(s) {', '.join(missing)}{because}{hint_text}"
    )


def _near(column: str, present: Iterable[str]) -> str | None:
    """The present column that is probably `column` under another name, as "'pnl' for
    realized_pnl"; None when none is close."""
    wanted = _squashed(column)
    aliases = {wanted, *ALIASES.get(column, ())}
    by_squashed = {_squashed(name): name for name in present}
    for squashed, name in by_squashed.items():
        if squashed in aliases:
            return f"{name!r} for {column}"
    close = difflib.get_close_matches(wanted, list(by_squashed), n=1, cutoff=0.8)
    return f"{by_squashed[close[0]]!r} for {column}" if close else None


def _squashed(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _entry(row: dict[str, Any], index: int) -> JournalEntry:
    """The row as a journal entry; the row is this module's own (fresh from the parser), so its
    closed_at is parsed in place. Once per row of a file: flat on purpose."""
    trade_id = row.get("trade_id")
    if trade_id is None:
        trade_id = row.get("id")
    closed_at = row.get("closed_at")
    if type(closed_at) is dict:
        row["closed_at"] = _exported_timestamp(closed_at)
    elif type(closed_at) is str:
        try:  # parse_closed_at's common case: an ISO-8601 text with its offset
            moment = _from_iso(closed_at)
            if moment.tzinfo is None:
                row["closed_at"] = moment.replace(tzinfo=dt.UTC)
            elif moment.year in (1, 9999):  # maybe beyond UTC's years: the careful path
                row["closed_at"] = parse_closed_at(closed_at)
            else:
                row["closed_at"] = moment
        except ValueError:
            row["closed_at"] = parse_closed_at(closed_at)
    return _new_entry(JournalEntry, (trade_id if type(trade_id) is str else f"#{index}", row))


_from_iso: Final = dt.datetime.fromisoformat
_new_entry: Final = tuple.__new__  # skips NamedTuple's Python-level constructor


def _describe(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error)
