"""Rolling per-agent windows: for each agent, exactly the trades its Firestore query
(`where agent_id == X order by closed_at desc limit lookback_trades`) would return, each already
turned into its return or its rejection, newest first. Closes keep a window current, so a
recompute after a close reads one small document per agent instead of `lookback_trades` journal
documents.

Why updating in place is safe: a window is the top `lookback_trades` (in the query's order) of a
set of trades, and adding a trade commutes: top(top(S) + t) == top(S + t). Closes may therefore
be applied in any order and more than once. A delete, a reopening or an edit of a closed trade can
push a trade out and let an older one in, which only the query knows: those rebuild the window.

Pure (no Firebase): firestore_io stores windows, service decides between update and rebuild.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext
from enum import StrEnum
from typing import Any, Final

from . import ENGINE_VERSION
from .journal import (
    STRING_RANK,
    TIMESTAMP_RANK,
    AgentTrades,
    JournalEntry,
    Rejection,
    closed_at_rank,
    trade_return_pct,
)
from .weighting import ENGINE_CONTEXT

# Bump when the stored form of a window changes; a window of another format is rebuilt.
WINDOW_FORMAT: Final = 1
_REJECTED: Final = "!"  # outcome prefix of a rejected trade: "!" + Rejection value


class WindowError(ValueError):
    """A stored window cannot be read (corrupted or of another format): rebuild it."""


@dataclass(frozen=True, slots=True)
class WindowTrade:
    """One trade of a window. `rank` and `sort_text` order it as Firestore orders closed_at
    values (type first, then value); `outcome` is its return in percent as an exact decimal
    string, or "!" and its rejection; `commit_ns` is the commit time of the version it came from.
    """

    trade_id: str
    rank: int
    sort_text: str
    outcome: str
    commit_ns: int

    @property
    def order_key(self) -> tuple[int, str, str]:
        # Ties on closed_at fall to the document id, as in Firestore's descending query.
        return (self.rank, self.sort_text, self.trade_id)


@dataclass(frozen=True, slots=True)
class AgentWindow:
    """The agent's last `lookback_trades` closed trades, newest first. Every journal write
    committed at or before `as_of_ns` (the read time of the query that last rebuilt it) is in it;
    closes committed after it were applied one by one."""

    agent_id: str
    lookback_trades: int
    as_of_ns: int
    trades: tuple[WindowTrade, ...]


class CloseEffect(StrEnum):
    """What applying a close to a window did."""

    COVERED = "covered"  # the window already holds this version of the trade, or a newer one
    UNCHANGED = "unchanged"  # older than the window's oldest trade: the query would not return it
    APPLIED = "applied"
    NEEDS_REBUILD = "needs_rebuild"  # an older version left a full window: only the query knows


def window_trade(entry: JournalEntry, commit_ns: int) -> WindowTrade | None:
    """The window's form of a journal document, or None when it is open (closed_at missing or
    null: the query's order puts those last, where they never matter). The return is computed
    exactly as compute_weights computes it, in the engine's Decimal context."""
    closed_at = entry.data.get("closed_at")
    if closed_at is None:
        return None
    if isinstance(closed_at, dt.datetime):
        with localcontext(ENGINE_CONTEXT):
            outcome = trade_return_pct(entry.data)
        # str() of a Decimal round-trips exactly through Decimal().
        text = _REJECTED + outcome.value if isinstance(outcome, Rejection) else str(outcome)
        return WindowTrade(entry.trade_id, TIMESTAMP_RANK, _utc_text(closed_at), text, commit_ns)
    # Within the other (wrong) types only a deterministic order matters: all are rejected.
    rank = closed_at_rank(closed_at)
    sort_text = closed_at if rank == STRING_RANK else repr(closed_at)
    assert isinstance(sort_text, str)
    return WindowTrade(
        entry.trade_id, rank, sort_text, _REJECTED + Rejection.CLOSED_AT_INVALID.value, commit_ns
    )


def rebuild_window(
    agent_id: str,
    entries: Iterable[tuple[JournalEntry, int]],
    lookback_trades: int,
    as_of_ns: int,
) -> AgentWindow:
    """The agent's window from journal documents (its query's results, or a whole journal) and
    their commit times; `as_of_ns` is the instant they were read at."""
    trades = [
        trade
        for entry, commit_ns in entries
        if entry.data.get("agent_id") == agent_id
        and (trade := window_trade(entry, commit_ns)) is not None
    ]
    return build_window(agent_id, trades, lookback_trades, as_of_ns)


def build_window(
    agent_id: str,
    trades: Iterable[WindowTrade],
    lookback_trades: int,
    as_of_ns: int,
) -> AgentWindow:
    """A window from the agent's query results (or any superset of them)."""
    ranked = sorted(trades, key=lambda trade: trade.order_key, reverse=True)
    return AgentWindow(agent_id, lookback_trades, as_of_ns, tuple(ranked[:lookback_trades]))


def apply_close(window: AgentWindow, trade: WindowTrade) -> tuple[CloseEffect, AgentWindow]:
    """Apply a trade that became closed (committed at trade.commit_ns). Idempotent and
    order-independent for closes; see the module docstring."""
    if trade.commit_ns <= window.as_of_ns:
        return CloseEffect.COVERED, window  # the rebuilding query saw this write or a later one
    kept: list[WindowTrade] = []
    replaced = False
    for held in window.trades:
        if held.trade_id == trade.trade_id:
            if held.commit_ns >= trade.commit_ns:
                return CloseEffect.COVERED, window
            replaced = True  # an older version, closed again since (its reopening is pending)
        else:
            kept.append(held)
    # Without its older version a full window is one short, and the next trade in line is
    # unknown: it ranks below the window's last trade. Above that, the new version is in.
    if (
        replaced
        and len(window.trades) >= window.lookback_trades
        and trade.order_key < window.trades[-1].order_key
    ):
        return CloseEffect.NEEDS_REBUILD, window
    key = trade.order_key
    position = next((i for i, held in enumerate(kept) if held.order_key < key), len(kept))
    if position >= window.lookback_trades:
        return CloseEffect.UNCHANGED, window  # older than every trade of a full window
    kept.insert(position, trade)
    return CloseEffect.APPLIED, AgentWindow(
        window.agent_id,
        window.lookback_trades,
        window.as_of_ns,
        tuple(kept[: window.lookback_trades]),
    )


def agent_trades(window: AgentWindow) -> AgentTrades:
    """What journal.select_agent_trades would give for this agent, from the window alone."""
    selected = AgentTrades()
    for trade in window.trades:
        outcome = trade.outcome
        if outcome.startswith(_REJECTED):
            selected.rejected[Rejection(outcome[1:])] += 1
        else:
            selected.returns_pct.append(Decimal(outcome))
    return selected


def newest_closed_at(windows: Iterable[AgentWindow]) -> dt.datetime | None:
    """The latest timestamp closed_at in the windows (UTC), or None."""
    texts = [t.sort_text for w in windows for t in w.trades if t.rank == TIMESTAMP_RANK]
    return dt.datetime.fromisoformat(max(texts)).replace(tzinfo=dt.UTC) if texts else None


def encode_trades(trades: Iterable[WindowTrade]) -> str:
    """Compact JSON (one string field decodes far faster than a list of maps)."""
    rows = [[t.trade_id, t.rank, t.sort_text, t.outcome, t.commit_ns] for t in trades]
    return json.dumps(rows, separators=(",", ":"), ensure_ascii=False)


def decode_trades(text: object) -> tuple[WindowTrade, ...]:
    if not isinstance(text, str):
        raise WindowError("trades: not a string")
    try:
        rows = json.loads(text)
        trades = tuple(WindowTrade(*row) for row in rows)
    except (ValueError, TypeError) as error:
        raise WindowError(f"trades: {error}") from None
    for trade in trades:
        _check_trade(trade)
    return trades


def _check_trade(trade: WindowTrade) -> None:
    if not (
        isinstance(trade.trade_id, str)
        and type(trade.rank) is int
        and isinstance(trade.sort_text, str)
        and isinstance(trade.outcome, str)
        and type(trade.commit_ns) is int
    ):
        raise WindowError(f"trades: malformed entry for {trade.trade_id!r}")
    _check_outcome(trade.outcome)


# One close applied since the windows were stored: (its place in the order they were applied,
# agent id, trade). Places only grow; a newer version of a trade replaces its older entry.
LogEntry = tuple[int, str, WindowTrade]


def append_to_log(log: list[LogEntry], agent_id: str, trade: WindowTrade) -> None:
    """Add a close (replacing an older version of the same trade: replayed alone, the newer
    version gives the same windows)."""
    place = log[-1][0] + 1 if log else 0
    log[:] = [entry for entry in log if entry[2].trade_id != trade.trade_id]
    log.append((place, agent_id, trade))


def encode_log(log: Iterable[LogEntry]) -> dict[str, str]:
    """The log keyed by trade id, so that a run adds its entry without rewriting the others."""
    return {
        trade.trade_id: json.dumps(
            [place, agent, trade.rank, trade.sort_text, trade.outcome, trade.commit_ns],
            separators=(",", ":"),
            ensure_ascii=False,
        )
        for place, agent, trade in log
    }


def decode_log(stored: object) -> list[LogEntry]:
    """encode_log's map back to the log, in the order the closes were applied."""
    if stored is None:
        return []
    if not isinstance(stored, Mapping):
        raise WindowError("window_log: not a map")
    log: list[LogEntry] = []
    try:
        for trade_id, text in stored.items():
            place, agent, rank, sort_text, outcome, commit_ns = json.loads(text)
            log.append((place, agent, WindowTrade(trade_id, rank, sort_text, outcome, commit_ns)))
    except (ValueError, TypeError) as error:
        raise WindowError(f"window_log: {error}") from None
    for place, agent, trade in log:
        if type(place) is not int or not isinstance(agent, str):
            raise WindowError(f"window_log: entry {trade.trade_id!r} is malformed")
        _check_trade(trade)
    log.sort(key=lambda entry: entry[0])
    if len({entry[0] for entry in log}) != len(log):
        raise WindowError("window_log: two entries in one place")
    return log


def window_from_fields(fields: Mapping[str, Any], agent_id: str, as_of_ns: int) -> AgentWindow:
    """A stored window's fields -> AgentWindow; WindowError when anything is off."""
    if fields.get("format") != WINDOW_FORMAT:
        raise WindowError(f"format {fields.get('format')!r}, expected {WINDOW_FORMAT}")
    if fields.get("engine_version") != ENGINE_VERSION:  # returns are computed by the engine
        raise WindowError(f"engine_version {fields.get('engine_version')!r}")
    if fields.get("agent_id") != agent_id:
        raise WindowError(f"agent_id {fields.get('agent_id')!r}, expected {agent_id!r}")
    lookback = fields.get("lookback_trades")
    if type(lookback) is not int or lookback < 1:
        raise WindowError(f"lookback_trades {lookback!r}")
    trades = decode_trades(fields.get("trades"))
    if len(trades) > lookback:
        raise WindowError(f"{len(trades)} trades for a lookback of {lookback}")
    return AgentWindow(agent_id, lookback, as_of_ns, trades)


def _check_outcome(outcome: str) -> None:
    try:
        if outcome.startswith(_REJECTED):
            Rejection(outcome[1:])
        elif not Decimal(outcome).is_finite():
            raise WindowError(f"trades: outcome {outcome!r} is not finite")
    except (ValueError, InvalidOperation):
        raise WindowError(f"trades: outcome {outcome!r}") from None


def _utc_text(moment: dt.datetime) -> str:
    # Fixed width in UTC, so that text order is time order (a naive datetime is read as UTC, as
    # in journal.select_agent_trades).
    utc = moment.astimezone(dt.UTC) if moment.tzinfo else moment
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T"
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond:06d}"
    )
