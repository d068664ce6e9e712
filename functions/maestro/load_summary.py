"""What the CLI read from a journal file, said after loading (issue 16: imports are loud): rows
read and the dates their closes cover, duplicate trade ids (a file may repeat a row; Firestore
cannot: the later row is kept), per configured agent the trades used and rejected by reason,
and the agents in the file that are not configured, with the configured one an id probably
means when they differ only in case or surrounding spaces. A file's trades whose closed_at is
not a timestamp have no slot in the lookback (ClosedAtOrder.TIMESTAMPS_ONLY): they are counted
here, rejected as closed_at_invalid. Read from Firestore (--firestore-uid), the rows are the
documents the functions' queries return."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from operator import itemgetter, methodcaller
from typing import Any, Final

from .journal import ClosedAtOrder, JournalEntry, Rejection
from .result import WeightsResult

_TRADE_ID: Final = itemgetter(0)
_DATA: Final = itemgetter(1)
_AGENT_ID: Final = methodcaller("get", "agent_id")
_CLOSED_AT: Final = methodcaller("get", "closed_at")


@dataclass(frozen=True, slots=True)
class LoadSummary:
    rows: int
    duplicates: int
    first_close: dt.date | None
    last_close: dt.date | None
    configured_rows: dict[str, int]  # configured agent -> its rows (open trades included)
    unconfigured: dict[str, int]  # agent id -> rows
    probably: dict[str, str]  # an unconfigured id -> the configured id it probably is
    # configured agent -> closed trades whose closed_at is not a timestamp, left out of the
    # lookback (a file's order: TIMESTAMPS_ONLY); in Firestore's order the engine counts them
    unordered: dict[str, int] = dataclasses.field(default_factory=dict)
    noun: str = "rows"  # what was read: a file's rows, or Firestore's documents

    def to_json_dict(self, result: WeightsResult) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "duplicate_trade_ids": self.duplicates,
            "first_close": None if self.first_close is None else self.first_close.isoformat(),
            "last_close": None if self.last_close is None else self.last_close.isoformat(),
            "agents": {
                agent: {
                    "rows": self.configured_rows.get(agent, 0),
                    "used": detail.trades_used,
                    "rejected": dict(detail.rejection_reasons),
                    "rejected_outside_lookback": _outside(self.unordered.get(agent, 0)),
                }
                for agent, detail in result.agents.items()
            },
            "not_configured": [
                {"agent_id": agent, "rows": rows, "did_you_mean": self.probably.get(agent)}
                for agent, rows in self.unconfigured.items()
            ],
            "warnings": self.warnings(result),
        }

    def warnings(self, result: WeightsResult) -> list[str]:
        """What makes the journal doubtful: the weights stay the engine's answer, but a
        pipeline may stop on them (--strict)."""
        found = []
        if not any(detail.trades_used for detail in result.agents.values()):
            found.append("no configured agent has a usable trade: the weights rest on nothing")
        for agent, detail in result.agents.items():
            selected = detail.trades_used + detail.trades_rejected
            unordered = self.unordered.get(agent, 0)
            if unordered and (detail.trades_rejected + unordered) * 2 > selected + unordered:
                found.append(
                    f"{agent}: {detail.trades_rejected + unordered} of its"
                    f" {selected + unordered} closed trades rejected (more than half),"
                    f" {unordered} for a closed_at that is not a timestamp"
                )
            elif detail.trades_rejected * 2 > selected:
                found.append(
                    f"{agent}: {detail.trades_rejected} of its {selected} most recent closed"
                    " trades rejected (more than half)"
                )
        if self.unconfigured:
            found.append(
                f"{len(self.unconfigured)} agent id(s) in the file not configured: "
                + ", ".join(repr(agent) for agent in self.unconfigured)
            )
        if self.duplicates:
            found.append(f"{self.duplicates} duplicate trade id(s) in the file")
        return found

    def footnotes(self) -> list[str]:
        """Under the weights table: the agents ignored and why, and the dates covered."""
        notes = [
            f"ignored: {agent!r} ({rows} {self.noun}), not in agent_ids{self._guess(agent)}"
            for agent, rows in self.unconfigured.items()
        ]
        notes.append(self._covered() or "no closed trade in the journal")
        return notes

    def _covered(self) -> str | None:
        if self.first_close is None:
            return None
        return f"closes from {self.first_close} to {self.last_close}"

    def _guess(self, agent: str) -> str:
        guess = self.probably.get(agent)
        return f"; did you mean {guess}?" if guess else ""

    def lines(self, result: WeightsResult) -> list[str]:
        lines = [f"{self.rows} {self.noun} read, {self._covered() or 'no close'}"]
        if self.duplicates:
            lines.append(f"{self.duplicates} duplicate trade id(s): the later row kept")
        for agent, detail in result.agents.items():
            reasons = ", ".join(f"{r} {n}" for r, n in detail.rejection_reasons.items())
            rejected = f" ({reasons})" if reasons else ""
            selected = detail.trades_used + detail.trades_rejected
            unordered = self.unordered.get(agent, 0)
            outside = (
                f"; {unordered} more rejected ({Rejection.CLOSED_AT_INVALID} {unordered}):"
                " closed_at not an ISO-8601 text or a Firestore export's timestamp map"
                if unordered
                else ""
            )
            lines.append(
                f"{agent}: {self.configured_rows.get(agent, 0)} {self.noun}; of the {selected}"
                f" most recent closed, {detail.trades_used} used, {detail.trades_rejected}"
                f" rejected{rejected}{outside}"
            )
        lines.extend(
            f"not configured, ignored: {agent!r} ({rows} {self.noun}){self._guess(agent)}"
            for agent, rows in self.unconfigured.items()
        )
        return lines


def _utc_date(moment: dt.datetime) -> dt.date:
    # the day in UTC, whatever offset the file wrote (a naive datetime is UTC already)
    return moment.astimezone(dt.UTC).date() if moment.tzinfo else moment.date()


def _outside(unordered: int) -> dict[str, int]:
    return {Rejection.CLOSED_AT_INVALID.value: unordered} if unordered else {}


def deduplicated(entries: Sequence[JournalEntry]) -> tuple[list[JournalEntry], int]:
    """One entry per trade id, the later row's (in the file's order); and how many were
    dropped."""
    ids = list(map(_TRADE_ID, entries))
    if len(set(ids)) == len(ids):  # the common case, in C
        return list(entries), 0
    kept = dict(zip(ids, entries, strict=True))
    return list(kept.values()), len(entries) - len(kept)


def summarize_load(
    entries: Sequence[JournalEntry],
    duplicates: int,
    agent_ids: Sequence[str],
    order: ClosedAtOrder = ClosedAtOrder.FIRESTORE,
    noun: str = "rows",
) -> LoadSummary:
    """`order` is the one the engine selected with: under TIMESTAMPS_ONLY, the trades whose
    closed_at is not a timestamp are counted here (the engine never saw them)."""
    # map, Counter, min and max run in C: the summary adds little to a 200,000-row file.
    fields = list(map(_DATA, entries))
    try:
        rows_by_agent = Counter(map(_AGENT_ID, fields))
    except TypeError:  # an agent_id that is a JSON array or object: counted by its text
        rows_by_agent = Counter(
            agent if isinstance(agent, Hashable) else repr(agent)
            for agent in map(_AGENT_ID, fields)
        )
    closed_at = list(map(_CLOSED_AT, fields))
    closes = [moment for moment in closed_at if isinstance(moment, dt.datetime)]
    configured = set(agent_ids)
    not_timestamps = len(closed_at) - len(closes) - closed_at.count(None)
    unordered: Counter[str] = Counter()
    if not_timestamps and order is ClosedAtOrder.TIMESTAMPS_ONLY:  # rare: find whose
        unordered.update(
            data.get("agent_id")
            for data, moment in zip(fields, closed_at, strict=True)
            if moment is not None
            and not isinstance(moment, dt.datetime)
            and type(data.get("agent_id")) is str
            and data["agent_id"] in configured
        )
    return summary_of(
        rows=len(entries) + duplicates,
        duplicates=duplicates,
        rows_by_agent=rows_by_agent,
        closes=closes,
        unordered=unordered,
        agent_ids=agent_ids,
        noun=noun,
    )


def summary_of(
    *,
    rows: int,
    duplicates: int,
    rows_by_agent: Counter[Any],
    closes: Sequence[dt.datetime],
    unordered: Counter[str],
    agent_ids: Sequence[str],
    noun: str,
) -> LoadSummary:
    """The summary from what was counted: the rows read (duplicates included), each agent
    id's rows, every closed_at that is a timestamp, and the configured agents' closed trades
    left out of the lookback (summarize_load's, and the CLI's typed path's:
    typed_journal.summarize_typed)."""
    configured = set(agent_ids)
    by_folded = {agent.strip().casefold(): agent for agent in agent_ids}
    unconfigured = {
        str(agent): count for agent, count in rows_by_agent.items() if agent not in configured
    }
    probably = {
        agent: by_folded[agent.strip().casefold()]
        for agent in unconfigured
        if agent.strip().casefold() in by_folded
    }
    return LoadSummary(
        rows=rows,
        duplicates=duplicates,
        first_close=_utc_date(min(closes)) if closes else None,
        last_close=_utc_date(max(closes)) if closes else None,
        configured_rows={a: count for a, count in rows_by_agent.items() if a in configured},
        unconfigured=dict(sorted(unconfigured.items())),
        probably=probably,
        unordered=dict(unordered),
        noun=noun,
    )
