"""recompute(): the one path from a request (a trade journal event, the callable, a config
write) to users/{uid}/maestro/weights. The callable and both triggers come through here.

A run, top to bottom:
1. the user's state: for a close, the state this instance stored last (memory.py), if any;
   otherwise one read (weights and config, and for a trade event every stored window), whose
   read time is the run's watermark;
2. the decision (decisions.py): skip, apply the close to the windows, or rebuild every window
   from the journal (per-agent queries at the watermark);
3. the engine on the windows, and one atomic write of the weights (with the audit trail's
   entry when they changed, and after a rebuild the windows), only if the weights document is
   still the version of step 1 (compare-and-set on its update time); when another run wrote
   first, back to step 1 with a fresh read.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from . import decisions, documents, firestore_io
from .decisions import SKIPS_FROM_MEMORY, Apply, Attempt, Decision, Rebuild, Settings, Skip, decide
from .documents import Cause, Provenance, StoredWeights, UserState
from .events import Request, TradeEvent
from .journal import JournalEntry, closed_trade
from .memory import LastStored
from .timestamps import from_ns, to_ns
from .weighting import run_engine
from .window import AgentWindow, WindowTrade, newest_closed_at, rebuild_window

if TYPE_CHECKING:
    from google.cloud.firestore import Client

_memory: Final = LastStored(max_trades=50_000)


class RunStatus(StrEnum):
    WRITTEN = "written"
    SKIPPED = "skipped"
    HANDED_OFF = "handed_off"  # to the task queue (handlers enqueue it)


@dataclass(slots=True)
class RunOutcome:
    """What a run did, and the weights document it leaves (this run's, or the stored one that
    made it unnecessary): `fields` as stored, `document` as JSON-ready values."""

    status: RunStatus
    decision: Decision
    fields: Mapping[str, Any] | None
    agent_count: int = 0
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def document(self) -> dict[str, Any] | None:
        # Converted on demand: a trigger only logs the weights, the callable returns it all.
        return documents.to_json_ready(self.fields) if self.fields is not None else None

    @property
    def reason(self) -> str:
        return self.decision.reason.value

    @property
    def path(self) -> str:
        """ "window" when a close was applied to the windows, "query" after a rebuild."""
        return {Apply: "window", Rebuild: "query"}.get(type(self.decision), "")


def forget_instance_memory() -> None:
    """Drop what this instance remembers, as a new instance starts."""
    _memory.clear()


def recompute(
    db: Client, uid: str, request: Request, settings: Settings | None = None
) -> RunOutcome:
    """Run `request` for the user; raises on Firestore failures (handlers map them), and
    Aborted after CAS_ATTEMPTS lost compare-and-sets (a trade event may hand off sooner)."""
    from google.api_core import exceptions

    run = _Run(db, uid, request, settings or Settings())
    started = time.perf_counter()
    for attempt in range(firestore_io.CAS_ATTEMPTS):
        if attempt:
            run.timings["conflicts"] = attempt
            # Closes of one user arriving together all write the weights: spread the retries.
            time.sleep(random.uniform(0, firestore_io.CONFLICT_BACKOFF_SECONDS * attempt))
        handed = decisions.hand_off(request, run.settings, attempt)
        outcome = RunOutcome(RunStatus.HANDED_OFF, handed, None) if handed else run.attempt()
        if outcome is not None:
            run.timings["total"] = _elapsed_ms(started)
            outcome.timings_ms = run.timings
            return outcome
    raise exceptions.Aborted(
        f"weights of {uid}: too much contention ({firestore_io.CAS_ATTEMPTS} attempts)"
    )


@dataclass(slots=True)
class _Run:
    db: Client
    uid: str
    request: Request
    settings: Settings
    timings: dict[str, float] = field(default_factory=dict)
    first_read_ns: int | None = None

    def attempt(self) -> RunOutcome | None:
        """One read-decide-write pass; None when the write lost to another run's."""
        request = self.request
        remembered = _memory.recall(self.uid) if self.first_read_ns is None else None
        if isinstance(request, TradeEvent) and remembered is not None:
            # Known current up to our own write, as of now (a delete carries no commit time;
            # the write gate compares with the time the run would write).
            newest = max(remembered.read_ns, request.commit_ns or 0, self.settings.clock_ns())
            outcome = self.run_on(dataclasses.replace(remembered, read_ns=newest), remembered)
            if outcome is not None:
                return outcome
            _memory.forget(self.uid, remembered)
            self.timings["memory_outdated"] = 1
        mark = time.perf_counter()
        stored = firestore_io.read_documents(
            self.db, self.uid, with_windows=isinstance(request, TradeEvent)
        )
        self.timings["read_state"] = _elapsed_ms(mark)
        state = UserState.decode(stored, self.settings.max_run_trades)
        outcome = self.run_on(state, None)
        self.first_read_ns = self.first_read_ns or state.read_ns
        return outcome

    def run_on(self, state: UserState, remembered: UserState | None) -> RunOutcome | None:
        """Decide and act on `state`. From a remembered state only an Apply (its write proves
        the state current) and decisions.SKIPS_FROM_MEMORY are acted on: None asks for a fresh
        read."""
        stored = state.weights
        latest = stored.latest_closed_at if isinstance(stored, StoredWeights) else None
        attempt = Attempt(
            self.first_read_ns,
            lambda: firestore_io.any_trade_closed_after(self.db, self.uid, latest),
        )
        decision = decide(self.request, state, self.settings, attempt)
        config = state.config.config
        if remembered is not None and not _acts_from_memory(decision):
            return None
        if isinstance(decision, Skip):
            fields = stored.fields if stored is not None else None
            handed = decision.reason in decisions.HAND_OFFS
            status = RunStatus.HANDED_OFF if handed else RunStatus.SKIPPED
            return RunOutcome(status, decision, fields, len(config.agent_ids))
        if isinstance(decision, Apply):
            assert isinstance(stored, StoredWeights)
            windows, ledger, rebuilt = decision.windows, decision.ledger, {}
            as_of_ns = stored.journal_as_of_ns
        else:
            windows = rebuilt = self.rebuild(state)
            ledger, as_of_ns = {}, state.read_ns
        mark = time.perf_counter()
        trades = {agent: windows[agent].closed_trades for agent in config.agent_ids}
        result, work = run_engine(trades, config, state.work)
        self.timings["compute"] = _elapsed_ms(mark)
        cause, newest = Cause.of(self.request), newest_closed_at(windows.values())
        provenance = Provenance(cause, state.config.source, state.read_ns, as_of_ns, newest)
        version = documents.weights_version(result, provenance, ledger, stored)
        stored_state = self.write(state, version, rebuilt)
        if stored_state is None:
            return None
        # The merge of what is stored, and the engine's work on it (for the next close's reuse)
        kept = stored_state.windows
        remembered = dataclasses.replace(
            stored_state, current=windows if kept else None, work=work if kept else None
        )
        _memory.remember(self.uid, remembered)
        return RunOutcome(RunStatus.WRITTEN, decision, version.fields, len(config.agent_ids))

    def rebuild(self, state: UserState) -> dict[str, AgentWindow]:
        """Every configured agent's window from its journal query, at the run's read time."""
        config = state.config.config
        mark = time.perf_counter()
        journals = firestore_io.query_agent_journals(
            self.db,
            self.uid,
            config.agent_ids,
            config.lookback_trades,
            _window_trade,
            read_time=from_ns(state.read_ns),
        )
        self.timings["read_journal"] = _elapsed_ms(mark)
        return {
            agent: rebuild_window(
                agent, filter(None, journals[agent]), config.lookback_trades, state.read_ns
            )
            for agent in config.agent_ids
        }

    def write(
        self, state: UserState, version: StoredWeights, rebuilt: dict[str, AgentWindow]
    ) -> UserState | None:
        """Commit the version (and the rebuilt windows); the state a read would now find, or
        None when another run wrote first."""
        shards = documents.encode_windows(rebuilt) if rebuilt else None
        write = firestore_io.WeightsWrite(
            version.fields,
            state.weights.fields if state.weights is not None else None,
            state.weights_update_time,
            windows={documents.windows_document_id(i): f for i, f in enumerate(shards or ())},
            history=documents.history_entry(
                version, state.weights, self.settings.history_retention_days
            ),
        )
        mark = time.perf_counter()
        try:
            update_time = firestore_io.commit_weights(self.db, self.uid, write)
        except firestore_io.ConflictError:
            return None
        self.timings["write"] = _elapsed_ms(mark)
        if rebuilt:  # what the next read finds: these windows, or none if they did not fit
            windows: Mapping[str, AgentWindow] = rebuilt if shards is not None else {}
        else:
            windows = state.windows or {}
        return UserState(version, update_time, state.config, windows, to_ns(update_time))


def _acts_from_memory(decision: Decision) -> bool:
    return isinstance(decision, Apply) or (
        isinstance(decision, Skip) and decision.reason in SKIPS_FROM_MEMORY
    )


def _window_trade(entry: JournalEntry, commit_ns: int) -> WindowTrade | None:
    trade = closed_trade(entry)
    return WindowTrade(trade, commit_ns) if trade is not None else None


def _elapsed_ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 3)
