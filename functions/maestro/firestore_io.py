"""The only module that talks to Firestore: paths, the queries Maestro makes, reads, the guarded
write of the weights document, and bounded retries of what is safe to retry.

Every query is built by `_build_query` from a declared `QueryShape`; tests check each shape
against firestore.indexes.json, so a query without an index cannot ship.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar

from .journal import JournalEntry

if TYPE_CHECKING:
    from google.cloud.firestore import Client, DocumentReference, DocumentSnapshot, Query

T = TypeVar("T")

USERS: Final = "users"
JOURNAL: Final = "tradeJournal"
MAESTRO: Final = "maestro"
WEIGHTS_DOC: Final = "weights"
CONFIG_DOC: Final = "config"

# Reads are retried on these transient errors (a read changes nothing, so a retry is safe).
# The weights write is guarded by a precondition, so it is safe to retry too.
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


def read_weights(db: Client, uid: str) -> DocumentSnapshot:
    return with_retries(lambda: next(iter(_get_all(db, [weights_ref(db, uid)]))))


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

    def one_agent(agent_id: str) -> list[JournalEntry]:
        query = _build_query(db, uid, AGENT_JOURNAL_QUERY, agent_id=agent_id).limit(lookback_trades)
        return with_retries(lambda: [_entry(snap) for snap in _run_query(query, read_time)])

    if len(agent_ids) == 1:
        return one_agent(agent_ids[0])
    results = _query_executor().map(one_agent, agent_ids)
    return [entry for agent_entries in results for entry in agent_entries]


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


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """written: this run's document is stored (update_time is its commit time). Otherwise
    `superseded_by` is the stored document of a run that read a journal at least as new."""

    written: bool
    update_time: dt.datetime | None = None
    superseded_by: dict[str, Any] | None = None


def write_weights_if_newer(
    db: Client,
    uid: str,
    document: Mapping[str, Any],
    journal_as_of: dt.datetime,
    seen: DocumentSnapshot,
) -> WriteOutcome:
    """Store the weights unless a run with a watermark >= journal_as_of already did.

    Compare-and-set on the document's update time: `seen` is the snapshot this run read; if the
    document changed since, it is read again and the watermarks compared again. So an older
    journal state never overwrites a newer one, whatever order runs finish in."""
    from google.api_core import exceptions

    ref = weights_ref(db, uid)
    current = seen
    for _ in range(CAS_ATTEMPTS):
        stored = current.to_dict() if current.exists else None
        stored_as_of = stored.get("journal_as_of") if stored else None
        if stored is not None and stored_as_of is not None and stored_as_of >= journal_as_of:
            return WriteOutcome(written=False, superseded_by=stored)
        try:
            if current.exists:
                precondition = db.write_option(last_update_time=current.update_time)
                result = with_retries(lambda: _update(ref, document, precondition))  # noqa: B023
            else:
                result = with_retries(lambda: _create(ref, document))
            return WriteOutcome(written=True, update_time=result.update_time)
        except (exceptions.FailedPrecondition, exceptions.AlreadyExists, exceptions.NotFound):
            current = read_weights(db, uid)  # someone else wrote: compare again
    raise exceptions.Aborted(f"weights of {uid}: too much contention ({CAS_ATTEMPTS} attempts)")


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


def _get_all(db: Client, refs: Iterable[DocumentReference]) -> list[DocumentSnapshot]:
    return list(db.get_all(list(refs)))


def _run_query(query: Query, read_time: dt.datetime | None) -> list[DocumentSnapshot]:
    return list(query.stream(read_time=read_time)) if read_time else list(query.stream())


def _update(ref: DocumentReference, document: Mapping[str, Any], option: Any) -> Any:
    from google.cloud.firestore import DELETE_FIELD

    # A whole replacement: clear what a failed run's mark_weights_stale may have added.
    cleared = {"stale_reason": DELETE_FIELD, "stale_since": DELETE_FIELD}
    return ref.update({**cleared, **document}, option=option)


def _create(ref: DocumentReference, document: Mapping[str, Any]) -> Any:
    return ref.create(dict(document))


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
