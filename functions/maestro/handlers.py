"""The bodies of the callable and the trigger: check, validate, delegate to service, log, and
map failures to the right HttpsError. main.py only declares them with their options."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

import flask
from firebase_functions import firestore_fn, https_fn, logger
from firebase_functions.core import Change
from google.cloud.firestore_v1 import DocumentSnapshot

from . import call_limits, documents, firestore_io, service, task_queue
from .call_limits import Admitted, RecentRefusals, Refused
from .config import MAX_RUN_TRADES, ConfigError, MaestroConfig, check_run_size
from .decisions import Settings, Skip, SkipReason
from .events import (
    CallableRequest,
    ConfigWritten,
    EventCheck,
    Ignored,
    QueuedRebuild,
    TradeEvent,
    classify_trade_write,
)
from .result import render_weights_table
from .timestamps import to_ns

MAX_PAYLOAD_BYTES: Final = 16 * 1024
PAYLOAD_KEYS: Final = ("config", "force", "history")
# The audit trail through the callable: pages of at most this many versions (one read each).
HISTORY_PAGE_DEFAULT: Final = 20
HISTORY_PAGE_MAX: Final = 50
Code = https_fn.FunctionsErrorCode


@dataclass(frozen=True, slots=True)
class HistoryPage:
    limit: int
    before: dt.datetime | None


@dataclass(frozen=True, slots=True)
class CallableRequestData:
    config: MaestroConfig | None
    force: bool
    history: HistoryPage | None = None


def guard_callable_body(
    handler: Callable[[flask.Request], flask.Response],
) -> Callable[[flask.Request], flask.Response]:
    """Answer INVALID_ARGUMENT for a POST whose JSON body is not exactly {"data": ...}. The SDK
    answers INTERNAL for a malformed body, as if our function had failed, and trips over its own
    log line for a body without "data"."""

    @functools.wraps(handler)  # keeps the SDK's endpoint attributes for deployment
    def guarded(request: flask.Request) -> flask.Response:
        if request.method == "POST" and request.is_json:
            body = request.get_json(silent=True)
            if not isinstance(body, dict) or set(body) != {"data"}:
                error = _invalid('the request body must be a JSON object {"data": ...}')
                return flask.make_response(flask.jsonify(error=error._as_dict()), 400)
        return handler(request)

    return guarded


def parse_callable_data(data: Any, max_run_trades: int = MAX_RUN_TRADES) -> CallableRequestData:
    """{"config": {...}?, "force": bool?} or nothing. Raises HttpsError(INVALID_ARGUMENT) naming
    the problem (a config whose rebuild would read more than `max_run_trades` documents too)."""
    if data is None:
        return CallableRequestData(config=None, force=False)
    if not isinstance(data, dict):
        raise _invalid('data must be an object like {"config": {...}, "force": true}')
    if len(json.dumps(data, default=str)) > MAX_PAYLOAD_BYTES:
        raise _invalid(f"payload larger than {MAX_PAYLOAD_BYTES} bytes")
    unknown = sorted(str(key) for key in data if key not in PAYLOAD_KEYS)
    if unknown:
        raise _invalid(f"{unknown[0]}: unknown field (known: config, force, history)")
    if "history" in data:
        if len(data) > 1:
            raise _invalid("history: ask for history alone, without config or force")
        return CallableRequestData(config=None, force=False, history=_history_page(data["history"]))
    force = data.get("force", False)
    if not isinstance(force, bool):
        raise _invalid("force: must be true or false")
    config = None
    if "config" in data:
        try:
            config = check_run_size(MaestroConfig.from_mapping(data["config"]), max_run_trades)
        except ConfigError as error:
            raise _invalid(f"config.{error}") from None
    return CallableRequestData(config=config, force=force)


def _history_page(asked: Any) -> HistoryPage:
    """{"limit": 1..HISTORY_PAGE_MAX?, "before": ISO-8601 time with its offset?}."""
    if not isinstance(asked, dict):
        raise _invalid('history: must be an object like {"limit": 20, "before": "<ISO time>"}')
    unknown = sorted(str(key) for key in asked if key not in ("limit", "before"))
    if unknown:
        raise _invalid(f"history.{unknown[0]}: unknown field (known: limit, before)")
    limit = asked.get("limit", HISTORY_PAGE_DEFAULT)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= HISTORY_PAGE_MAX:
        raise _invalid(f"history.limit: must be an integer from 1 to {HISTORY_PAGE_MAX}")
    before = asked.get("before")
    if before is None:
        return HistoryPage(limit, None)
    try:
        moment = dt.datetime.fromisoformat(before) if isinstance(before, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _invalid(
            "history.before: must be an ISO-8601 time with its offset, e.g. 2026-03-03T00:00:00Z"
        )
    return HistoryPage(limit, moment)


def calculate_agent_weights(
    request: https_fn.CallableRequest[Any], settings: Settings
) -> dict[str, Any]:
    """The callable: the signed-in user's weights, from the stored document while it is valid.
    A forced recompute or a config save (each a rebuild from the journal) counts against the
    user's limits first; beyond them, RESOURCE_EXHAUSTED and nothing read or written."""
    usage = firestore_io.track_usage()
    if request.auth is None or not request.auth.uid:
        raise https_fn.HttpsError(Code.UNAUTHENTICATED, "sign in to compute agent weights")
    uid = request.auth.uid  # never a uid from the payload
    # The SDK checks expiry in production; under the Auth emulator it only decodes the token.
    # Checking here too costs nothing and holds in both.
    expires = request.auth.token.get("exp")
    if not isinstance(expires, int | float) or isinstance(expires, bool) or expires <= time.time():
        raise https_fn.HttpsError(Code.UNAUTHENTICATED, "the ID token has expired; sign in again")
    parsed = parse_callable_data(request.data, settings.max_run_trades)
    started = time.perf_counter()
    try:
        db = firestore_io.get_client()
        if parsed.force or parsed.config is not None or parsed.history is not None:
            _admit_expensive_call(db, uid, settings, usage)
        if parsed.history is not None:
            return _history(db, uid, parsed.history)
        if parsed.config is not None:
            firestore_io.save_config(db, uid, parsed.config)
        asked = CallableRequest(force=parsed.force, config_saved=parsed.config is not None)
        outcome = service.recompute(db, uid, asked, settings)
    except https_fn.HttpsError:
        raise
    except Exception as error:
        raise _to_https_error(error, uid=uid, cause="callable") from None
    _log_run("callable", uid, started, outcome, usage)
    assert outcome.document is not None  # a callable run always ends with a stored document
    return outcome.document


def _history(db: Any, uid: str, page: HistoryPage) -> dict[str, Any]:
    """A page of the audit trail, newest first; `next_before` asks for the page after it."""
    entries = firestore_io.read_history(db, uid, page.limit, page.before)
    full = len(entries) == page.limit
    last = entries[-1].get("computed_at") if full else None
    return {
        "history": documents.history_page(entries),
        "next_before": last.isoformat() if isinstance(last, dt.datetime) else None,
    }


def on_trade_written(
    event: firestore_fn.Event[Change[DocumentSnapshot | None]], settings: Settings
) -> None:
    """The trigger: classify the write once, then recompute when it changes what the engine
    reads. Idempotent: events arrive at least once and in any order."""
    uid, trade_id = event.params["uid"], event.params["tradeId"]
    before, after = event.data.before, event.data.after
    classified = classify_trade_write(
        trade_id,
        event.id,
        before.to_dict() if before is not None else None,
        after.to_dict() if after is not None else None,
        # The exact commit time of a create or update; a delete's is not in the event.
        to_ns(after.update_time) if after is not None else None,
    )
    if isinstance(classified, Ignored):
        logger.info(
            "maestro trigger skipped", uid=uid, trade_id=trade_id, reason=classified.reason.value
        )
        return
    started, usage = time.perf_counter(), firestore_io.track_usage()
    # Should this run die, the event's delayed check: queued by a watchdog if the run is still
    # going after check_after_ms, so that a run that ends in time (nearly all) costs nothing.
    check = _watch_run(uid, classified, settings)
    try:
        outcome = _recompute_close(uid, classified, settings)
    except Exception as error:
        https_error = _to_https_error(error, uid=uid, cause=f"trade {trade_id}")
        _mark_stale(uid, f"trigger for trade {trade_id} failed: {https_error.code.value}")
        if settings.handoff_after_conflicts is not None:
            _hand_off(uid, settings)  # the queue retries what this run could not do
        raise https_error from None
    finally:
        _settle_check(uid, check)
    _log_run(f"trade {trade_id} ({classified.describe()})", uid, started, outcome, usage)


def _recompute_close(uid: str, event: TradeEvent, settings: Settings) -> service.RunOutcome:
    """The trade event's run, and its hand-off. When the queue cannot be reached, a run held
    back by the write gate writes after all (as a run without the queue would: the gate only
    spares the document writes, and the stale flag would be a write too); one that lost the
    race, with no rebuild coming, flags the weights stale (the next close or call rebuilds)."""
    db = firestore_io.get_client()
    outcome = service.recompute(db, uid, event, settings)
    if outcome.status is not service.RunStatus.HANDED_OFF or _hand_off(uid, settings):
        return outcome
    if outcome.decision == Skip(SkipReason.WRITTEN_TOO_RECENTLY):
        ungated = dataclasses.replace(settings, handoff_after_conflicts=None)
        return service.recompute(db, uid, event, ungated)
    _mark_stale(uid, f"trigger for trade {event.trade_id} could not hand off its recompute")
    return outcome


_check_enqueuer: Final = ThreadPoolExecutor(max_workers=4, thread_name_prefix="event-check")


@dataclass(frozen=True, slots=True)
class _RunWatch:
    done: threading.Event
    queued: Future[bool]


def _watch_run(uid: str, event: TradeEvent, settings: Settings) -> _RunWatch | None:
    delay = settings.check_delay_seconds
    if delay is None:
        return None
    check = EventCheck.of(event, time.time_ns())
    done = threading.Event()

    def watchdog() -> bool:
        if done.wait(settings.check_after_ms / 1000):
            return False  # the run ended in time: no check
        task_queue.schedule_check(uid, check, delay, settings.region)
        return True

    return _RunWatch(done, _check_enqueuer.submit(watchdog))


def _settle_check(uid: str, watch: _RunWatch | None) -> None:
    """The run ends: stop its watchdog, or let the check it started finish queueing."""
    if watch is None:
        return
    watch.done.set()
    try:
        watch.queued.result()
    except Exception as error:  # the run itself goes on: only its safety net is missing
        logger.warn("maestro event check not scheduled", uid=uid, error=repr(error))


def on_check(request: https_fn.CallableRequest[Any], settings: Settings) -> None:
    """The event check queue's function: when a trade event's run died without leaving it
    reflected (decisions: EventCheck), hand the user's recompute to the queue. A failure
    raises, and the queue retries the check."""
    try:
        uid, check = task_queue.parse_check(request.data)
    except ValueError as error:
        logger.error("maestro task dropped", error=str(error))
        return
    delay_ns = (settings.check_delay_seconds or 0) * 10**9
    _wait_until(check.started_ns + delay_ns, delay_ns)
    started, usage = time.perf_counter(), firestore_io.track_usage()
    try:
        outcome = service.recompute(firestore_io.get_client(), uid, check, settings)
    except Exception as error:
        https_error = _to_https_error(error, uid=uid, cause=f"event check {check.trade_id}")
        if _last_attempt(request):
            _mark_stale(uid, f"event check failed {task_queue.MAX_ATTEMPTS} times")
        raise https_error from None
    if outcome.status is service.RunStatus.SKIPPED:
        return  # a check that finds all well is quiet
    if not _hand_off(uid, settings):  # the queue retries this check
        raise https_fn.HttpsError(Code.UNAVAILABLE, "the task queue could not be reached")
    _log_run(f"event check {check.trade_id}", uid, started, outcome, usage)


def on_queued(request: https_fn.CallableRequest[Any], settings: Settings) -> None:
    """The task queue function: a rebuild handed off by trigger runs (task_queue.py). A failure
    raises, and the queue retries it with backoff; a task that is not ours is dropped."""
    try:
        uid, not_before_ns = task_queue.parse_task(request.data)
    except ValueError as error:
        logger.error("maestro task dropped", error=str(error))
        return
    # The read must come after every hand-off of the bucket.
    _wait_until(not_before_ns, (settings.handoff_bucket_seconds + 1) * 10**9)
    started, usage = time.perf_counter(), firestore_io.track_usage()
    try:
        outcome = service.recompute(
            firestore_io.get_client(), uid, QueuedRebuild(not_before_ns), settings
        )
    except Exception as error:
        https_error = _to_https_error(error, uid=uid, cause="queued rebuild")
        if _last_attempt(request):
            _mark_stale(uid, f"queued rebuild failed {task_queue.MAX_ATTEMPTS} times")
        raise https_error from None
    _log_run("queued rebuild", uid, started, outcome, usage)


def _wait_until(not_before_ns: int, at_most_ns: int) -> None:
    """Cloud Tasks runs a task at its schedule time; the emulator runs it at once
    (firebase-tools#8254). Wait out what is left, never longer than the task's kind allows
    (whatever the task says)."""
    wait_ns = min(not_before_ns - time.time_ns(), at_most_ns)
    if wait_ns > 0:
        time.sleep(wait_ns / 1e9)


def _last_attempt(request: https_fn.CallableRequest[Any]) -> bool:
    """The queue gives up after this attempt: what was handed to it must not go missing
    silently, so the caller flags the weights stale (the next close or call rebuilds)."""
    retries = request.raw_request.headers.get("X-CloudTasks-TaskRetryCount", "0")
    return retries.isdigit() and int(retries) >= task_queue.MAX_ATTEMPTS - 1


def _hand_off(uid: str, settings: Settings) -> bool:
    """Enqueue the user's queued rebuild; False (logged) when the queue cannot be reached."""
    try:
        handed = task_queue.hand_off(
            uid, time.time_ns(), settings.handoff_bucket_seconds, settings.region
        )
    except Exception as error:
        logger.warn("maestro hand-off failed", uid=uid, error=repr(error))
        return False
    logger.info("maestro handed off", uid=uid, task=handed.task_name, coalesced=not handed.enqueued)
    return True


def on_config_written(
    event: firestore_fn.Event[Change[DocumentSnapshot | None]], settings: Settings
) -> None:
    """The config trigger: a config written straight to Firestore (not through the callable)
    applies at once, and the weights document changes whenever the effective config does (an
    instance remembering the previous weights relies on that: see memory.py)."""
    uid = event.params["uid"]
    started, usage = time.perf_counter(), firestore_io.track_usage()
    try:
        outcome = service.recompute(firestore_io.get_client(), uid, ConfigWritten(), settings)
    except Exception as error:
        raise _to_https_error(error, uid=uid, cause="config") from None
    _log_run("config", uid, started, outcome, usage)


_recent_refusals: Final = RecentRefusals()


def forget_instance_memory() -> None:
    """Drop the refusals this instance remembers, as a new instance starts."""
    _recent_refusals.clear()


def _admit_expensive_call(db: Any, uid: str, settings: Settings, usage: firestore_io.Usage) -> None:
    """Count the call against the user's limits; RESOURCE_EXHAUSTED, saying when to retry,
    beyond them. A refusal reads the limits document once per instance and is remembered
    until its retry time; only that first one is logged (a flood would otherwise pay for a
    log line per call)."""
    if not call_limits.any_active(settings.expensive_call_limits):
        return  # limits off: nothing to count
    now_ns = settings.clock_ns()
    verdict: Admitted | Refused | None = _recent_refusals.recall(uid, now_ns)
    if verdict is None:
        verdict = firestore_io.admit_expensive_call(db, uid, settings.expensive_call_limits, now_ns)
        if isinstance(verdict, Refused):
            _recent_refusals.remember(uid, now_ns, verdict)
            logger.warn(
                "maestro call refused",
                uid=uid,
                limit=verdict.limit.describe(),
                retry_after_seconds=verdict.retry_after_seconds,
                reads=usage.reads,
                writes=usage.writes,
            )
    if isinstance(verdict, Refused):
        raise https_fn.HttpsError(
            Code.RESOURCE_EXHAUSTED,
            verdict.message(),
            details={"retry_after_seconds": verdict.retry_after_seconds},
        )


def _to_https_error(error: Exception, *, uid: str, cause: str) -> https_fn.HttpsError:
    """Firestore failures -> the matching HttpsError; anything unexpected -> INTERNAL, logged
    with its context here and never described to the caller."""
    from google.api_core import exceptions

    mapping: tuple[tuple[type[Exception], Code, str], ...] = (
        (exceptions.ServiceUnavailable, Code.UNAVAILABLE, "Firestore is unavailable; try again"),
        (
            exceptions.DeadlineExceeded,
            Code.DEADLINE_EXCEEDED,
            "Firestore did not answer in time; try again",
        ),
        (exceptions.Aborted, Code.ABORTED, "too many concurrent updates; try again"),
    )
    for kind, code, message in mapping:
        if isinstance(error, kind):
            logger.warn(
                "maestro run failed", uid=uid, cause=cause, code=code.value, error=repr(error)
            )
            return https_fn.HttpsError(code, message)
    logger.error(
        "maestro run failed unexpectedly",
        uid=uid,
        cause=cause,
        error=repr(error),
        error_type=type(error).__name__,
    )
    return https_fn.HttpsError(Code.INTERNAL, "internal error")


def _mark_stale(uid: str, reason: str) -> None:
    try:
        firestore_io.mark_weights_stale(firestore_io.get_client(), uid, reason)
    except Exception as error:  # best effort: the failure itself is already logged
        logger.warn("could not flag weights stale", uid=uid, error=repr(error))


def _log_run(
    cause: str, uid: str, started: float, outcome: service.RunOutcome, usage: firestore_io.Usage
) -> None:
    fields: dict[str, Any] = {
        "uid": uid,
        "cause": cause,
        "status": outcome.status.value,
        "reason": outcome.reason,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        "agents": outcome.agent_count,
        "timings_ms": outcome.timings_ms,
        "reads": usage.reads,
        "writes": usage.writes,
    }
    if outcome.path:
        fields["path"] = outcome.path
    document = outcome.fields
    if document is not None and documents.has_result(document):
        fields["weights"] = documents.weights_of(document)
        fields["reasons"] = documents.reasons_of(document)
        # The seed's table for each rebuild; a close applied to the windows logs the weights
        # alone (the table would double a close's log line, and its cost: see performance.md).
        if outcome.status is service.RunStatus.WRITTEN and outcome.path != "window":
            fields["table"] = render_weights_table(document)
    logger.info("maestro weights", **fields)


def _invalid(message: str) -> https_fn.HttpsError:
    return https_fn.HttpsError(Code.INVALID_ARGUMENT, message)
