"""The only module that talks to Firestore: paths, the queries Maestro makes, reads, the guarded
write of the weights document, and bounded retries of what is safe to retry.

Every query is built by `_build_query` from a declared `QueryShape`; tests check each shape
against firestore.indexes.json, so a query without an index cannot ship.
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar

from . import ENGINE_VERSION
from .journal import JournalEntry
from .window import WINDOW_FORMAT, AgentWindow, WindowError, encode_trades, window_from_fields

if TYPE_CHECKING:
    from google.cloud.firestore import (
        Client,
        DocumentReference,
        DocumentSnapshot,
        Query,
        WriteBatch,
    )

T = TypeVar("T")

USERS: Final = "users"
JOURNAL: Final = "tradeJournal"
MAESTRO: Final = "maestro"
WEIGHTS_DOC: Final = "weights"
CONFIG_DOC: Final = "config"
# users/{uid}/maestro/window_<agent id, percent-encoded>: one rolling window per agent.
WINDOW_DOC_PREFIX: Final = "window_"

# Reads are retried on these transient errors (a read changes nothing, so a retry is safe).
# The commit is guarded by a precondition, so it is safe to retry too: a retry of a commit that
# did land fails the precondition, and the run reads again and finds its own write.
RETRY_ATTEMPTS: Final = 3
RETRY_BASE_DELAY_SECONDS: Final = 0.1
MAX_CONCURRENT_QUERIES: Final = 16
CAS_ATTEMPTS: Final = 8


@dataclass(frozen=True, slots=True)
class QueryShape:
    """A query's filters and order, as an index sees them."""

    name: str
    collection_id: str
    equality_fields: tuple[str, ...]
    order_by: tuple[tuple[str, str], ...]  # (field, "ASCENDING" | "DESCENDING")
    inequality_field: str | None = None


AGENT_JOURNAL_QUERY: Final = QueryShape(
    name="agent_journal",
    collection_id=JOURNAL,
    equality_fields=("agent_id",),
    order_by=(("closed_at", "DESCENDING"),),
)
CLOSED_AFTER_QUERY: Final = QueryShape(
    name="closed_after",
    collection_id=JOURNAL,
    equality_fields=(),
    order_by=(),
    inequality_field="closed_at",
)
QUERY_SHAPES: Final = (AGENT_JOURNAL_QUERY, CLOSED_AFTER_QUERY)
# Earliest Firestore timestamp: `closed_at > EPOCH_START` matches every timestamp value.
EPOCH_START: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

_client: Client | None = None
_client_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def get_client() -> Client:
    """One Firestore client per process. google.cloud.firestore.Client uses anonymous
    credentials when FIRESTORE_EMULATOR_HOST is set and Application Default Credentials in
    production, unlike firebase_admin.firestore.client(), which asks for ADC even under the
    emulator."""
    global _client  # noqa: PLW0603 - a lazily created process-wide client
    with _client_lock:
        if _client is None:
            from google.cloud import firestore

            project = os.environ.get("GCLOUD_PROJECT") or os.environ.get("GOOGLE_CLOUD_PROJECT")
            _client = firestore.Client(project=project)
        return _client


def weights_ref(db: Client, uid: str) -> DocumentReference:
    return db.collection(USERS).document(uid).collection(MAESTRO).document(WEIGHTS_DOC)


def config_ref(db: Client, uid: str) -> DocumentReference:
    return db.collection(USERS).document(uid).collection(MAESTRO).document(CONFIG_DOC)


def window_ref(db: Client, uid: str, agent_id: str) -> DocumentReference:
    # Agent ids may hold "/" (not allowed in a document id): percent-encode them.
    from urllib.parse import quote

    document_id = WINDOW_DOC_PREFIX + quote(agent_id, safe="")
    return db.collection(USERS).document(uid).collection(MAESTRO).document(document_id)


@dataclass(frozen=True, slots=True)
class UserState:
    """The user's stored weights and config, read together at one instant (`read_time`)."""

    weights: DocumentSnapshot
    config: DocumentSnapshot
    read_time: dt.datetime


def read_user_state(db: Client, uid: str) -> UserState:
    """Weights and config in one consistent read. Its read_time is the journal watermark of the
    run: every journal write committed before it is visible to the queries that follow."""

    def read() -> UserState:
        snapshots = {
            snap.reference.id: snap
            for snap in _get_all(db, [weights_ref(db, uid), config_ref(db, uid)])
        }
        weights, config = snapshots[WEIGHTS_DOC], snapshots[CONFIG_DOC]
        return UserState(weights=weights, config=config, read_time=weights.read_time)

    return with_retries(read)


def written_snapshot(db: Client, uid: str, update_time: dt.datetime) -> DocumentSnapshot:
    """A snapshot standing for the weights document this run just stored: exists, with its
    commit time as update time, for the next write's precondition. It carries no data (the
    run keeps the document itself: a snapshot deep-copies its data, which costs more than
    the rest of a close)."""
    from google.cloud.firestore import DocumentSnapshot

    return DocumentSnapshot(
        weights_ref(db, uid),
        None,
        exists=True,
        read_time=update_time,
        create_time=None,
        update_time=update_time,
    )


def read_windows(
    db: Client, uid: str, agent_ids: Sequence[str], read_time: dt.datetime
) -> dict[str, DocumentSnapshot]:
    """The agents' stored windows, at the instant of the run's state read."""
    refs = [window_ref(db, uid, agent_id) for agent_id in agent_ids]
    snapshots = with_retries(lambda: _get_all(db, refs, read_time))
    by_id = {snap.reference.id: snap for snap in snapshots}
    return {agent_id: by_id[ref.id] for agent_id, ref in zip(agent_ids, refs, strict=True)}


def load_window(snapshot: DocumentSnapshot, agent_id: str) -> AgentWindow | None:
    """The stored window, or None when it is missing or unreadable (then it is rebuilt)."""
    if not snapshot.exists:
        return None
    fields = snapshot.to_dict() or {}
    as_of = fields.get("as_of")
    if not isinstance(as_of, dt.datetime):
        return None
    try:
        return window_from_fields(fields, agent_id, to_ns(as_of))
    except WindowError:
        return None


def window_fields(window: AgentWindow) -> dict[str, Any]:
    return {
        "format": WINDOW_FORMAT,
        "engine_version": ENGINE_VERSION,
        "agent_id": window.agent_id,
        "lookback_trades": window.lookback_trades,
        "as_of": from_ns(window.as_of_ns),
        "trade_count": len(window.trades),
        "trades": encode_trades(window.trades),
    }


def to_ns(moment: dt.datetime) -> int:
    """A Firestore timestamp as integer nanoseconds since the epoch, keeping the nanoseconds
    that datetime comparisons ignore (a naive datetime is read as UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return calendar.timegm(aware.utctimetuple()) * 1_000_000_000 + _nanosecond(moment)


def from_ns(nanoseconds: int) -> dt.datetime:
    from google.api_core.datetime_helpers import DatetimeWithNanoseconds

    seconds, nanos = divmod(nanoseconds, 1_000_000_000)
    moment = EPOCH_START + dt.timedelta(seconds=seconds)
    return DatetimeWithNanoseconds(
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        nanosecond=nanos,
        tzinfo=dt.UTC,
    )


def _build_query(db: Client, uid: str, shape: QueryShape, **values: Any) -> Query:
    from google.cloud.firestore import FieldFilter

    query: Query = db.collection(USERS).document(uid).collection(shape.collection_id)
    for field in shape.equality_fields:
        query = query.where(filter=FieldFilter(field, "==", values[field]))
    if shape.inequality_field is not None:
        query = query.where(
            filter=FieldFilter(shape.inequality_field, ">", values[shape.inequality_field])
        )
    for field, direction in shape.order_by:
        query = query.order_by(field, direction=direction)
    return query


def read_agent_journals(
    db: Client,
    uid: str,
    agent_ids: Sequence[str],
    lookback_trades: int,
    read_time: dt.datetime | None = None,
) -> list[JournalEntry]:
    """Per agent: where agent_id == X order by closed_at desc limit lookback_trades, all agents'
    queries running concurrently and, given read_time, at that one consistent instant."""
    per_agent = query_agent_journals(db, uid, agent_ids, lookback_trades, read_time)
    return [entry for entries in per_agent.values() for entry, _ in entries]


def query_agent_journals(
    db: Client,
    uid: str,
    agent_ids: Sequence[str],
    lookback_trades: int,
    read_time: dt.datetime | None = None,
) -> dict[str, list[tuple[JournalEntry, int]]]:
    """read_agent_journals by agent, each entry with its commit time (ns) for the windows."""

    def one_agent(agent_id: str) -> list[tuple[JournalEntry, int]]:
        query = _build_query(db, uid, AGENT_JOURNAL_QUERY, agent_id=agent_id).limit(lookback_trades)
        return with_retries(
            lambda: [
                (_entry(snap), to_ns(snap.update_time)) for snap in _run_query(query, read_time)
            ]
        )

    if len(agent_ids) == 1:
        return {agent_ids[0]: one_agent(agent_ids[0])}
    return dict(zip(agent_ids, _query_executor().map(one_agent, agent_ids), strict=True))


def read_agent_journals_sequentially(
    db: Client, uid: str, agent_ids: Sequence[str], lookback_trades: int
) -> list[JournalEntry]:
    """The seed's way, one agent after another; kept only to measure against (bench/)."""
    entries: list[JournalEntry] = []
    for agent_id in agent_ids:
        query = _build_query(db, uid, AGENT_JOURNAL_QUERY, agent_id=agent_id).limit(lookback_trades)
        entries.extend(_entry(snap) for snap in _run_query(query, None))
    return entries


def any_trade_closed_after(db: Client, uid: str, closed_at: dt.datetime | None) -> bool:
    """Whether a trade with a closed_at timestamp later than `closed_at` exists (1 read)."""
    query = _build_query(db, uid, CLOSED_AFTER_QUERY, closed_at=closed_at or EPOCH_START).limit(1)
    return with_retries(lambda: any(True for _ in _run_query(query, None)))


def save_config(db: Client, uid: str, config_json: Mapping[str, Any]) -> None:
    from google.cloud.firestore import SERVER_TIMESTAMP

    document = {**config_json, "updated_at": SERVER_TIMESTAMP}
    with_retries(lambda: config_ref(db, uid).set(document))


class ConflictError(Exception):
    """The weights document changed since this run read it: read again and redo."""


def commit_run(
    db: Client,
    uid: str,
    document: Mapping[str, Any],
    windows: Sequence[AgentWindow],
    seen: DocumentSnapshot,
    previous: Mapping[str, Any] | None = None,
) -> dt.datetime:
    """Store the weights and the windows they were computed from, atomically, only if the
    weights document is still the version `seen` (compare-and-set on its update time; a create
    when there was none). Given `previous`, the contents of `seen`, only the difference is sent.
    Every window write goes through here with the weights, so that check also guards the
    windows. Returns the commit time; raises ConflictError when another run wrote first."""
    from google.api_core import exceptions
    from google.cloud.firestore import DELETE_FIELD

    batch = db.batch()
    ref = weights_ref(db, uid)
    if seen.exists and previous is not None and not windows:
        # Only what changed: a write's cost grows with the fields it carries, and a close
        # changes the weights and a few statistics, not the whole document.
        precondition = db.write_option(last_update_time=seen.update_time)
        batch.update(ref, document_patch(previous, document), option=precondition)
    elif seen.exists:
        # A whole replacement: clear what a failed run's mark_weights_stale may have added.
        cleared = {"stale_reason": DELETE_FIELD, "stale_since": DELETE_FIELD}
        precondition = db.write_option(last_update_time=seen.update_time)
        batch.update(ref, {**cleared, **document}, option=precondition)
    else:
        batch.create(ref, dict(document))
    for window in windows:
        batch.set(window_ref(db, uid, window.agent_id), window_fields(window))
    try:
        results = with_retries(lambda: _commit(batch))
    except (exceptions.FailedPrecondition, exceptions.AlreadyExists, exceptions.NotFound):
        raise ConflictError(f"weights of {uid} changed since read") from None
    update_time: dt.datetime = results[0].update_time
    return update_time


def document_patch(previous: Mapping[str, Any], document: Mapping[str, Any]) -> dict[str, Any]:
    """An update (field path -> value, or DELETE_FIELD) that turns `previous` into `document`:
    maps that are non-empty on both sides are compared key by key; anything else (a value, a
    list, an empty map, timestamps to the nanosecond) is sent whole when it differs."""
    from google.cloud.firestore_v1.field_path import FieldPath

    return {
        FieldPath(*path).to_api_repr(): value
        for path, value in _difference(previous, document, ()).items()
    }


def _difference(
    old: Mapping[str, Any], new: Mapping[str, Any], prefix: tuple[str, ...]
) -> dict[tuple[str, ...], Any]:
    from google.cloud.firestore import DELETE_FIELD

    patch: dict[tuple[str, ...], Any] = {
        (*prefix, key): DELETE_FIELD for key in old.keys() - new.keys()
    }
    for key, value in new.items():
        if key in old and old[key] is value:
            continue  # carried over from the stored document unchanged
        path = (*prefix, key)
        if key not in old:
            patch[path] = value
        elif isinstance(old[key], Mapping) and isinstance(value, Mapping) and old[key] and value:
            patch.update(_difference(old[key], value, path))
        elif not _same_value(old[key], value):
            patch[path] = value
    return patch


def _same_value(old: Any, new: Any) -> bool:
    if isinstance(old, dt.datetime) and isinstance(new, dt.datetime):
        # datetime equality ignores the nanoseconds a Firestore timestamp may carry
        return bool(old == new) and _nanosecond(old) == _nanosecond(new)
    return type(old) is type(new) and old == new


def _nanosecond(moment: dt.datetime) -> int:
    """The sub-second part in nanoseconds. A DatetimeWithNanoseconds keeps more than the
    microseconds, but a copy of one (DocumentSnapshot.to_dict() deep-copies) keeps only the
    microseconds and reports 0 nanoseconds: trust `nanosecond` only when it agrees with them."""
    nanos = getattr(moment, "nanosecond", None)
    if isinstance(nanos, int) and nanos // 1000 == moment.microsecond:
        return nanos
    return moment.microsecond * 1000


def mark_weights_stale(db: Client, uid: str, reason: str) -> None:
    """Best effort after a failed run: flag the stored weights as stale (the callable then
    recomputes instead of serving them from cache). Never creates a document."""
    from google.cloud.firestore import SERVER_TIMESTAMP

    weights_ref(db, uid).update(
        {"stale": True, "stale_reason": reason, "stale_since": SERVER_TIMESTAMP}
    )


def with_retries(call: Callable[[], T]) -> T:
    """Run `call`, retrying transient errors (unavailable, deadline exceeded, aborted) with
    exponential backoff, RETRY_ATTEMPTS times in all. Other errors pass through at once."""
    from google.api_core import exceptions

    transient = (exceptions.ServiceUnavailable, exceptions.DeadlineExceeded, exceptions.Aborted)
    for attempt in range(RETRY_ATTEMPTS):
        try:
            return call()
        except transient:
            if attempt == RETRY_ATTEMPTS - 1:
                raise
            time.sleep(RETRY_BASE_DELAY_SECONDS * 3**attempt)
    raise AssertionError("unreachable")


# --- the RPCs themselves; tests inject faults here ---------------------------------------------


def _get_all(
    db: Client, refs: Iterable[DocumentReference], read_time: dt.datetime | None = None
) -> list[DocumentSnapshot]:
    refs = list(refs)
    return list(db.get_all(refs, read_time=read_time) if read_time else db.get_all(refs))


def _run_query(query: Query, read_time: dt.datetime | None) -> list[DocumentSnapshot]:
    return list(query.stream(read_time=read_time)) if read_time else list(query.stream())


def _commit(batch: WriteBatch) -> list[Any]:
    return list(batch.commit())


def _entry(snapshot: DocumentSnapshot) -> JournalEntry:
    return JournalEntry(trade_id=snapshot.id, data=snapshot.to_dict() or {})


def _query_executor() -> ThreadPoolExecutor:
    global _executor  # noqa: PLW0603 - one pool per process, created on first use
    with _client_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=MAX_CONCURRENT_QUERIES, thread_name_prefix="maestro-query"
            )
        return _executor
