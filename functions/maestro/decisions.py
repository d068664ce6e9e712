"""The sync layer's one decision (pure): given what asks (a trade event, the callable, a config
write), the user's stored state and the settings, a run skips, applies a close to the rolling
windows, or rebuilds every window from the journal, each with its reason. The README's table
lists the rules in this order; tests/unit/test_decisions.py pins each reason.

A rebuild always rebuilds every agent's window, so that the windows and the weights document
share one watermark (journal_as_of) and a client can tell exactly what a version reflects.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from . import ENGINE_VERSION
from .call_limits import DEFAULT_LIMITS, Limit
from .config import MAX_RUN_TRADES
from .documents import StoredWeights, Unreadable, UserState
from .events import (
    CallableRequest,
    ConfigWritten,
    EventCheck,
    EventKind,
    QueuedRebuild,
    Request,
    TradeEvent,
)
from .timestamps import NANOS_PER_SECOND, to_ns
from .window import AgentWindow, Ledger, NeedsQuery, WindowTrade, current_windows, with_close

# The thresholds, beside the rules that use them (the first two are deploy-time params).
WINDOW_MAX_AGE_SECONDS_DEFAULT: Final = 3600  # windows older than this are rebuilt; 0: no windows
CACHE_TTL_SECONDS_DEFAULT: Final = 300  # the callable serves stored weights younger than this
# Closes applied since the last rebuild before the next close rebuilds instead: it bounds the
# weights document's size and how long a close lost by a run that crashed outright can stay out.
MAX_LEDGER_ENTRIES: Final = 100
# One user's hand-offs within this many seconds coalesce into one queued rebuild: at most one
# queued write per user per bucket (task_queue.py).
HANDOFF_AFTER_CONFLICTS_DEFAULT: Final = 2
HANDOFF_BUCKET_SECONDS_DEFAULT: Final = 5
# Firestore's guidance: about one sustained write a second to one document. With the queue on,
# a trade event's run that would write a weights document written more recently (by anyone)
# hands off instead.
MIN_WRITE_INTERVAL_NS: Final = NANOS_PER_SECOND
HISTORY_RETENTION_DAYS_DEFAULT: Final = 365
CHECK_AFTER_MS_DEFAULT: Final = 500
# A trade event's check waits out the function's timeout (60 s by default) and this margin.
CHECK_MARGIN_SECONDS: Final = 10


@dataclass(frozen=True, slots=True)
class Settings:
    """The deploy-time params a run obeys (main.py reads them), and the clock the callable's
    limits read (injectable: tests move it instead of sleeping)."""

    window_max_age_seconds: int = WINDOW_MAX_AGE_SECONDS_DEFAULT
    cache_ttl_seconds: int = CACHE_TTL_SECONDS_DEFAULT
    max_ledger_entries: int = MAX_LEDGER_ENTRIES
    max_run_trades: int = MAX_RUN_TRADES  # journal documents one rebuild may read
    # A trade event's run that loses this many compare-and-sets hands the user's recompute to
    # the task queue instead of racing on (None: never; it races CAS_ATTEMPTS times and fails).
    handoff_after_conflicts: int | None = None
    handoff_bucket_seconds: int = HANDOFF_BUCKET_SECONDS_DEFAULT
    region: str = "us-central1"  # where the task queue function runs (MAESTRO_REGION)
    # Each trade event's run schedules a check this long after it began, that the event is
    # reflected (None: no checks). Longer than the function's timeout: a run still alive is
    # never taken for dead.
    check_delay_seconds: int | None = None
    # ... but only for a run still going this long after it began: one that ends sooner (nearly
    # every run) queues nothing; one that dies sooner is repaired only by the next rebuild.
    check_after_ms: int = CHECK_AFTER_MS_DEFAULT
    # How long the audit trail keeps a weights version (its TTL field); 0: no trail.
    history_retention_days: int = HISTORY_RETENTION_DAYS_DEFAULT
    expensive_call_limits: tuple[Limit, ...] = DEFAULT_LIMITS
    clock_ns: Callable[[], int] = time.time_ns


class SkipReason(StrEnum):
    SUPERSEDED = "a run that read the journal later stored its weights first"
    DUPLICATE_EVENT = "duplicate delivery of the event that produced the stored weights"
    ALREADY_REFLECTED = "the stored weights already reflect this write (journal_as_of or ledger)"
    OTHER_AGENTS = "the trade's agent is not in agent_ids"
    CACHE_VALID = "stored weights still valid"
    NO_WEIGHTS_YET = "no weights yet: the first close or call computes them"
    CONFIG_ALREADY_USED = "the weights already use this config"
    HANDED_OFF = "lost the race for the weights document: handed to the task queue"
    RUN_DIED = (
        "the event's run ended without leaving it reflected (it crashed or timed out):"
        " handed to the task queue"
    )
    WRITTEN_TOO_RECENTLY = (
        "the weights document was written less than a second ago: handed to the task queue"
    )


# Skips an instance may act on from the state it remembers, even if it is outdated: what a
# version reflects, later ones do too; and a later version is only younger than the remembered
# one, so a close too soon after it is too soon after the current one as well.
SKIPS_FROM_MEMORY: Final = frozenset(
    {SkipReason.DUPLICATE_EVENT, SkipReason.ALREADY_REFLECTED, SkipReason.WRITTEN_TOO_RECENTLY}
)
# Skips that hand the user's recompute to the task queue (handlers enqueue it).
HAND_OFFS: Final = frozenset(
    {SkipReason.HANDED_OFF, SkipReason.WRITTEN_TOO_RECENTLY, SkipReason.RUN_DIED}
)


class RebuildReason(StrEnum):
    FIRST_WEIGHTS = "first weights of this user"
    QUEUED = "a queued rebuild: trigger runs lost the race for the weights document, or failed"
    STORED_WEIGHTS_UNREADABLE = "the stored weights document is of another format or damaged"
    FORCED = "the callable asked for a rebuild (force)"
    CONFIG_SAVED = "the callable saved a new config"
    CONFIG_CHANGED = "the effective config differs from the one the weights used"
    STALE = "the stored weights are flagged stale (a failed run may have lost a write)"
    ENGINE_CHANGED = "the stored weights come from another engine version"
    CACHE_EXPIRED = "the stored weights are older than the cache TTL"
    NEWER_CLOSE = "a trade closed after the newest trade the stored weights cover"
    TRADE_DELETED = "a closed trade was deleted"
    TRADE_REOPENED = "a closed trade was reopened"
    CLOSED_TRADE_EDITED = "a field weights use changed on a closed trade"
    WINDOWS_OFF = "windows are turned off (MAESTRO_WINDOW_MAX_AGE_SECONDS=0)"
    WINDOWS_TOO_OLD = "the windows were rebuilt longer ago than MAESTRO_WINDOW_MAX_AGE_SECONDS"
    LEDGER_FULL = "the ledger holds the most closes allowed between rebuilds"
    WINDOWS_UNUSABLE = "a window is missing, damaged, or of another rebuild, lookback or format"
    CLOSE_NEEDS_QUERY = "a trade closed again left a full window: only the query knows its next"


class ApplyReason(StrEnum):
    IN_WINDOW = "close applied to its agent's window"
    RECORDED = "close older than its agent's full window: recorded, weights unchanged"


@dataclass(frozen=True, slots=True)
class Skip:
    reason: SkipReason


@dataclass(frozen=True, slots=True)
class Rebuild:
    reason: RebuildReason


@dataclass(frozen=True, slots=True)
class Apply:
    """Apply the close: the ledger with it recorded, and every agent's window now.
    `in_window`: False when the close is older than every trade of its agent's full window (it
    is recorded, as reflected, and changes no weight)."""

    ledger: Ledger = field(repr=False)
    windows: dict[str, AgentWindow] = field(repr=False)
    in_window: bool

    @property
    def reason(self) -> ApplyReason:
        return ApplyReason.IN_WINDOW if self.in_window else ApplyReason.RECORDED


Decision = Skip | Apply | Rebuild

_EVENT_REBUILDS: Final = {
    EventKind.DELETE: RebuildReason.TRADE_DELETED,
    EventKind.REOPEN: RebuildReason.TRADE_REOPENED,
    EventKind.EDIT: RebuildReason.CLOSED_TRADE_EDITED,
}


@dataclass(frozen=True, slots=True)
class Attempt:
    """Where the run stands: `first_read_ns`, the read time of its first attempt when this one
    follows a lost compare-and-set; `newer_close`, a probe (one read) for the callable's cache."""

    first_read_ns: int | None = None
    newer_close: Callable[[], bool] = lambda: False


def hand_off(request: Request, settings: Settings, conflicts: int) -> Skip | None:
    """A run that lost `conflicts` compare-and-sets stops racing and hands the user's recompute
    to the task queue (this Skip), or None: it races on. Trade events only (the callable
    answers its caller itself)."""
    after = settings.handoff_after_conflicts
    if isinstance(request, TradeEvent) and after is not None and conflicts >= after:
        return Skip(SkipReason.HANDED_OFF)
    return None


def decide(request: Request, state: UserState, settings: Settings, attempt: Attempt) -> Decision:
    """The one decision: what a run does with this request on this state."""
    stored = state.weights
    if isinstance(request, TradeEvent):
        return _trade(request, state, settings, attempt)
    first_read_ns = attempt.first_read_ns
    if (
        first_read_ns is not None
        and isinstance(stored, StoredWeights)
        and not stored.stale
        and stored.journal_as_of_ns >= first_read_ns
    ):
        return Skip(SkipReason.SUPERSEDED)
    if isinstance(request, QueuedRebuild):
        if (
            isinstance(stored, StoredWeights)
            and not stored.stale
            and stored.journal_as_of_ns >= request.covers_until_ns
        ):
            return Skip(SkipReason.ALREADY_REFLECTED)
        return Rebuild(RebuildReason.QUEUED)
    if isinstance(request, EventCheck):
        return _check(request, state)
    if isinstance(request, ConfigWritten):
        if stored is None:
            return Skip(SkipReason.NO_WEIGHTS_YET)
        if isinstance(stored, StoredWeights) and stored.uses(state.config):
            return Skip(SkipReason.CONFIG_ALREADY_USED)
        if isinstance(stored, Unreadable):
            return Rebuild(RebuildReason.STORED_WEIGHTS_UNREADABLE)
        return Rebuild(RebuildReason.CONFIG_CHANGED)
    return _callable(request, state, settings, attempt)


def _callable(
    request: CallableRequest, state: UserState, settings: Settings, attempt: Attempt
) -> Decision:
    stored = state.weights
    if request.config_saved:
        return Rebuild(RebuildReason.CONFIG_SAVED)
    if request.force:
        return Rebuild(RebuildReason.FORCED)
    if stored is None:
        return Rebuild(RebuildReason.FIRST_WEIGHTS)
    if isinstance(stored, Unreadable):
        return Rebuild(RebuildReason.STORED_WEIGHTS_UNREADABLE)
    if stored.stale:
        return Rebuild(RebuildReason.STALE)
    if stored.engine_version != ENGINE_VERSION:
        return Rebuild(RebuildReason.ENGINE_CHANGED)
    if not stored.uses(state.config):
        return Rebuild(RebuildReason.CONFIG_CHANGED)
    if state.read_ns - stored.computed_at_ns > settings.cache_ttl_seconds * NANOS_PER_SECOND:
        return Rebuild(RebuildReason.CACHE_EXPIRED)
    if attempt.newer_close():
        return Rebuild(RebuildReason.NEWER_CLOSE)
    return Skip(SkipReason.CACHE_VALID)


def _check(check: EventCheck, state: UserState) -> Decision:
    """A trade event's delayed check: nothing to do when the stored weights reflect the event
    (or never will: another agent's trade); otherwise its run died, and the check hands the
    user's recompute to the queue, where it coalesces with any hand-off of the same bucket (a
    burst's checks, and the runs that handed off, share one rebuild)."""
    stored, config = state.weights, state.config.config
    if check.agent_ids.isdisjoint(config.agent_ids):
        return Skip(SkipReason.OTHER_AGENTS)
    # A delete's commit time is not in its event; it committed before its run began.
    written_ns = check.commit_ns if check.commit_ns is not None else check.started_ns
    if (
        isinstance(stored, StoredWeights)
        and not stored.stale
        and (stored.reflects(check.trade_id, written_ns) or stored.cause_event_id == check.event_id)
    ):
        return Skip(SkipReason.ALREADY_REFLECTED)
    return Skip(SkipReason.RUN_DIED)


def _trade(event: TradeEvent, state: UserState, settings: Settings, attempt: Attempt) -> Decision:
    stored, config = state.weights, state.config.config
    if stored is None:
        return Rebuild(RebuildReason.FIRST_WEIGHTS)
    if isinstance(stored, Unreadable):
        return Rebuild(RebuildReason.STORED_WEIGHTS_UNREADABLE)
    if stored.cause_event_id == event.event_id:
        return Skip(SkipReason.DUPLICATE_EVENT)
    commit_ns = event.commit_ns
    if not stored.stale and commit_ns is not None and stored.reflects(event.trade_id, commit_ns):
        return Skip(SkipReason.ALREADY_REFLECTED)
    if event.agent_ids.isdisjoint(config.agent_ids):
        return Skip(SkipReason.OTHER_AGENTS)
    if _written_too_recently(state, settings):
        return Skip(SkipReason.WRITTEN_TOO_RECENTLY)
    if event.kind is not EventKind.CLOSE:
        return Rebuild(_EVENT_REBUILDS[event.kind])
    if settings.window_max_age_seconds <= 0:
        return Rebuild(RebuildReason.WINDOWS_OFF)
    if stored.stale:
        return Rebuild(RebuildReason.STALE)
    age_ns = state.read_ns - stored.journal_as_of_ns
    if age_ns > settings.window_max_age_seconds * NANOS_PER_SECOND:
        return Rebuild(RebuildReason.WINDOWS_TOO_OLD)
    if len(stored.ledger) >= settings.max_ledger_entries:
        return Rebuild(RebuildReason.LEDGER_FULL)
    rebuilt = _usable_windows(state, stored)
    if rebuilt is None:
        return Rebuild(RebuildReason.WINDOWS_UNUSABLE)
    assert event.closed is not None and commit_ns is not None  # a close always carries both
    (agent_id,) = event.agent_ids
    ledger = with_close(stored.ledger, agent_id, WindowTrade(event.closed, commit_ns))
    known = (stored.ledger, state.current) if state.current is not None else None
    windows = current_windows(rebuilt, ledger, known)
    if isinstance(windows, NeedsQuery):
        return Rebuild(RebuildReason.CLOSE_NEEDS_QUERY)
    return Apply(ledger, windows, in_window=event.trade_id in windows[agent_id].trade_ids)


def _written_too_recently(state: UserState, settings: Settings) -> bool:
    """Firestore sustains about one write a second to a document: a trade event's run never
    writes a weights version less than a second after the one it read (the compare-and-set
    makes that the one it replaces), whoever wrote it. Closes arriving together hand off, and
    one queued rebuild writes for them all; a lone close goes straight on. From an instance's
    memory, `read_ns` is the time of the run: a close within a second of this instance's own
    write is part of a burst too."""
    written = state.weights_update_time
    return (
        settings.handoff_after_conflicts is not None
        and written is not None
        and state.read_ns - to_ns(written) < MIN_WRITE_INTERVAL_NS
    )


def _usable_windows(state: UserState, stored: StoredWeights) -> dict[str, AgentWindow] | None:
    """The configured agents' windows as the last rebuild stored them, or None when one is
    missing or comes from another rebuild or lookback."""
    config = state.config.config
    windows = state.windows or {}
    usable = {
        agent: window
        for agent in config.agent_ids
        if (window := windows.get(agent)) is not None
        and window.as_of_ns == stored.journal_as_of_ns
        and window.lookback_trades == config.lookback_trades
    }
    return usable if len(usable) == len(config.agent_ids) else None
