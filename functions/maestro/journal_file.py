"""Trade journal files for the offline CLI: a JSON array of trade objects, or a CSV with the
same columns. Field names and types follow the Firestore schema; closed_at is an ISO-8601 string
(null, or an empty CSV cell, for an open trade)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any, Final

from .journal import JournalEntry

REQUIRED_CSV_COLUMNS = ("agent_id", "closed_at")


class JournalFileError(ValueError):
    """The file cannot be read as a journal at all (as opposed to a trade being invalid)."""


def load_journal_file(path: Path) -> list[JournalEntry]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise JournalFileError(f"journal {path}: cannot read: {_describe(error)}") from None
    if path.suffix.lower() == ".csv":
        return _entries_from_csv(path, text)
    return _entries_from_json(path, text)


def parse_closed_at(value: object) -> object:
    """An ISO-8601 string becomes an aware datetime (no offset means UTC); anything else is kept
    as it is, for the engine to treat as open (None) or to reject (wrong type)."""
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)  # takes "Z" (Python 3.11)
        except ValueError:
            try:
                moment = dt.datetime.fromisoformat(value.strip())
            except ValueError:
                return value
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return value


def _entries_from_json(path: Path, text: str) -> list[JournalEntry]:
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as error:
        raise JournalFileError(
            f"journal {path}: malformed JSON at line {error.lineno}"
            f" column {error.colno}: {error.msg}"
        ) from None
    if not isinstance(rows, list):
        raise JournalFileError(f"journal {path}: expected a JSON array of trade objects")
    entries = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise JournalFileError(f"journal {path}: entry {index} is not a JSON object")
        entries.append(_entry(row, index))
    return entries


def _entries_from_csv(path: Path, text: str) -> list[JournalEntry]:
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = reader.fieldnames
        if header is None:
            raise JournalFileError(f"journal {path}: empty CSV file")
        missing = [column for column in REQUIRED_CSV_COLUMNS if column not in header]
        if missing:
            raise JournalFileError(f"journal {path}: CSV lacks column(s) {', '.join(missing)}")
        entries = []
        for index, row in enumerate(reader):
            if None in row:
                raise JournalFileError(
                    f"journal {path}: CSV line {reader.line_num} has more cells than the header"
                )
            # A CSV has no null: an empty cell is a missing value.
            fields = {key: (value if value != "" else None) for key, value in row.items()}
            entries.append(_entry(fields, index))
        return entries
    except csv.Error as error:
        raise JournalFileError(f"journal {path}: malformed CSV: {error}") from None


def _entry(row: dict[str, Any], index: int) -> JournalEntry:
    """The row as a journal entry; the row is this module's own (fresh from the parser), so its
    closed_at is parsed in place. Once per row of a file: flat on purpose."""
    trade_id = row.get("trade_id")
    if trade_id is None:
        trade_id = row.get("id")
    closed_at = row.get("closed_at")
    if type(closed_at) is str:
        try:  # parse_closed_at's common case: an ISO-8601 text with its offset
            moment = _from_iso(closed_at)
            row["closed_at"] = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        except ValueError:
            row["closed_at"] = parse_closed_at(closed_at)
    return _new_entry(JournalEntry, (trade_id if type(trade_id) is str else f"#{index}", row))


_from_iso: Final = dt.datetime.fromisoformat
_new_entry: Final = tuple.__new__  # skips NamedTuple's Python-level constructor


def _describe(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error)
