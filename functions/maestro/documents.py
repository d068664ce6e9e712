"""The stored documents: users/{uid}/maestro/weights, the rolling windows
(users/{uid}/maestro/windows, spilling into windows_1, ... when large),
users/{uid}/maestro/config, and the admin-only call limits (maestroLimits/{uid}). Their typed
form, encoding and decoding live here, and no other module names a stored field.

Each document Maestro writes carries its own format version. A weights document of another
format (the shape before the ledger has none) or one that does not decode is Unreadable: the
next run rebuilds it, never misreads it. A window of another format is not used.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation, localcontext
from enum import StrEnum
from typing import Any, Final

from . import ENGINE_VERSION
from .config import FIELD_NAMES, MAX_RUN_TRADES, ConfigError, MaestroConfig, check_run_size
from .events import CallableRequest, ConfigWritten, Request, TradeEvent
from .explain import explain
from .journal import TIMESTAMP_RANK, ClosedTrade, Rejection, trade_from_parts
from .precision import ENGINE_CONTEXT
from .result import WeightsResult
from .timestamps import NANOS_PER_SECOND, from_ns, to_ns
from .window import AgentWindow, Ledger, LedgerEntry, WindowTrade

# Bump when what a document stores changes. Weights: 4 = each agent's diagnostics one JSON
# string (`agents.<id>.diagnostics`); 3 = the ledger as trade id -> commit time, its trades in
# one string (`ledger_trades`); 2 = each ledger entry a map {commit_time, trade};
# 1 (unmarked) = closes_applied and window_log. Windows: 2 = every agent in one document, each
# trade with its closed_at, realized_pnl and capital bases (1: a document per agent, each
# trade's return only).
# Windows and ledger entries hold amounts as journal.py parsed them: a change to that parsing
# (not to a scoring method) must bump WINDOW_FORMAT and WEIGHTS_FORMAT, so that both rebuild.
WEIGHTS_FORMAT: Final = 4
WINDOW_FORMAT: Final = 2
_REJECTED: Final = "!"  # an amount that is a rejection: "!" + Rejection value


class CauseKind(StrEnum):
    CALLABLE = "callable"
    CONFIG = "config"
    TRADE = "trade"
    QUEUE = "queue"


@dataclass(frozen=True, slots=True)
class Cause:
    """What produced a weights version: the callable, a config write, or a trade journal event
    (its trade, event id, kind and, but for a delete, the write's commit time)."""

    kind: CauseKind
    trade_id: str | None = None
    event_id: str | None = None
    commit_ns: int | None = None
    event: str | None = None  # events.EventKind value

    @classmethod
    def of(cls, request: Request) -> Cause:
        if isinstance(request, TradeEvent):
            kind = request.kind.value
            return cls(CauseKind.TRADE, request.trade_id, request.event_id, request.commit_ns, kind)
        if isinstance(request, CallableRequest):
            return cls(CauseKind.CALLABLE)
        # a queued rebuild, or a trade event's delayed check
        return cls(CauseKind.CONFIG if isinstance(request, ConfigWritten) else CauseKind.QUEUE)

    def encode(self) -> dict[str, Any]:
        cause: dict[str, Any] = {"kind": self.kind.value}
        if self.trade_id is not None:
            cause["trade_id"] = self.trade_id
        if self.event_id is not None:
            cause["event_id"] = self.event_id
        if self.commit_ns is not None:
            cause["commit_time"] = from_ns(self.commit_ns)
        if self.event is not None:
            cause["event"] = self.event
        return cause


# --- the config document ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EffectiveConfig:
    config: MaestroConfig
    source: str  # "saved" | "defaults" | "defaults (saved config invalid: <field>: <problem>)"


def resolve_config(
    stored: Mapping[str, Any] | None, max_run_trades: int = MAX_RUN_TRADES
) -> EffectiveConfig:
    """The user's saved config, else the defaults. A config someone corrupted by hand is
    reported in the source and replaced by the defaults. A valid one that reads more journal
    documents than a run may (saved before MAESTRO_MAX_RUN_TRADES was lowered) keeps its agents,
    with lookback_trades cut to fit, said in the source: swapping a user's capital to the
    default agents would be worse. Neither blocks a recompute."""
    if stored is None:
        return EffectiveConfig(MaestroConfig(), "defaults")
    raw = {key: value for key, value in stored.items() if key in FIELD_NAMES}
    try:
        config = MaestroConfig.from_mapping(raw)
    except ConfigError as error:
        return EffectiveConfig(MaestroConfig(), f"defaults (saved config invalid: {error})")
    try:
        return EffectiveConfig(check_run_size(config, max_run_trades), "saved")
    except ConfigError as error:
        fitting = max_run_trades // len(config.agent_ids)
        try:
            cut_config = MaestroConfig.from_mapping({**raw, "lookback_trades": fitting})
            cut = check_run_size(cut_config, max_run_trades)
        except ConfigError:
            return EffectiveConfig(MaestroConfig(), f"defaults (saved config invalid: {error})")
        return EffectiveConfig(
            cut,
            f"saved, lookback_trades cut to {fitting} (MAESTRO_MAX_RUN_TRADES {max_run_trades})",
        )


def config_fields(config: MaestroConfig, updated_at: object) -> dict[str, Any]:
    """The config document: the options as JSON, and when they were saved (`updated_at`: the
    server's timestamp sentinel)."""
    return {**config.to_json_dict(), "updated_at": updated_at}


# --- the weights document ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredWeights:
    """The weights document as read back: what decisions need, typed, and the document itself
    (`fields`, as stored) for clients and for the next write's difference."""

    fields: Mapping[str, Any]
    journal_as_of_ns: int
    ledger: Ledger
    config: Mapping[str, Any]
    config_source: str
    cause_event_id: str | None
    computed_at_ns: int
    latest_closed_at: dt.datetime | None
    engine_version: str
    stale: bool

    def reflects(self, trade_id: str, commit_ns: int) -> bool:
        """Whether this version reflects the journal write of `trade_id` committed at
        `commit_ns`: versions only accumulate, so a later one does too."""
        entry = self.ledger.get(trade_id)
        return _reflects(self.journal_as_of_ns, entry.trade.commit_ns if entry else None, commit_ns)

    def agent_ids(self) -> tuple[str, ...]:
        """The agents of the config these weights were computed with."""
        agents = self.config.get("agent_ids")
        return tuple(a for a in agents if isinstance(a, str)) if isinstance(agents, list) else ()

    def uses(self, effective: EffectiveConfig) -> bool:
        """Computed with exactly this effective config (options and where they came from)."""
        return (
            self.config == effective.config.to_json_dict()
            and self.config_source == effective.source
        )


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A stored document that exists but cannot be trusted (another format, or damaged)."""

    reason: str
    fields: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a weights version comes from: the run's cause and watermarks."""

    cause: Cause
    config_source: str
    computed_at_ns: int  # the instant the run's inputs were read
    journal_as_of_ns: int  # every journal write committed at or before it is reflected
    latest_closed_at: dt.datetime | None


def has_result(fields: Mapping[str, Any]) -> bool:
    """Whether a weights document holds a result (an unreadable one may not)."""
    return isinstance(fields.get("weights"), Mapping) and isinstance(fields.get("agents"), Mapping)


def weights_of(fields: Mapping[str, Any]) -> Mapping[str, str]:
    """The weights of a document that has_result(): agent -> decimal string."""
    weights: Mapping[str, str] = fields["weights"]
    return weights


def reasons_of(fields: Mapping[str, Any]) -> dict[str, str]:
    """Why each agent of a document that has_result() got its weight, in a few plain words
    (explain.py), thin evidence marked."""
    reasons = {}
    for agent, detail in fields["agents"].items():
        stored = detail.get("explanation") if isinstance(detail, Mapping) else None
        try:
            explanation = stored if isinstance(stored, Mapping) else explain(detail).to_json_dict()
        except (KeyError, TypeError, ValueError, ArithmeticError):
            # a stored document someone damaged: its log line must not fail the run it follows
            reasons[agent] = "unexplained (the stored entry is not one Maestro writes)"
            continue
        thin = " (thin evidence)" if explanation.get("thin_evidence") else ""
        reasons[agent] = f"{explanation.get('reason')}{thin}"
    return reasons


def reflects_write(document: Mapping[str, Any], trade_id: str, commit: dt.datetime) -> bool:
    """The client's question, "is my trade in?", on a weights document as read from Firestore:
    a write committed at `commit` is reflected when journal_as_of >= it, or when
    ledger[trade_id], the commit time of the write applied, is >= it (to the nanosecond)."""
    as_of = document.get("journal_as_of")
    ledger = document.get("ledger")
    applied = ledger.get(trade_id) if isinstance(ledger, Mapping) else None
    return _reflects(
        to_ns(as_of) if isinstance(as_of, dt.datetime) else None,
        to_ns(applied) if isinstance(applied, dt.datetime) else None,
        to_ns(commit),
    )


def _reflects(as_of_ns: int | None, ledger_ns: int | None, commit_ns: int) -> bool:
    return (as_of_ns is not None and as_of_ns >= commit_ns) or (
        ledger_ns is not None and ledger_ns >= commit_ns
    )


def weights_version(
    result: WeightsResult,
    provenance: Provenance,
    ledger: Ledger,
    previous: StoredWeights | Unreadable | None,
) -> StoredWeights:
    """A new weights version, typed, with the document to store (`fields`): the CLI's --json
    payload, each agent's diagnostics in one string (_encode_agents), plus provenance and the
    ledger (_encode_ledger)."""
    commit_times, trades = _encode_ledger(ledger, previous)
    payload = result.to_json_dict()
    cause = provenance.cause
    fields = {
        **payload,
        "agents": _encode_agents(payload["agents"]),
        "config_source": provenance.config_source,
        "cause": cause.encode(),
        "computed_at": from_ns(provenance.computed_at_ns),
        "journal_as_of": from_ns(provenance.journal_as_of_ns),
        "latest_closed_at": provenance.latest_closed_at,
        "engine_version": ENGINE_VERSION,
        "stale": False,
        "ledger": commit_times,
        "ledger_trades": trades,
        "format": WEIGHTS_FORMAT,
    }
    return StoredWeights(
        fields=fields,
        journal_as_of_ns=provenance.journal_as_of_ns,
        ledger=ledger,
        config=payload["config"],
        config_source=provenance.config_source,
        cause_event_id=cause.event_id,
        computed_at_ns=provenance.computed_at_ns,
        latest_closed_at=provenance.latest_closed_at,
        engine_version=ENGINE_VERSION,
        stale=False,
    )


DIAGNOSTICS: Final = "diagnostics"


def _encode_agents(agents: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each agent's entry as stored: the engine's JSON form, its `diagnostics` one compact JSON
    string (the same map: decimals as strings, keys in the engine's order) in its place. They
    describe and never allocate, no client reads them from the document, and the emulator's
    cost of a write and of every listener's copy follows the values a document holds (about 13
    an agent as a map, written by every close: docs/performance.md, section 2). The callable's
    answer gives them back as a map (to_json_ready)."""
    return {
        agent: {**detail, DIAGNOSTICS: _compact_json(detail[DIAGNOSTICS])}
        for agent, detail in agents.items()
    }


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _decode_agents(agents: object) -> None:
    """Every agent's stored diagnostics must be a JSON object string (raises DocumentError):
    the callable hands them back as a map, and a damaged one is rebuilt, never passed on."""
    for agent, detail in _typed(agents, Mapping, "agents").items():
        where = f"agents.{agent}.{DIAGNOSTICS}"
        _json_object(_typed(detail, Mapping, f"agents.{agent}").get(DIAGNOSTICS), where)


# --- the audit trail: users/{uid}/maestro/weights/history/{versionId} --------------------------

HISTORY_AGENT_FIELDS: Final = ("score", "status", "trades_used", "trades_rejected")


def history_entry(
    version: StoredWeights, previous: StoredWeights | Unreadable | None, retention_days: int
) -> tuple[str, dict[str, Any]] | None:
    """The audit trail's entry for a new weights version, keyed by its computation time (ids
    sort as versions do), or None when it allocates exactly as the stored version does (a
    recorded close outside its window, a rebuild that changes nothing) or the trail is off
    (`retention_days` 0). `expires_at` is the TTL policy's field."""
    fields = version.fields
    if retention_days <= 0 or (
        isinstance(previous, StoredWeights) and _allocation(previous.fields) == _allocation(fields)
    ):
        return None
    agents = fields.get("agents", {})
    entry = {
        "computed_at": fields["computed_at"],
        "journal_as_of": fields["journal_as_of"],
        "weights": fields["weights"],
        "agents": {agent: _history_agent(stats) for agent, stats in agents.items()},
        "config": fields["config"],
        "cause": fields["cause"],
        "expires_at": from_ns(version.computed_at_ns + retention_days * 86_400 * NANOS_PER_SECOND),
    }
    if "exposure" in fields:
        entry["exposure"] = fields["exposure"]
    return f"{version.computed_at_ns:020d}", entry


def _allocation(fields: Mapping[str, Any]) -> tuple[Any, Any]:
    return fields.get("weights"), fields.get("exposure")


def _history_agent(stats: Mapping[str, Any]) -> dict[str, Any]:
    """An agent's line in the trail: what a person asks of a past allocation (its score, its
    status and the plain reason for its weight), not the diagnostics."""
    line = {name: stats.get(name) for name in HISTORY_AGENT_FIELDS}
    explanation = stats.get("explanation")
    line["reason"] = explanation.get("reason") if isinstance(explanation, Mapping) else None
    return line


def history_page(entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Trail entries as the callable returns them: timestamps as ISO-8601 strings."""
    return [{key: _json_value(value) for key, value in entry.items()} for entry in entries]


def decode_weights(fields: Mapping[str, Any] | None) -> StoredWeights | Unreadable | None:
    """The stored weights document typed, Unreadable when it is of another format or damaged,
    None when there is none."""
    if fields is None:
        return None
    if fields.get("format") != WEIGHTS_FORMAT:
        return Unreadable(f"format {fields.get('format')!r}, expected {WEIGHTS_FORMAT}", fields)
    try:
        cause = fields["cause"]
        event_id = cause.get("event_id")
        _decode_agents(fields["agents"])
        stored = StoredWeights(
            fields=fields,
            journal_as_of_ns=_ns(fields["journal_as_of"], "journal_as_of"),
            ledger=_decode_ledger(fields["ledger"], fields["ledger_trades"]),
            config=_typed(fields["config"], Mapping, "config"),
            config_source=_typed(fields["config_source"], str, "config_source"),
            cause_event_id=event_id if isinstance(event_id, str) else None,
            computed_at_ns=_ns(fields["computed_at"], "computed_at"),
            latest_closed_at=_optional_moment(fields["latest_closed_at"], "latest_closed_at"),
            engine_version=_typed(fields["engine_version"], str, "engine_version"),
            stale=_typed(fields["stale"], bool, "stale"),
        )
    except (KeyError, AttributeError, TypeError, ArithmeticError, DocumentError) as error:
        # ArithmeticError: amounts no encoder writes (a capital of 0, an exponent too large).
        return Unreadable(f"damaged: {error!r}", fields)
    return stored


def stale_fields(reason: str, since: object) -> dict[str, Any]:
    """What a failed run adds to the stored weights (`since`: the server's timestamp sentinel)."""
    return {"stale": True, "stale_reason": reason, "stale_since": since}


def to_json_ready(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A weights document as the callable returns it: timestamps as ISO-8601 strings, without
    the ledger's replay data (`ledger_trades`: Maestro's own), each agent's diagnostics a map
    again (the CLI's --json shape, as before format 4 stored them as one string)."""
    ready = {key: _json_value(value) for key, value in fields.items() if key != "ledger_trades"}
    agents = ready.get("agents")
    if isinstance(agents, dict):
        ready["agents"] = {agent: _agent_json_ready(detail) for agent, detail in agents.items()}
    return ready


def _agent_json_ready(detail: Any) -> Any:
    # Only documents that decoded (decode_weights checked the string) reach the callable; a
    # damaged one elsewhere (a trigger's log) keeps what is stored rather than failing.
    text = detail.get(DIAGNOSTICS) if isinstance(detail, dict) else None
    if isinstance(text, str):
        with contextlib.suppress(DocumentError):
            detail[DIAGNOSTICS] = _json_object(text, DIAGNOSTICS)
    return detail


def _encode_ledger(
    ledger: Ledger, previous: StoredWeights | Unreadable | None
) -> tuple[dict[str, Any], str]:
    """The ledger as stored: `ledger`, trade id -> the commit time of the write applied (what
    clients read: one value per close), and `ledger_trades`, one JSON object of trade id ->
    [agent id, the trade's stored row without its id] (Maestro's replay data). The emulator's
    cost of a write, and every listener's copy, grows with the values a document holds more
    than with its bytes (docs/performance.md, section 2): one string holds one value where a
    map per entry held two more per close. What the previous version stored for an entry it
    holds unchanged is carried over: its commit time as the same object (the write skips it:
    firestore_io's patch), its row as text (a close appends its own to the stored string)."""
    stored_times: Mapping[str, Any] = {}
    old: Ledger = {}
    text = "{}"
    if isinstance(previous, StoredWeights):
        stored_times, old = previous.fields["ledger"], previous.ledger
        text = previous.fields["ledger_trades"]
    commit_times: dict[str, Any] = {}
    added: dict[str, list[Any]] = {}
    for trade_id, entry in ledger.items():
        if trade_id in stored_times and old.get(trade_id) == entry:
            commit_times[trade_id] = stored_times[trade_id]
        else:
            commit_times[trade_id] = from_ns(entry.trade.commit_ns)
            added[trade_id] = _ledger_row(entry)
    if len(commit_times) - len(added) < len(old):  # an entry replaced or dropped: all anew
        added = {trade_id: _ledger_row(entry) for trade_id, entry in ledger.items()}
        text = "{}"
    if added:
        rows = json.dumps(added, separators=(",", ":"), ensure_ascii=False)
        text = rows if text == "{}" else f"{text[:-1]},{rows[1:]}"
    return commit_times, text


def _ledger_row(entry: LedgerEntry) -> list[Any]:
    return [entry.agent_id, *_trade_row(entry.trade.trade)[1:]]  # the trade id is the key


def _decode_ledger(commit_times: object, trades: object) -> dict[str, LedgerEntry]:
    with localcontext(ENGINE_CONTEXT):  # each trade's return is computed as it is decoded
        return _decode_ledger_entries(commit_times, trades)


def _decode_ledger_entries(commit_times: object, trades: object) -> dict[str, LedgerEntry]:
    times = _typed(commit_times, Mapping, "ledger")
    rows = _json_object(trades, "ledger_trades")
    if rows.keys() != times.keys():
        missing = sorted(rows.keys() ^ times.keys())[:3]
        raise DocumentError(f"ledger and ledger_trades hold different trades: {missing}")
    ledger: dict[str, LedgerEntry] = {}
    for trade_id, row in rows.items():
        commit_ns = _ns(times[trade_id], f"ledger.{trade_id}")
        if not isinstance(row, list) or not row or not isinstance(row[0], str):
            raise DocumentError(f"ledger_trades.{trade_id}: no agent id")
        trade = _trade_from_row([trade_id, *row[1:]], f"ledger_trades.{trade_id}")
        ledger[trade_id] = LedgerEntry(row[0], WindowTrade(trade, commit_ns))
    return ledger


# --- the windows ------------------------------------------------------------------------------

WINDOWS_DOC: Final = "windows"
# A shard of the windows stays under this (Firestore's limit is 1 MiB per document), and all of
# them under MAX_WINDOWS_BYTES (they go in the rebuild's one commit, limited to 10 MiB).
MAX_SHARD_BYTES: Final = 900_000
MAX_WINDOWS_BYTES: Final = 8_000_000
MAX_SHARDS: Final = MAX_WINDOWS_BYTES // (MAX_SHARD_BYTES // 2) + 1


def windows_document_id(shard: int) -> str:
    """users/{uid}/maestro/windows holds every agent's window (and how many shards there are);
    windows too large for one document spill into windows_1, windows_2, ..."""
    return WINDOWS_DOC if shard == 0 else f"{WINDOWS_DOC}_{shard}"


def encode_windows(windows: Mapping[str, AgentWindow]) -> list[dict[str, Any]] | None:
    """The window documents of one rebuild (all of one as_of and lookback): as few as fit, the
    first naming how many there are. None when one agent's window alone would not fit a
    document, or all of them the commit: then none is stored, and closes rebuild from the
    journal (slower, never wrong)."""
    encoded = {
        agent: json.dumps(
            [[*_trade_row(held.trade), held.commit_ns] for held in window.trades],
            separators=(",", ":"),
            ensure_ascii=False,
        )
        for agent, window in windows.items()
    }
    shards: list[dict[str, str]] = [{}]
    size = total = 0
    for agent, text in encoded.items():
        entry = len(text.encode()) + len(agent.encode()) + 2
        total += entry
        if entry > MAX_SHARD_BYTES or total > MAX_WINDOWS_BYTES:
            return None
        if size + entry > MAX_SHARD_BYTES:
            shards.append({})
            size = 0
        shards[-1][agent] = text
        size += entry
    first = next(iter(windows.values()), None)
    as_of = from_ns(first.as_of_ns) if first else None
    lookback = first.lookback_trades if first else None
    return [
        {
            "format": WINDOW_FORMAT,
            "as_of": as_of,
            "lookback_trades": lookback,
            "shard": index,
            "shard_count": len(shards),
            "windows": shard,
        }
        for index, shard in enumerate(shards)
    ]


def window_shard_count(head: Mapping[str, Any] | None) -> int:
    """How many window documents the first one says there are (1 when unreadable or more
    than a rebuild can write)."""
    count = head.get("shard_count") if head is not None else None
    return count if type(count) is int and 1 <= count <= MAX_SHARDS else 1


def decode_windows(shards: list[Mapping[str, Any]]) -> dict[str, AgentWindow]:
    """Every readable agent window of the stored shards; a shard of another format, as_of or
    shard count, or a damaged window, is left out (its agents are then missing: rebuilt)."""
    head = shards[0] if shards else None
    if head is None or head.get("format") != WINDOW_FORMAT:
        return {}
    windows: dict[str, AgentWindow] = {}
    with localcontext(ENGINE_CONTEXT):  # each trade's return is computed as it is decoded
        for shard in shards:
            if any(shard.get(k) != head.get(k) for k in ("format", "as_of", "shard_count")):
                continue
            stored = shard.get("windows")
            for agent, text in stored.items() if isinstance(stored, Mapping) else ():
                window = _decode_window(agent, text, head)
                if isinstance(window, AgentWindow):
                    windows[agent] = window
    return windows


def _decode_window(
    agent_id: str, text: object, head: Mapping[str, Any]
) -> AgentWindow | Unreadable:
    try:
        lookback = head.get("lookback_trades")
        if type(lookback) is not int or lookback < 1:
            raise DocumentError(f"lookback_trades {lookback!r}")
        trades = []
        for row in _json_list(text, f"windows.{agent_id}"):
            if not isinstance(row, list) or len(row) != 7 or type(row[-1]) is not int:
                raise DocumentError(f"windows.{agent_id}: malformed row {str(row)[:80]}")
            trades.append(WindowTrade(_trade_from_row(row[:-1], f"windows.{agent_id}"), row[-1]))
        if len(trades) > lookback:
            raise DocumentError(f"{len(trades)} trades for a lookback of {lookback}")
        as_of_ns = _ns(head.get("as_of"), "as_of")
    except (TypeError, ArithmeticError, DocumentError) as error:
        return Unreadable(repr(error))
    return AgentWindow(agent_id, lookback, as_of_ns, tuple(trades))


# --- a closed trade's stored form (in windows and ledger entries) -----------------------------


def _trade_row(trade: ClosedTrade) -> list[Any]:
    """[trade_id, closed_at rank, closed_at text, realized_pnl, notional, allocated]: amounts as
    exact decimal strings (str() round-trips through Decimal()), rejections as "!" + reason, a
    missing allocated_capital as null."""
    closed_at = trade.closed_at
    text = _utc_text(closed_at) if isinstance(closed_at, dt.datetime) else closed_at
    return [
        trade.trade_id,
        trade.closed_at_rank,
        text,
        _amount_text(trade.realized_pnl),
        _amount_text(trade.notional_capital),
        # Most journals have no allocated_capital: null, rather than the rejection's name.
        None
        if trade.allocated_capital is Rejection.ALLOCATED_CAPITAL_MISSING
        else _amount_text(trade.allocated_capital),
    ]


def _trade_from_row(row: list[Any], where: str) -> ClosedTrade:
    if len(row) != 6:
        raise DocumentError(f"{where}: a trade has {len(row)} fields, expected 6")
    trade_id, rank, text, pnl, notional, allocated = row
    if not isinstance(trade_id, str) or type(rank) is not int or not isinstance(text, str):
        raise DocumentError(f"{where}: malformed trade {str(row)[:80]}")
    closed_at: dt.datetime | str = text
    if rank == TIMESTAMP_RANK:
        try:
            # _utc_text's fixed-width UTC text: parsed with its offset, 8x faster than
            # .replace(tzinfo=...) after it (a close on a new instance decodes every window)
            closed_at = dt.datetime.fromisoformat(text + "+00:00")
        except ValueError:
            raise DocumentError(f"{where}: closed_at {text!r}") from None
    return trade_from_parts(
        trade_id,
        rank,
        closed_at,
        _amount_from_text(pnl, where),
        _amount_from_text(notional, where),
        _allocated_from_text(allocated, where),
    )


def _amount_text(amount: Decimal | Rejection) -> str:
    return _REJECTED + amount.value if isinstance(amount, Rejection) else str(amount)


def _allocated_from_text(text: object, where: str) -> Decimal | Rejection:
    if text is None:
        return Rejection.ALLOCATED_CAPITAL_MISSING
    return _amount_from_text(text, where)


def _amount_from_text(text: object, where: str) -> Decimal | Rejection:
    if not isinstance(text, str):
        raise DocumentError(f"{where}: amount {text!r} is not a string")
    try:
        if text.startswith(_REJECTED):
            return Rejection(text[1:])
        amount = Decimal(text)
    except (ValueError, InvalidOperation):
        raise DocumentError(f"{where}: amount {text!r}") from None
    if not amount.is_finite():
        raise DocumentError(f"{where}: amount {text!r} is not finite")
    return amount


def _utc_text(moment: dt.datetime) -> str:
    # Fixed width, UTC (ClosedTrade holds closed_at in UTC): text order is time order.
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}.{moment.microsecond:06d}"
    )


# --- the call limits document (admin-only: maestroLimits/{uid}) -----------------------------

CALL_LIMITS_FORMAT: Final = 1


def call_log_of(fields: Mapping[str, Any] | None) -> tuple[int, ...]:
    """The admitted expensive calls' times (ns). A document of another format or a damaged
    one counts as empty: the limit then lets a burst through once, and the next admitted call
    rewrites the document whole."""
    if fields is None or fields.get("format") != CALL_LIMITS_FORMAT:
        return ()
    times = fields.get("admitted_ns")
    if not isinstance(times, list) or not all(type(t) is int for t in times):
        return ()
    return tuple(times)


def call_log_fields(log_ns: tuple[int, ...], expires_at_ns: int) -> dict[str, Any]:
    """`expires_at`: the field a Firestore TTL policy deletes the document by (README)."""
    return {
        "format": CALL_LIMITS_FORMAT,
        "admitted_ns": list(log_ns),
        "expires_at": from_ns(expires_at_ns),
    }


# --- decoding helpers -------------------------------------------------------------------------


class DocumentError(ValueError):
    """A stored document does not decode."""


def _typed(value: Any, kind: Any, name: str) -> Any:
    if not isinstance(value, kind):
        raise DocumentError(f"{name}: {type(value).__name__}")
    return value


def _ns(value: object, name: str) -> int:
    if not isinstance(value, dt.datetime):
        raise DocumentError(f"{name}: not a timestamp")
    return to_ns(value)


def _optional_moment(value: object, name: str) -> dt.datetime | None:
    if value is not None and not isinstance(value, dt.datetime):
        raise DocumentError(f"{name}: not a timestamp")
    return value


def _json_list(text: object, name: str) -> list[Any]:
    rows = _json(text, name)
    if not isinstance(rows, list):
        raise DocumentError(f"{name}: not a list")
    return rows


def _json_object(text: object, name: str) -> dict[str, Any]:
    rows = _json(text, name)
    if not isinstance(rows, dict):
        raise DocumentError(f"{name}: not an object")
    return rows


def _json(text: object, name: str) -> Any:
    if not isinstance(text, str):
        raise DocumentError(f"{name}: not a string")
    try:
        return json.loads(text)
    except ValueError as error:
        raise DocumentError(f"{name}: {error}") from None


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {key: _json_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    return value


# --- a user's documents, read together --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredDocuments:
    """What one read of a user's Maestro documents returned, as Firestore gave it."""

    weights: Mapping[str, Any] | None
    weights_update_time: dt.datetime | None
    config: Mapping[str, Any] | None
    windows: list[Mapping[str, Any]] | None  # None: not read
    read_time: dt.datetime


@dataclass(frozen=True, slots=True)
class UserState:
    """A user's stored documents, typed, as they all were at `read_ns`. `weights_update_time`
    is the weights document's, for the next write's precondition; `windows` are the stored
    (rebuilt) windows by agent, None when they were not read; `current`, when known, the
    windows with the weights' ledger merged in (window.current_windows)."""

    weights: StoredWeights | Unreadable | None
    weights_update_time: dt.datetime | None
    config: EffectiveConfig
    windows: Mapping[str, AgentWindow] | None
    read_ns: int
    current: Mapping[str, AgentWindow] | None = None
    # What the engine worked out on `current` (weighting.AgentWork), when this instance ran it.
    work: Mapping[str, Any] | None = None

    @classmethod
    def decode(cls, stored: StoredDocuments, max_run_trades: int = MAX_RUN_TRADES) -> UserState:
        windows = decode_windows(stored.windows) if stored.windows is not None else None
        return cls(
            decode_weights(stored.weights),
            stored.weights_update_time,
            resolve_config(stored.config, max_run_trades),
            windows,
            to_ns(stored.read_time),
        )
