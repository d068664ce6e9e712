"""Cloud Functions declarations only: options, params, the callable and the two triggers.
The work happens in maestro.handlers -> maestro.service -> the engine."""

from __future__ import annotations

import os
from typing import Any

from firebase_admin import initialize_app
from firebase_functions import firestore_fn, https_fn, options, params, tasks_fn
from firebase_functions.core import Change
from google.cloud.firestore_v1 import DocumentSnapshot

from maestro import call_limits, config, decisions, handlers, task_queue

# Deploy-time settings (override in functions/.env or at deploy time).
MEMORY_MB = params.IntParam("MAESTRO_MEMORY_MB", default=256)
MAX_INSTANCES = params.IntParam("MAESTRO_MAX_INSTANCES", default=20)
TIMEOUT_SECONDS_DEFAULT = 60
TIMEOUT_SECONDS = params.IntParam("MAESTRO_TIMEOUT_SECONDS", default=TIMEOUT_SECONDS_DEFAULT)
CACHE_TTL_SECONDS = params.IntParam(
    "MAESTRO_CACHE_TTL_SECONDS", default=decisions.CACHE_TTL_SECONDS_DEFAULT
)
# How old rolling windows may get before a close rebuilds them from the journal (0: never use
# windows; every close queries agents x lookback trades).
WINDOW_MAX_AGE_SECONDS = params.IntParam(
    "MAESTRO_WINDOW_MAX_AGE_SECONDS", default=decisions.WINDOW_MAX_AGE_SECONDS_DEFAULT
)
# What one signed-in user can make Maestro spend (docs/reliability.md, "Denial of wallet"):
# forced recomputes and config saves through the callable, each a rebuild from the journal, at
# most this many per user in any minute / hour (0 turns a limit off); and the most journal
# documents one rebuild may read (agents x lookback_trades; a larger config is refused).
EXPENSIVE_CALLS_PER_MINUTE = params.IntParam(
    "MAESTRO_EXPENSIVE_CALLS_PER_MINUTE", default=call_limits.CALLS_PER_MINUTE_DEFAULT
)
EXPENSIVE_CALLS_PER_HOUR = params.IntParam(
    "MAESTRO_EXPENSIVE_CALLS_PER_HOUR", default=call_limits.CALLS_PER_HOUR_DEFAULT
)
MAX_RUN_TRADES = params.IntParam("MAESTRO_MAX_RUN_TRADES", default=config.MAX_RUN_TRADES)
# One user's burst: a trade event's run that loses this many compare-and-sets hands the user's
# recompute to the task queue (0: never, it races 8 times and may fail); hand-offs within a
# bucket of this many seconds coalesce into one queued rebuild (docs/reliability.md).
HANDOFF_AFTER_CONFLICTS = params.IntParam(
    "MAESTRO_HANDOFF_AFTER_CONFLICTS", default=decisions.HANDOFF_AFTER_CONFLICTS_DEFAULT
)
HANDOFF_BUCKET_SECONDS = params.IntParam(
    "MAESTRO_HANDOFF_BUCKET_SECONDS", default=decisions.HANDOFF_BUCKET_SECONDS_DEFAULT
)
# A run that dies (a crash, a timeout) cannot retry itself: each trade event's run schedules a
# check this many seconds after it began, which rebuilds if the event is not reflected by then.
# Keep it above MAESTRO_TIMEOUT_SECONDS, so that no run still alive is taken for dead (0: off).
EVENT_CHECK_DELAY_SECONDS = params.IntParam(
    "MAESTRO_EVENT_CHECK_DELAY_SECONDS",
    default=TIMEOUT_SECONDS_DEFAULT + decisions.CHECK_MARGIN_SECONDS,
)
# The audit trail keeps each weights version this many days (its TTL field; 0: no trail).
HISTORY_RETENTION_DAYS = params.IntParam(
    "MAESTRO_HISTORY_RETENTION_DAYS", default=decisions.HISTORY_RETENTION_DAYS_DEFAULT
)
# That check is queued only for a run still going this long after it began (a run that ends
# sooner, nearly every one, costs no task; one that dies sooner waits for the next rebuild).
EVENT_CHECK_AFTER_MS = params.IntParam(
    "MAESTRO_EVENT_CHECK_AFTER_MS", default=decisions.CHECK_AFTER_MS_DEFAULT
)
# Read when the function is declared (the SDK takes plain values for these two).
REGION = os.environ.get("MAESTRO_REGION", "us-central1")
ENFORCE_APP_CHECK = os.environ.get("MAESTRO_ENFORCE_APP_CHECK", "false").lower() == "true"

# The callable verifies ID tokens through the default Admin SDK app (no credentials needed for
# that, in production or under the Auth emulator).
initialize_app()

options.set_global_options(
    region=REGION,
    memory=MEMORY_MB,
    max_instances=MAX_INSTANCES,
    timeout_sec=TIMEOUT_SECONDS,
)


def settings() -> decisions.Settings:
    return decisions.Settings(
        window_max_age_seconds=WINDOW_MAX_AGE_SECONDS.value,
        cache_ttl_seconds=CACHE_TTL_SECONDS.value,
        max_run_trades=MAX_RUN_TRADES.value,
        handoff_after_conflicts=max(0, HANDOFF_AFTER_CONFLICTS.value) or None,
        handoff_bucket_seconds=max(1, HANDOFF_BUCKET_SECONDS.value),
        region=REGION,
        check_delay_seconds=max(0, EVENT_CHECK_DELAY_SECONDS.value) or None,
        check_after_ms=max(0, EVENT_CHECK_AFTER_MS.value),
        history_retention_days=max(0, HISTORY_RETENTION_DAYS.value),
        expensive_call_limits=(
            call_limits.Limit(EXPENSIVE_CALLS_PER_MINUTE.value, 60),
            call_limits.Limit(EXPENSIVE_CALLS_PER_HOUR.value, 3600),
        ),
    )


@handlers.guard_callable_body
@https_fn.on_call(enforce_app_check=ENFORCE_APP_CHECK)
def calculate_agent_weights(req: https_fn.CallableRequest[Any]) -> dict[str, Any]:
    return handlers.calculate_agent_weights(req, settings())


@firestore_fn.on_document_written(document="users/{uid}/tradeJournal/{tradeId}")
def recompute_on_trade_written(
    event: firestore_fn.Event[Change[DocumentSnapshot | None]],
) -> None:
    handlers.on_trade_written(event, settings())


@firestore_fn.on_document_written(document="users/{uid}/maestro/config")
def recompute_on_config_written(
    event: firestore_fn.Event[Change[DocumentSnapshot | None]],
) -> None:
    handlers.on_config_written(event, settings())


# Both queues retry a failed task the same way (task_queue.MAX_ATTEMPTS: its last attempt flags
# the weights stale).
QUEUE_RETRIES = options.RetryConfig(
    max_attempts=task_queue.MAX_ATTEMPTS,
    min_backoff_seconds=2,
    max_backoff_seconds=60,
    max_doublings=5,
)


# The queue's id is this function's name: letters and digits only (no "_").
@tasks_fn.on_task_dispatched(
    retry_config=QUEUE_RETRIES,
    # the queue waits DISPATCH_DEADLINE_SECONDS for an answer: the function may take as long
    timeout_sec=task_queue.DISPATCH_DEADLINE_SECONDS,
    # at most one queued rebuild per user and bucket; instances stay within max_instances
    rate_limits=options.RateLimits(max_concurrent_dispatches=10, max_dispatches_per_second=20),
)
def recomputequeue(req: https_fn.CallableRequest[Any]) -> None:
    handlers.on_queued(req, settings())


# A check of a trade event whose run was still going after MAESTRO_EVENT_CHECK_AFTER_MS
# (task_queue.py); its own queue, so that checks and rebuilds never wait for each other. A check
# reads two documents and mostly ends there.
@tasks_fn.on_task_dispatched(
    retry_config=QUEUE_RETRIES,
    timeout_sec=task_queue.DISPATCH_DEADLINE_SECONDS,
    rate_limits=options.RateLimits(max_concurrent_dispatches=10, max_dispatches_per_second=50),
)
def eventcheckqueue(req: https_fn.CallableRequest[Any]) -> None:
    handlers.on_check(req, settings())
