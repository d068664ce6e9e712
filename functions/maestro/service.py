"""recompute(): the one path from a user's journal in Firestore to users/{uid}/maestro/weights.

The callable, the trigger and the orchestrator all come through here. The order of a run:
1. read the stored weights and config together; that read's time is the run's watermark,
   `journal_as_of` (everything committed before it is visible to what follows);
2. skip when the stored weights already cover this trigger event;
3. read each agent's recent trades at that instant, concurrently, and run the engine;
4. store the document only if no run with a newer watermark stored one first.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from . import ENGINE_VERSION, firestore_io
from .config import FIELD_NAMES, ConfigError, MaestroConfig
from .journal import JournalEntry
from .weighting import compute_weights

if TYPE_CHECKING:
    from google.cloud.firestore import Client, DocumentSnapshot

    from .result import WeightsResult

CACHE_TTL_SECONDS_DEFAULT: Final = 300


@dataclass(frozen=True, slots=True)
class Cause:
    """What started a run: the callable, or a trade journal event."""

    kind: str  # "callable" | "trade" | "orchestrator"
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
        return cause


@dataclass(frozen=True, slots=True)
class EffectiveConfig:
    config: MaestroConfig
    source: str  # "saved" | "defaults" | "defaults (saved config invalid: ...)"
    problem: str | None = None


@dataclass(slots=True)
class RunOutcome:
    """What a run did: `document` is the stored weights document (this run's or the one that
    made the run unnecessary), as JSON-ready values."""

    status: str  # "written" | "superseded" | "skipped" | "cached"
    reason: str
    document: dict[str, Any] | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    agent_count: int = 0


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


def latest_closed_at(entries: list[JournalEntry]) -> dt.datetime | None:
    moments = [e.data.get("closed_at") for e in entries]
    return max((m for m in moments if isinstance(m, dt.datetime)), default=None)


def recompute(
    db: Client,
    uid: str,
    cause: Cause,
    *,
    touched_agents: frozenset[str] | None = None,
    state: firestore_io.UserState | None = None,
) -> RunOutcome:
    """Recompute the user's weights and store them unless a newer run already has. `state` is a
    read_user_state() the caller already made (the callable, for its cache check)."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    if state is None:
        state = firestore_io.read_user_state(db, uid)
        timings["read_state"] = _elapsed_ms(started)
    stored = state.weights.to_dict() if state.weights.exists else None

    if stored is not None and cause.kind == "trade":
        covered = _already_covered(stored, cause)
        if covered is not None:
            return RunOutcome("skipped", covered, to_json_ready(stored), timings)

    effective = resolve_config(state.config)
    config = effective.config
    if touched_agents is not None and not touched_agents & set(config.agent_ids):
        return RunOutcome(
            "skipped",
            f"trade of agent(s) {sorted(touched_agents)} not in agent_ids",
            to_json_ready(stored) if stored else None,
            timings,
        )

    mark = time.perf_counter()
    entries = firestore_io.read_agent_journals(
        db, uid, config.agent_ids, config.lookback_trades, read_time=state.read_time
    )
    timings["read_journal"] = _elapsed_ms(mark)
    mark = time.perf_counter()
    result = compute_weights(entries, config)
    timings["compute"] = _elapsed_ms(mark)

    document = build_document(result, effective, cause, state.read_time, latest_closed_at(entries))
    mark = time.perf_counter()
    outcome = firestore_io.write_weights_if_newer(db, uid, document, state.read_time, state.weights)
    timings["write"] = _elapsed_ms(mark)
    timings["total"] = _elapsed_ms(started)

    if outcome.superseded_by is not None:
        return RunOutcome(
            "superseded",
            f"a run that read the journal as of {outcome.superseded_by['journal_as_of']} "
            "stored its weights first",
            to_json_ready(outcome.superseded_by),
            timings,
            len(config.agent_ids),
        )
    return RunOutcome(
        "written", "recomputed", to_json_ready(document), timings, len(config.agent_ids)
    )


def _already_covered(stored: Mapping[str, Any], cause: Cause) -> str | None:
    stored_cause = stored.get("cause")
    if (
        cause.event_id is not None
        and isinstance(stored_cause, Mapping)
        and stored_cause.get("event_id") == cause.event_id
    ):
        return "duplicate delivery of the event that produced the stored weights"
    as_of = stored.get("journal_as_of")
    if (
        cause.commit_time is not None
        and isinstance(as_of, dt.datetime)
        and as_of >= cause.commit_time
        and not stored.get("stale")
    ):
        return "stored weights already cover this write (journal_as_of >= its commit time)"
    return None


def build_document(
    result: WeightsResult,
    effective: EffectiveConfig,
    cause: Cause,
    journal_as_of: dt.datetime,
    newest_closed_at: dt.datetime | None,
) -> dict[str, Any]:
    """The weights document: the CLI's --json payload plus provenance.

    computed_at is server time: the instant the run read its inputs (journal_as_of), known before
    the write, so the callable returns exactly what it stores without reading it back."""
    payload = result.to_json_dict()
    return {
        **payload,
        "config_source": effective.source,
        "cause": cause.to_document(),
        "computed_at": journal_as_of,
        "journal_as_of": journal_as_of,
        "latest_closed_at": newest_closed_at,
        "engine_version": ENGINE_VERSION,
        "stale": False,
    }


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
    """Firestore values -> JSON values: timestamps become ISO-8601 strings."""
    return {key: _json_value(value) for key, value in document.items()}


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
