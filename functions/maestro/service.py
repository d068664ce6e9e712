"""recompute(): the one path from a user's journal in Firestore to users/{uid}/maestro/weights.

The callable, the trigger and the orchestrator all come through here. The order of a run:
1. read the stored weights and config together (one RPC); that read's time is the run's
   watermark (everything committed before it is visible to what follows);
2. skip when the stored weights already reflect this trigger event;
3. a close: take the agents' rolling windows (window.py) as stored at the last rebuild (from this
   instance's memory when it has seen them), replay the closes applied since (the weights
   document's window_log) and apply this one: no journal read at all. Otherwise (the callable,
   a delete, an edit, a reopening, stale weights, damaged or old windows), query every agent at
   the watermark and rebuild the windows;
4. compute the weights, and store them (with the windows, after a rebuild) in one atomic write,
   only if the weights document is still the version read in 1; else read again and redo.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from . import ENGINE_VERSION, firestore_io
from .config import FIELD_NAMES, ConfigError, MaestroConfig
from .journal import JournalEntry
from .weighting import weights_from_selection
from .window import (
    AgentWindow,
    CloseEffect,
    LogEntry,
    WindowError,
    agent_trades,
    append_to_log,
    apply_close,
    decode_log,
    encode_log,
    newest_closed_at,
    rebuild_window,
    window_trade,
)

if TYPE_CHECKING:
    from google.cloud.firestore import Client, DocumentSnapshot

    from .result import WeightsResult

CACHE_TTL_SECONDS_DEFAULT: Final = 300
# A trigger rebuilds every window from the journal when they were last rebuilt longer ago than
# this: it bounds how long a close lost by a run that crashed outright (no stale flag) stays
# missing. 0 turns windows off: every recompute queries the journal.
WINDOW_MAX_AGE_SECONDS_DEFAULT: Final = 3600
# The weights document records the closes applied since journal_as_of (closes_applied, and
# window_log to replay them); after this many, the next close rebuilds instead, which keeps the
# document small and also bounds how long a close lost by a crashed run stays missing.
MAX_CLOSES_APPLIED: Final = 100
CONFLICT_BACKOFF_SECONDS: Final = 0.01
# Fields of the weights document that are Maestro's bookkeeping: stored, never returned.
INTERNAL_FIELDS: Final = frozenset({"window_log"})


class WindowCache:
    """Windows change only when rebuilt, and their rebuild time (journal_as_of) names them: a
    warm instance keeps the ones it has read or written, up to `max_trades` trades in all (about
    300 bytes each), dropping the oldest first. Safe to share between request threads."""

    def __init__(self, max_trades: int) -> None:
        self._windows: dict[tuple[str, str, int, int], AgentWindow] = {}
        self._trades = 0
        self._max_trades = max_trades
        self._lock = threading.Lock()

    def get(self, uid: str, agent_id: str, lookback: int, as_of_ns: int) -> AgentWindow | None:
        with self._lock:
            return self._windows.get((uid, agent_id, lookback, as_of_ns))

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()
            self._trades = 0

    def put(self, uid: str, window: AgentWindow) -> None:
        key = (uid, window.agent_id, window.lookback_trades, window.as_of_ns)
        with self._lock:
            if key in self._windows:
                return
            while self._windows and self._trades + len(window.trades) > self._max_trades:
                oldest = next(iter(self._windows))
                self._trades -= len(self._windows.pop(oldest).trades)
            self._windows[key] = window
            self._trades += len(window.trades)


_window_cache: Final = WindowCache(max_trades=50_000)


@dataclass(frozen=True, slots=True)
class KnownState:
    """A user's state as this instance last stored it: the weights document (with its commit
    time as update time), the config it was computed from, and the windows with window_log
    replayed. True exactly while the weights document keeps that update time, which every write
    checks; a config change always rewrites the weights (the callable, or the config trigger)."""

    state: firestore_io.UserState
    document: Mapping[str, Any]  # the weights document as stored (never modified)
    windows: Mapping[str, AgentWindow]
    log: tuple[LogEntry, ...]


class KnownStates:
    """KnownState per user, for at most `max_users` users (oldest dropped first)."""

    def __init__(self, max_users: int) -> None:
        self._states: dict[str, KnownState] = {}
        self._max_users = max_users
        self._lock = threading.Lock()

    def get(self, uid: str) -> KnownState | None:
        with self._lock:
            return self._states.get(uid)

    def put(self, uid: str, known: KnownState) -> None:
        with self._lock:
            self._states.pop(uid, None)
            while len(self._states) >= self._max_users:
                del self._states[next(iter(self._states))]
            self._states[uid] = known

    def clear(self) -> None:
        with self._lock:
            self._states.clear()

    def forget(self, uid: str, known: KnownState) -> None:
        with self._lock:
            if self._states.get(uid) is known:
                del self._states[uid]


_known_states: Final = KnownStates(max_users=2_000)


def forget_instance_memory() -> None:
    """Drop what this instance remembers (windows, stored states), as a new instance starts."""
    _known_states.clear()
    _window_cache.clear()


@dataclass(frozen=True, slots=True)
class Cause:
    """What started a run: the callable, or a trade journal event."""

    kind: str  # "callable" | "trade" | "config" | "orchestrator"
    trade_id: str | None = None
    event_id: str | None = None
    # Commit time of the journal write that fired the event (None for deletes: unknown).
    commit_time: dt.datetime | None = None

    def to_document(self) -> dict[str, Any]:
        cause: dict[str, Any] = {"kind": self.kind}
        if self.trade_id is not None:
            cause["trade_id"] = self.trade_id
        if self.event_id is not None:
            cause["event_id"] = self.event_id
        if self.commit_time is not None:
            cause["commit_time"] = self.commit_time
        return cause


@dataclass(frozen=True, slots=True)
class EffectiveConfig:
    config: MaestroConfig
    source: str  # "saved" | "defaults" | "defaults (saved config invalid: ...)"
    problem: str | None = None


@dataclass(slots=True)
class RunOutcome:
    """What a run did: `document` is the stored weights document (this run's or the one that
    made the run unnecessary), as JSON-ready values. `path`: "window" when a close was applied
    to its agent's window, "query" when windows were rebuilt from the journal."""

    status: str  # "written" | "superseded" | "skipped" | "cached"
    reason: str
    document: dict[str, Any] | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    agent_count: int = 0
    path: str = ""


def resolve_config(snapshot: DocumentSnapshot) -> EffectiveConfig:
    """The user's saved config, else the defaults. A config someone corrupted by hand is reported
    and replaced by the defaults; it never blocks a recompute."""
    if not snapshot.exists:
        return EffectiveConfig(MaestroConfig(), "defaults")
    raw = {key: value for key, value in (snapshot.to_dict() or {}).items() if key in FIELD_NAMES}
    try:
        return EffectiveConfig(MaestroConfig.from_mapping(raw), "saved")
    except ConfigError as error:
        return EffectiveConfig(
            MaestroConfig(), f"defaults (saved config invalid: {error})", problem=str(error)
        )


def recompute(
    db: Client,
    uid: str,
    cause: Cause,
    *,
    touched_agents: frozenset[str] | None = None,
    closed_trade: JournalEntry | None = None,
    state: firestore_io.UserState | None = None,
    window_max_age_seconds: int = WINDOW_MAX_AGE_SECONDS_DEFAULT,
) -> RunOutcome:
    """Recompute the user's weights and store them unless a newer run already has.

    `closed_trade`: the trade a trigger saw become closed (its document after the write; the
    commit time is cause.commit_time); any other journal change passes only `touched_agents`.
    `state`: a read_user_state() the caller already made (the callable, for its cache check)."""
    from google.api_core import exceptions

    started = time.perf_counter()
    timings: dict[str, float] = {}
    first_read_ns: int | None = None
    for attempt in range(firestore_io.CAS_ATTEMPTS):
        if attempt:
            timings["conflicts"] = attempt
        outcome, read_ns = _attempt(
            db,
            uid,
            cause,
            touched_agents,
            closed_trade,
            state,
            window_max_age_seconds,
            first_read_ns,
            timings,
        )
        if outcome is not None:
            timings["total"] = _elapsed_ms(started)
            outcome.timings_ms = timings
            return outcome
        state = None  # another run stored first: read again, and redo against what it stored
        first_read_ns = first_read_ns or read_ns
        # Closes of one user arriving together all write the weights: spread their retries.
        time.sleep(random.uniform(0, CONFLICT_BACKOFF_SECONDS * (attempt + 1)))
    raise exceptions.Aborted(
        f"weights of {uid}: too much contention ({firestore_io.CAS_ATTEMPTS} attempts)"
    )


def _attempt(
    db: Client,
    uid: str,
    cause: Cause,
    touched_agents: frozenset[str] | None,
    closed_trade: JournalEntry | None,
    state: firestore_io.UserState | None,
    window_max_age_seconds: int,
    first_read_ns: int | None,
    timings: dict[str, float],
) -> tuple[RunOutcome | None, int]:
    """One read-compute-write pass; (None, read time) when the write lost a race.

    A close first tries the state this instance itself stored last (no read at all): the write's
    precondition proves it is still current, and if it is not, or the close needs a rebuild,
    the pass starts over from a read."""
    run = _Run(db, uid, cause, touched_agents, closed_trade, window_max_age_seconds, timings)
    known = _known_states.get(uid)
    if state is None and known is not None and cause.kind == "trade" and first_read_ns is None:
        result = run.apply(known.state, known, first_read_ns, from_memory=True)
        if result is not None:
            return result
        _known_states.forget(uid, known)
        timings["memory_outdated"] = 1
    if state is None:
        mark = time.perf_counter()
        state = firestore_io.read_user_state(db, uid)
        timings["read_state"] = _elapsed_ms(mark)
    result = run.apply(state, _known_states.get(uid), first_read_ns, from_memory=False)
    assert result is not None  # only a remembered state asks to read afresh
    return result


@dataclass(slots=True)
class _Run:
    db: Client
    uid: str
    cause: Cause
    touched_agents: frozenset[str] | None
    closed_trade: JournalEntry | None
    window_max_age_seconds: int
    timings: dict[str, float]

    def unneeded(
        self, stored: Mapping[str, Any] | None, first_read_ns: int | None
    ) -> RunOutcome | None:
        """The outcome when the stored weights make this run unnecessary."""
        if stored is None:
            return None
        if self.cause.kind == "trade":
            covered = _already_covered(stored, self.cause)
            if covered is not None:
                return RunOutcome("skipped", covered, to_json_ready(stored))
        elif first_read_ns is not None:
            superseded = _journal_as_of_ns(stored)
            if superseded is not None and superseded >= first_read_ns and not stored.get("stale"):
                reason = (
                    f"a run that read the journal as of {stored['journal_as_of']} stored its "
                    "weights first"
                )
                return RunOutcome("superseded", reason, to_json_ready(stored))
        return None

    def rebuild(self, config: MaestroConfig, read_time: dt.datetime) -> list[AgentWindow]:
        """Every agent's window from its journal query, at the run's read time."""
        mark = time.perf_counter()
        journals = firestore_io.query_agent_journals(
            self.db, self.uid, config.agent_ids, config.lookback_trades, read_time=read_time
        )
        read_ns = firestore_io.to_ns(read_time)
        rebuilt = [
            rebuild_window(agent, journals[agent], config.lookback_trades, read_ns)
            for agent in config.agent_ids
        ]
        self.timings["read_journal"] = _elapsed_ms(mark)
        return rebuilt

    def apply(
        self,
        state: firestore_io.UserState,
        known: KnownState | None,
        first_read_ns: int | None,
        *,
        from_memory: bool,
    ) -> tuple[RunOutcome | None, int] | None:
        """Run on `state`: (outcome, read time), or (None, read time) when the write lost a race.
        From a remembered state, None when it must be read afresh (it is outdated, or a rebuild
        needs a real read time)."""
        db, uid, cause, timings = self.db, self.uid, self.cause, self.timings
        read_ns = firestore_io.to_ns(state.read_time)
        if from_memory and cause.commit_time is not None:
            # Inputs known current up to the write; this close's commit is the newest of them.
            read_ns = max(read_ns, firestore_io.to_ns(cause.commit_time))
        if from_memory and known is not None:
            stored: Mapping[str, Any] | None = known.document  # not copied: only read
        else:
            stored = state.weights.to_dict() if state.weights.exists else None

        unneeded = self.unneeded(stored, first_read_ns)
        if unneeded is not None:
            return unneeded, read_ns

        effective = resolve_config(state.config)
        config = effective.config
        touched = self.touched_agents
        if touched is not None and not touched & set(config.agent_ids):
            reason = f"trade of agent(s) {sorted(touched)} not in agent_ids"
            document = to_json_ready(stored) if stored else None
            return RunOutcome("skipped", reason, document), read_ns

        if known is not None and known.state.weights.update_time != state.weights.update_time:
            known = None  # remembered windows of another version
        plan = _plan_windows(
            db,
            uid,
            state,
            stored,
            config,
            cause,
            self.closed_trade,
            self.window_max_age_seconds,
            known,
            timings,
        )
        if plan.rebuild and from_memory:
            return None  # a rebuild queries at a read time: take a real one
        if not plan.rebuild and plan.effect is CloseEffect.COVERED:
            reason = "the agent's window already holds this close"
            return RunOutcome("skipped", reason, to_json_ready(stored) if stored else None), read_ns

        windows = plan.windows
        rebuilt = self.rebuild(config, state.read_time) if plan.rebuild else []
        windows.update((window.agent_id, window) for window in rebuilt)

        mark = time.perf_counter()
        result = weights_from_selection(
            {agent: agent_trades(window) for agent, window in windows.items()}, config
        )
        timings["compute"] = _elapsed_ms(mark)
        computed_at = firestore_io.from_ns(read_ns)
        as_of = computed_at if plan.rebuild or stored is None else stored["journal_as_of"]
        document = build_document(
            result, effective, cause, computed_at, as_of, newest_closed_at(windows.values())
        )
        document["closes_applied"] = plan.closes_applied
        document["window_log"] = _window_log(stored, plan)
        mark = time.perf_counter()
        try:
            update_time = firestore_io.commit_run(
                db, uid, document, rebuilt, state.weights, previous=stored
            )
        except firestore_io.ConflictError:
            return None if from_memory else (None, read_ns)
        timings["write"] = _elapsed_ms(mark)
        _remember(db, uid, state, document, update_time, windows, plan.log, rebuilt)
        if plan.rebuild:
            path, reason = "query", f"windows rebuilt from the journal: {plan.why}"
        elif plan.effect is CloseEffect.APPLIED:
            path, reason = "window", "close applied to its agent's window"
        else:
            path, reason = "window", "close older than its agent's window: weights unchanged"
        outcome = RunOutcome(
            "written", reason, to_json_ready(document), agent_count=len(config.agent_ids), path=path
        )
        return outcome, read_ns


def _window_log(stored: Mapping[str, Any] | None, plan: WindowPlan) -> dict[str, str]:
    """plan.log as stored: the stored entries carried over as they are (the same objects, so
    the patch skips them) and only this close's entry encoded."""
    previous = stored.get("window_log") if stored is not None and not plan.rebuild else None
    if not isinstance(previous, Mapping):
        return encode_log(plan.log)
    in_log = {trade.trade_id for _, _, trade in plan.log}
    entries = {trade_id: text for trade_id, text in previous.items() if trade_id in in_log}
    if plan.effect is CloseEffect.APPLIED:
        entries.update(encode_log(plan.log[-1:]))  # appended last, replacing an older version
    return entries if len(entries) == len(plan.log) else encode_log(plan.log)


def _remember(
    db: Client,
    uid: str,
    state: firestore_io.UserState,
    document: dict[str, Any],
    update_time: dt.datetime,
    windows: Mapping[str, AgentWindow],
    log: list[LogEntry],
    rebuilt: list[AgentWindow],
) -> None:
    """Keep what this run stored, for the next run on this instance (see KnownState)."""
    for window in rebuilt:
        _window_cache.put(uid, window)
    weights = firestore_io.written_snapshot(db, uid, update_time)
    known_state = firestore_io.UserState(weights, state.config, read_time=update_time)
    _known_states.put(uid, KnownState(known_state, document, dict(windows), tuple(log)))


@dataclass(slots=True)
class WindowPlan:
    """How a run gets its windows: `rebuild` them all from the journal, or the stored ones with
    the closes since replayed and this close applied (`log`, `closes_applied`: the document's
    record of them)."""

    rebuild: bool
    windows: dict[str, AgentWindow]
    log: list[LogEntry]
    closes_applied: dict[str, dt.datetime]
    effect: CloseEffect | None = None
    why: str = ""


def _plan_windows(
    db: Client,
    uid: str,
    state: firestore_io.UserState,
    stored: Mapping[str, Any] | None,
    config: MaestroConfig,
    cause: Cause,
    closed_trade: JournalEntry | None,
    window_max_age_seconds: int,
    known: KnownState | None,
    timings: dict[str, float],
) -> WindowPlan:
    """Apply a close to the stored windows when they can be trusted; otherwise rebuild them all.
    `known`: this instance's windows for exactly this weights version (no reads, no replay).
    A rebuild is always of every agent, so that the windows and the weights document share one
    watermark (journal_as_of) and a client can tell exactly what a version reflects."""

    def rebuild(why: str) -> WindowPlan:
        return WindowPlan(True, {}, [], {}, why=why)

    if cause.kind != "trade":
        return rebuild(f"a recompute for the {cause.kind} reads the journal")
    if window_max_age_seconds <= 0:
        return rebuild("windows are turned off (MAESTRO_WINDOW_MAX_AGE_SECONDS=0)")
    if closed_trade is None or cause.commit_time is None:
        return rebuild("a closed trade was deleted, reopened or edited")
    if stored is None:
        return rebuild("first weights of this user")
    read_ns = firestore_io.to_ns(state.read_time)
    distrust = _windows_distrusted(stored, read_ns, window_max_age_seconds)
    if distrust:
        return rebuild(distrust)
    try:
        log = list(known.log) if known else decode_log(stored.get("window_log"))
    except WindowError as error:
        return rebuild(f"the stored window log is damaged ({error})")
    applied = stored.get("closes_applied")
    closes_applied = dict(applied) if isinstance(applied, Mapping) else {}
    if len(closes_applied) >= MAX_CLOSES_APPLIED:
        return rebuild(f"{MAX_CLOSES_APPLIED} closes applied since the last rebuild")

    if (
        known is not None
        and set(known.windows) == set(config.agent_ids)
        and all(w.lookback_trades == config.lookback_trades for w in known.windows.values())
    ):
        windows = dict(known.windows)
    else:
        as_of_ns = firestore_io.to_ns(stored["journal_as_of"])
        stored_windows = _stored_windows(db, uid, state, config, as_of_ns, timings)
        if stored_windows is None:
            return rebuild("a window is missing or out of date")
        windows = stored_windows
        for _, agent, logged in log:  # the closes applied since the rebuild, in their order
            if agent not in windows:
                return rebuild(f"the window log names {agent!r}, not a configured agent")
            effect, windows[agent] = apply_close(windows[agent], logged)
            if effect is CloseEffect.NEEDS_REBUILD:
                return rebuild("the window log does not replay")

    close_agent = closed_trade.data.get("agent_id")
    trade = window_trade(closed_trade, firestore_io.to_ns(cause.commit_time))
    if not isinstance(close_agent, str) or close_agent not in windows or trade is None:
        # Rare (an open trade of a configured agent closed under another agent): play safe.
        return rebuild("a close outside the configured agents touched a configured one")
    effect, updated = apply_close(windows[close_agent], trade)
    if effect is CloseEffect.NEEDS_REBUILD:
        return rebuild(f"an earlier close of {trade.trade_id} left the window of {close_agent}")
    if effect is CloseEffect.APPLIED:
        windows[close_agent] = updated
        append_to_log(log, close_agent, trade)
    if effect is not CloseEffect.COVERED:  # listed even when older than the window: reflected
        closes_applied[trade.trade_id] = cause.commit_time
    return WindowPlan(False, windows, log, closes_applied, effect=effect)


def _stored_windows(
    db: Client,
    uid: str,
    state: firestore_io.UserState,
    config: MaestroConfig,
    as_of_ns: int,
    timings: dict[str, float],
) -> dict[str, AgentWindow] | None:
    """Every configured agent's window as the last rebuild stored it (at as_of_ns), from this
    instance's memory or one batch get; None when one is missing, damaged or of another
    rebuild or lookback."""
    windows: dict[str, AgentWindow] = {}
    missing = []
    for agent in config.agent_ids:
        cached = _window_cache.get(uid, agent, config.lookback_trades, as_of_ns)
        if cached is None:
            missing.append(agent)
        else:
            windows[agent] = cached
    if missing:
        mark = time.perf_counter()
        snapshots = firestore_io.read_windows(db, uid, missing, state.read_time)
        timings["read_windows"] = _elapsed_ms(mark)
        for agent in missing:
            window = firestore_io.load_window(snapshots[agent], agent)
            if (
                window is None
                or window.lookback_trades != config.lookback_trades
                or window.as_of_ns != as_of_ns
            ):
                return None
            windows[agent] = window
            _window_cache.put(uid, window)
    return windows


def _windows_distrusted(stored: Mapping[str, Any], read_ns: int, max_age_seconds: int) -> str:
    """Why the stored windows may not be used, or "": the weights built from them are flagged
    stale (a failed run may have lost a close), or come from another engine version, or the
    windows were rebuilt from the journal too long ago."""
    if stored.get("stale"):
        return "the stored weights are flagged stale"
    if stored.get("engine_version") != ENGINE_VERSION:
        return "the stored weights come from another engine version"
    as_of_ns = _journal_as_of_ns(stored)
    if as_of_ns is None or read_ns - as_of_ns > max_age_seconds * 1_000_000_000:
        return f"windows older than {max_age_seconds} s"
    return ""


def _journal_as_of_ns(stored: Mapping[str, Any]) -> int | None:
    as_of = stored.get("journal_as_of")
    return firestore_io.to_ns(as_of) if isinstance(as_of, dt.datetime) else None


def _already_covered(stored: Mapping[str, Any], cause: Cause) -> str | None:
    stored_cause = stored.get("cause")
    if (
        cause.event_id is not None
        and isinstance(stored_cause, Mapping)
        and stored_cause.get("event_id") == cause.event_id
    ):
        return "duplicate delivery of the event that produced the stored weights"
    if (
        cause.commit_time is not None
        and cause.trade_id is not None
        and not stored.get("stale")  # stale: a run failed, so the next one rebuilds
        and reflects_write(stored, cause.trade_id, cause.commit_time)
    ):
        return "the stored document already holds this write (journal_as_of or closes_applied)"
    return None


def build_document(
    result: WeightsResult,
    effective: EffectiveConfig,
    cause: Cause,
    computed_at: dt.datetime,
    journal_as_of: dt.datetime,
    newest_closed_at: dt.datetime | None,
) -> dict[str, Any]:
    """The weights document: the CLI's --json payload plus provenance.

    computed_at is server time: the instant the run read its inputs, known before the write, so
    the callable returns exactly what it stores without reading it back. journal_as_of: every
    journal write committed at or before it is reflected (the oldest window's rebuild); closes
    committed after it were applied one by one, the latest being `cause`."""
    payload = result.to_json_dict()
    return {
        **payload,
        "config_source": effective.source,
        "cause": cause.to_document(),
        "computed_at": computed_at,
        "journal_as_of": journal_as_of,
        "latest_closed_at": newest_closed_at,
        "engine_version": ENGINE_VERSION,
        "stale": False,
    }


def reflects_write(document: Mapping[str, Any], trade_id: str, commit_time: dt.datetime) -> bool:
    """Whether a weights document reflects the journal write of `trade_id` committed at
    `commit_time`: journal_as_of covers it, or it is one of the closes applied since (compared
    to the nanosecond). Versions only accumulate: what one reflects, the later ones do too."""
    commit_ns = firestore_io.to_ns(commit_time)
    as_of = document.get("journal_as_of")
    if isinstance(as_of, dt.datetime) and firestore_io.to_ns(as_of) >= commit_ns:
        return True
    applied = document.get("closes_applied")
    seen = applied.get(trade_id) if isinstance(applied, Mapping) else None
    return isinstance(seen, dt.datetime) and firestore_io.to_ns(seen) >= commit_ns


def cached_document(
    db: Client, uid: str, effective: EffectiveConfig, stored: DocumentSnapshot, ttl_seconds: int
) -> dict[str, Any] | None:
    """The stored weights, if they may be served as they are: computed by this engine version with
    the effective config, not flagged stale, younger than the TTL, and no trade has closed after
    the newest trade they cover (one read)."""
    if not stored.exists:
        return None
    document = stored.to_dict() or {}
    computed_at = document.get("computed_at")
    if (
        document.get("stale")
        or document.get("engine_version") != ENGINE_VERSION
        or document.get("config") != effective.config.to_json_dict()
        or not isinstance(computed_at, dt.datetime)
        or dt.datetime.now(dt.UTC) - computed_at > dt.timedelta(seconds=ttl_seconds)
    ):
        return None
    if firestore_io.any_trade_closed_after(db, uid, document.get("latest_closed_at")):
        return None
    return to_json_ready(document)


def to_json_ready(document: Mapping[str, Any]) -> dict[str, Any]:
    """Firestore values -> JSON values: timestamps become ISO-8601 strings. The window log is
    Maestro's own bookkeeping, not part of the answer."""
    return {
        key: _json_value(value) for key, value in document.items() if key not in INTERNAL_FIELDS
    }


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {key: _json_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    return value


def _elapsed_ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 3)
