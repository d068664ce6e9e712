"""What the CLI read from a journal file, said after loading (issue 16: imports are loud): rows
read and the dates their closes cover, duplicate trade ids (a file may repeat a row; Firestore
cannot: the later row is kept), per configured agent the trades used and rejected by reason,
and the agents in the file that are not configured, with the configured one an id probably
means when they differ only in case or surrounding spaces."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter, methodcaller
from typing import Any, Final

from .journal import JournalEntry
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
            if detail.trades_rejected * 2 > selected:
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
        notes = []
        for agent, rows in self.unconfigured.items():
            guess = self.probably.get(agent)
            hint = f"; did you mean {guess}?" if guess else ""
            notes.append(f"ignored: {agent!r} ({rows} rows), not in agent_ids{hint}")
        if self.first_close is None:
            notes.append("no closed trade in the journal")
        else:
            notes.append(f"closes from {self.first_close} to {self.last_close}")
        return notes

    def lines(self, result: WeightsResult) -> list[str]:
        covered = (
            f", closes from {self.first_close} to {self.last_close}"
            if self.first_close is not None
            else ", no close"
        )
        lines = [f"{self.rows} rows read{covered}"]
        if self.duplicates:
            lines.append(f"{self.duplicates} duplicate trade id(s): the later row kept")
        for agent, detail in result.agents.items():
            reasons = ", ".join(f"{r} {n}" for r, n in detail.rejection_reasons.items())
            rejected = f" ({reasons})" if reasons else ""
            selected = detail.trades_used + detail.trades_rejected
            lines.append(
                f"{agent}: {self.configured_rows.get(agent, 0)} rows; of the {selected} most"
                f" recent closed, {detail.trades_used} used, {detail.trades_rejected}"
                f" rejected{rejected}"
            )
        for agent, rows in self.unconfigured.items():
            guess = self.probably.get(agent)
            hint = f"; did you mean {guess}?" if guess else ""
            lines.append(f"not configured, ignored: {agent!r} ({rows} rows){hint}")
        return lines


def deduplicated(entries: Sequence[JournalEntry]) -> tuple[list[JournalEntry], int]:
    """One entry per trade id, the later row's (in the file's order); and how many were
    dropped."""
    ids = list(map(_TRADE_ID, entries))
    if len(set(ids)) == len(ids):  # the common case, in C
        return list(entries), 0
    kept = dict(zip(ids, entries, strict=True))
    return list(kept.values()), len(entries) - len(kept)


def summarize_load(
    entries: Sequence[JournalEntry], duplicates: int, agent_ids: Sequence[str]
) -> LoadSummary:
    # map, Counter, min and max run in C: the summary adds little to a 200,000-row file.
    fields = list(map(_DATA, entries))
    rows_by_agent = Counter(map(_AGENT_ID, fields))
    closes = [moment for moment in map(_CLOSED_AT, fields) if isinstance(moment, dt.datetime)]
    configured = set(agent_ids)
    by_folded = {agent.strip().casefold(): agent for agent in agent_ids}
    unconfigured = {
        str(agent): rows for agent, rows in rows_by_agent.items() if agent not in configured
    }
    probably = {
        agent: by_folded[agent.strip().casefold()]
        for agent in unconfigured
        if agent.strip().casefold() in by_folded
    }
    return LoadSummary(
        rows=len(entries) + duplicates,
        duplicates=duplicates,
        first_close=min(closes).date() if closes else None,
        last_close=max(closes).date() if closes else None,
        configured_rows={a: rows for a, rows in rows_by_agent.items() if a in configured},
        unconfigured=dict(sorted(unconfigured.items())),
        probably=probably,
    )
