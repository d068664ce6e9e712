"""The only module that talks to Firestore: paths, the queries Maestro makes, reads, the guarded
write of the weights document, the call limits' count, bounded retries of what is safe to
retry, and the count of what each invocation reads and writes (logged with its run).

Every query is built by `_build_query` from a declared `QueryShape`; tests check each shape
against firestore.indexes.json, so a query without an index cannot ship.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TypeVar

from . import call_limits, documents
from .call_limits import Admitted, Limit, Refused
from .config import MaestroConfig
from .documents import StoredDocuments
from .journal import JournalEntry
from .timestamps import EPOCH_START, to_ns

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
HISTORY: Final = "history"  # users/{uid}/maestro/weights/history/{versionId}: the audit trail
CALL_LIMITS: Final = "maestroLimits"  # top level: no client rule matches it (admin-only)

# Reads are retried on these transient errors (a read changes nothing, so a retry is safe).
# The commit is guarded by a precondition, so it is safe to retry too: a retry of a commit that
# did land fails the precondition, and the run reads again and finds its own write.
RETRY_ATTEMPTS: Final = 3
RETRY_BASE_DELAY_SECONDS: Final = 0.1
MAX_CONCURRENT_QUERIES: Final = 16
CAS_ATTEMPTS: Final = 8
# A retry after a lost compare-and-set waits up to this x its attempt number: runs that lost
# together spread out.
CONFLICT_BACKOFF_SECONDS: Final = 0.01


@dataclass(slots=True)
class Usage:
    """Documents one invocation read and wrote, counted as Firestore bills them: a read per
    document a batch get asks for (found or not), a read per document a query returns and at
    least one per query, a write per document written. Counted once an RPC succeeds."""

    reads: int = 0
    writes: int = 0


_usage: Final = contextvars.ContextVar[Usage]("maestro_firestore_usage")


def track_usage() -> Usage:
    """Count this invocation's reads and writes from now on (handlers call it first)."""
    usage = Usage()
    _usage.set(usage)
    return usage


def _bill(reads: int = 0, writes: int = 0) -> None:
    # Only ever called from the invocation's own thread (queries are counted after they join).
    usage = _usage.get(None)
    if usage is not None:
        usage.reads += reads
        usage.writes += writes


@dataclass(frozen=True, slots=True)
class QueryShape:
    """A query's filters and order, as an index sees them."""

    name: str
    collection_id: str
    equality_fields: tuple[str, ...]
    order_by: tuple[tuple[str, str], ...]  # (field, "ASCENDING" | "DESCENDING")
    inequality_field: str | None = None
    inequality_op: str = ">"
    parent: tuple[str, ...] = ()  # the path from users/{uid} down to the collection


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
HISTORY_QUERY: Final = QueryShape(
    name="history_before",
    collection_id=HISTORY,
    equality_fields=(),
    order_by=(("computed_at", "DESCENDING"),),
    inequality_field="computed_at",
    inequality_op="<",
    parent=(MAESTRO, WEIGHTS_DOC),
)
QUERY_SHAPES: Final = (AGENT_JOURNAL_QUERY, CLOSED_AFTER_QUERY, HISTORY_QUERY)

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


def maestro_ref(db: Client, uid: str, document_id: str) -> DocumentReference:
    return db.collection(USERS).document(uid).collection(MAESTRO).document(document_id)


def read_documents(db: Client, uid: str, *, with_windows: bool) -> StoredDocuments:
    """The user's weights and config (and, `with_windows`, the rolling windows) in one
    consistent batch get. Its read time is the run's watermark: every journal write committed
    before it is visible to the queries that follow. Windows too large for one document take
    a second batch get, at the same read time."""

    def read() -> StoredDocuments:
        ids = [WEIGHTS_DOC, CONFIG_DOC]
        if with_windows:
            ids.append(documents.windows_document_id(0))
        snapshots = _get_all(db, [maestro_ref(db, uid, doc_id) for doc_id in ids])
        _bill(reads=len(ids))
        found = {snap.reference.id: snap for snap in snapshots if snap.exists}
        read_time = snapshots[0].read_time
        windows: list[Mapping[str, Any]] | None = None
        if with_windows:
            head = found.get(documents.windows_document_id(0))
            windows = [head.to_dict() or {}] if head is not None else []
            shards = documents.window_shard_count(windows[0] if windows else None)
            if shards > 1:
                rest = [
                    maestro_ref(db, uid, documents.windows_document_id(i)) for i in range(1, shards)
                ]
                windows += [
                    snap.to_dict() or {} for snap in _get_all(db, rest, read_time) if snap.exists
                ]
                _bill(reads=len(rest))
        weights, config = found.get(WEIGHTS_DOC), found.get(CONFIG_DOC)
        return StoredDocuments(
            weights=weights.to_dict() if weights is not None else None,
            weights_update_time=weights.update_time if weights is not None else None,
            config=config.to_dict() if config is not None else None,
            windows=windows,
            read_time=read_time,
        )

    return with_retries(read)


def _build_query(db: Client, uid: str, shape: QueryShape, **values: Any) -> Query:
    from google.cloud.firestore import FieldFilter

    query: Query = db.document(USERS, uid, *shape.parent).collection(shape.collection_id)
    for name in shape.equality_fields:
        query = query.where(filter=FieldFilter(name, "==", values[name]))
    if shape.inequality_field is not None:
        bound = values[shape.inequality_field]
        query = query.where(filter=FieldFilter(shape.inequality_field, shape.inequality_op, bound))
    for name, direction in shape.order_by:
        query = query.order_by(name, direction=direction)
    return query


def read_agent_journals(
    db: Client, uid: str, agent_ids: Sequence[str], lookback_trades: int
) -> list[JournalEntry]:
    """Per agent: where agent_id == X order by closed_at desc limit lookback_trades, all agents'
    queries running concurrently."""
    per_agent = query_agent_journals(db, uid, agent_ids, lookback_trades, lambda entry, _: entry)
    return [entry for entries in per_agent.values() for entry in entries]


def query_agent_journals(
    db: Client,
    uid: str,
    agent_ids: Sequence[str],
    lookback_trades: int,
    convert: Callable[[JournalEntry, int], T],
    read_time: dt.datetime | None = None,
) -> dict[str, list[T]]:
    """read_agent_journals by agent, at `read_time` when given (one consistent instant), each
    document handed to `convert` with its commit time (ns) as it arrives, so that a large
    rebuild never holds every snapshot at once."""

    def one_agent(agent_id: str) -> list[T]:
        query = _build_query(db, uid, AGENT_JOURNAL_QUERY, agent_id=agent_id).limit(lookback_trades)
        return with_retries(
            lambda: [
                convert(_entry(snap), to_ns(snap.update_time))
                for snap in _run_query(query, read_time)
            ]
        )

    if len(agent_ids) == 1:
        per_agent = {agent_ids[0]: one_agent(agent_ids[0])}
    else:
        per_agent = dict(zip(agent_ids, _query_executor().map(one_agent, agent_ids), strict=True))
    _bill(reads=sum(max(1, len(rows)) for rows in per_agent.values()))
    return per_agent


def any_trade_closed_after(db: Client, uid: str, closed_at: dt.datetime | None) -> bool:
    """Whether a trade with a closed_at timestamp later than `closed_at` exists (1 read)."""
    query = _build_query(db, uid, CLOSED_AFTER_QUERY, closed_at=closed_at or EPOCH_START).limit(1)
    found = with_retries(lambda: any(True for _ in _run_query(query, None)))
    _bill(reads=1)
    return found


def read_history(
    db: Client, uid: str, limit: int, before: dt.datetime | None
) -> list[dict[str, Any]]:
    """The audit trail's entries computed before `before` (None: all), newest first, at most
    `limit` of them (one read each, at least one per query)."""
    bound = before or dt.datetime.max.replace(tzinfo=dt.UTC)
    query = _build_query(db, uid, HISTORY_QUERY, computed_at=bound).limit(limit)
    snapshots = with_retries(lambda: _run_query(query, None))
    _bill(reads=max(1, len(snapshots)))
    return [snapshot.to_dict() or {} for snapshot in snapshots]


def save_config(db: Client, uid: str, config: MaestroConfig) -> None:
    from google.cloud.firestore import SERVER_TIMESTAMP

    fields = documents.config_fields(config, updated_at=SERVER_TIMESTAMP)
    with_retries(lambda: config_ref(db, uid).set(fields))
    _bill(writes=1)


def call_limits_ref(db: Client, uid: str) -> DocumentReference:
    return db.collection(CALL_LIMITS).document(uid)


def admit_expensive_call(
    db: Client, uid: str, limits: Sequence[Limit], now_ns: int
) -> Admitted | Refused:
    """Count an expensive call against the user's limits. The admitted call's write is a
    compare-and-set on the limits document's update time (a create when there is none), so two
    instances taking the last slot at once cannot both succeed: the loser reads again. A refused
    call only reads, and so never contends: 1 read; 1 more write when admitted. Raises Aborted
    after CAS_ATTEMPTS lost writes."""
    from google.api_core import exceptions

    ref = call_limits_ref(db, uid)
    for attempt in range(CAS_ATTEMPTS):
        if attempt:
            time.sleep(random.uniform(0, CONFLICT_BACKOFF_SECONDS * attempt))
        (snapshot,) = with_retries(lambda: _get_all(db, [ref]))
        _bill(reads=1)
        stored = snapshot.to_dict() if snapshot.exists else None
        log = documents.call_log_of(stored)
        if attempt and now_ns in log:
            # A retried commit whose first try landed (its answer lost): this call's own entry.
            return call_limits.recorded(log, limits)
        verdict = call_limits.admit(log, now_ns, limits)
        if isinstance(verdict, Refused):
            return verdict
        fields = documents.call_log_fields(verdict.log_ns, verdict.expires_at_ns)
        batch = db.batch()
        if snapshot.exists:
            precondition = db.write_option(last_update_time=snapshot.update_time)
            batch.update(ref, fields, option=precondition)
        else:
            batch.create(ref, fields)
        try:
            with_retries(functools.partial(_commit, batch))
        except (exceptions.FailedPrecondition, exceptions.AlreadyExists, exceptions.NotFound):
            continue  # another instance admitted a call meanwhile (or TTL deleted it): again
        _bill(writes=1)
        return verdict
    raise exceptions.Aborted(f"call limits of {uid}: too much contention ({CAS_ATTEMPTS} attempts)")


class ConflictError(Exception):
    """The weights document changed since this run read it: read again and redo."""


@dataclass(frozen=True, slots=True)
class WeightsWrite:
    """One run's write: the new weights document, and what it knows of the stored one (its
    fields and update time: None when there is none) for the compare-and-set; the window
    documents a rebuild stores (document id -> fields)."""

    fields: Mapping[str, Any]
    stored_fields: Mapping[str, Any] | None
    stored_update_time: dt.datetime | None
    windows: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    history: tuple[str, Mapping[str, Any]] | None = None  # the audit trail's entry, if any


def commit_weights(db: Client, uid: str, write: WeightsWrite) -> dt.datetime:
    """Store the weights and the windows they were computed from, atomically, only if the
    weights document is still the version the run read (compare-and-set on its update time; a
    create when there was none). Only the difference from the stored fields is sent, as
    field paths (an update, never a rewrite): a write's cost grows with the fields it
    carries. Every window write goes through here with the weights, so the same check guards
    the windows. Returns the commit time; raises ConflictError when another run wrote
    first."""
    from google.api_core import exceptions

    batch = db.batch()
    ref = weights_ref(db, uid)
    if write.stored_update_time is None:
        batch.create(ref, dict(write.fields))
    else:
        stored = write.stored_fields or {}
        # A batch's own _document_path and _add_write_pbs: what its update() itself uses
        # (google-cloud-firestore pinned in requirements.txt; test_patch.py checks the result).
        update = _update_write(
            ref._document_path, _difference(stored, write.fields, ()), write.stored_update_time
        )
        if update is not None:
            batch._add_write_pbs([update])
        else:
            precondition = db.write_option(last_update_time=write.stored_update_time)
            batch.update(ref, document_patch(stored, write.fields), option=precondition)
    for document_id, fields in write.windows.items():
        batch.set(maestro_ref(db, uid, document_id), dict(fields))
    if write.history is not None:  # in the same commit: never an entry without its weights
        version_id, entry = write.history
        batch.set(ref.collection(HISTORY).document(version_id), dict(entry))
    try:
        results = with_retries(lambda: _commit(batch))
    except (exceptions.FailedPrecondition, exceptions.AlreadyExists, exceptions.NotFound):
        raise ConflictError(f"weights of {uid} changed since read") from None
    _bill(writes=1 + len(write.windows) + (write.history is not None))
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


def _update_write(
    document_path: str, changes: Mapping[tuple[str, ...], Any], stored_update_time: dt.datetime
) -> Any:
    """The Write protobuf of `update(document_patch(...), option=last_update_time)`, built
    from the difference's field paths directly: the client's own update() parses every path
    string back into parts and renders it again several times (about half of what encoding a
    close's patch costs, 0.3-0.4 ms a close, measured: docs/performance.md section 2). None
    when the client must build it (nothing changed, or a transform other than DELETE_FIELD),
    so that those cases behave exactly as before. tests/unit/test_patch.py pins the result to
    what the client builds."""
    from google.cloud.firestore import DELETE_FIELD
    from google.cloud.firestore_v1 import _helpers
    from google.cloud.firestore_v1.field_path import FieldPath
    from google.cloud.firestore_v1.transforms import Sentinel
    from google.cloud.firestore_v1.types import common, document, write

    if not changes:
        return None
    fields: dict[str, Any] = {}
    mask = []
    for path, value in changes.items():
        mask.append(FieldPath(*path).to_api_repr())
        if value is DELETE_FIELD:
            continue  # in the mask, not in the fields: Firestore deletes it
        if isinstance(value, Sentinel):
            return None
        target = fields
        for part in path[:-1]:  # no path of a difference is a prefix of another
            target = target.setdefault(part, {})
        target[path[-1]] = value
    return write.Write(
        update=document.Document(name=document_path, fields=_helpers.encode_dict(fields)),
        update_mask=common.DocumentMask(field_paths=mask),
        current_document=common.Precondition(update_time=stored_update_time),
    )


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
        return to_ns(old) == to_ns(new)
    return type(old) is type(new) and old == new


def mark_weights_stale(db: Client, uid: str, reason: str) -> None:
    """Best effort after a failed run: flag the stored weights as stale (the callable then
    recomputes instead of serving them from cache). Never creates a document."""
    from google.cloud.firestore import SERVER_TIMESTAMP

    weights_ref(db, uid).update(documents.stale_fields(reason, since=SERVER_TIMESTAMP))
    _bill(writes=1)


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
