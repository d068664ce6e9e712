"""The only module that talks to Cloud Tasks: it hands a user's recompute to the task queue
function (main.recomputequeue) as one task per user and time bucket, so that a burst's
hand-offs coalesce into one queued rebuild (a second enqueue of the same name is refused by
the queue: "already scheduled"). docs/design/cloud-tasks.md has the facts behind each choice.

A bucket's task is scheduled one second after the bucket ends: every hand-off named for the
bucket happened before then, and each handed-off close committed before its hand-off, so the
task's read sees them all (decisions: QueuedRebuild).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any, Final

from .timestamps import NANOS_PER_SECOND, from_ns

# The queue's id is the function's name, and a queue id admits letters, digits and "-" only.
QUEUE_FUNCTION: Final = "recomputequeue"
DISPATCH_DEADLINE_SECONDS: Final = 120  # a rebuild at the read bound takes up to about 60 s
# The queue's attempts at a task (retried with backoff from 2 s, doubling, to 60 s: about 3
# minutes of waiting in all); after the last one fails, the document is flagged stale.
MAX_ATTEMPTS: Final = 8


@dataclass(frozen=True, slots=True)
class HandOff:
    task_name: str
    not_before_ns: int
    enqueued: bool  # False: a task of this user and bucket was already scheduled


def hand_off(uid: str, now_ns: int, bucket_seconds: int, region: str) -> HandOff:
    """Schedule the user's queued rebuild for the bucket `now_ns` falls in. Raises what the
    queue raises but "already scheduled"."""
    from firebase_admin import exceptions  # type: ignore[import-untyped]

    bucket_ns = bucket_seconds * NANOS_PER_SECOND
    bucket = now_ns // bucket_ns
    not_before_ns = (bucket + 1) * bucket_ns + NANOS_PER_SECOND
    # A hashed prefix, as Cloud Tasks advises (sequential names slow its dispatch down).
    name = f"{hashlib.sha256(uid.encode()).hexdigest()[:24]}-{bucket}"
    body = {"data": {"uid": uid, "not_before_ns": str(not_before_ns)}}
    try:
        _enqueue(region, body, name, not_before_ns)
    except (exceptions.AlreadyExistsError, exceptions.ConflictError):
        return HandOff(name, not_before_ns, enqueued=False)
    return HandOff(name, not_before_ns, enqueued=True)


def parse_task(data: Any) -> tuple[str, int]:
    """(uid, not_before_ns) of a task this module enqueued; ValueError for anything else."""
    if not isinstance(data, dict) or set(data) != {"uid", "not_before_ns"}:
        raise ValueError(f"not a queued rebuild: {data!r:.200}")
    uid, not_before = data["uid"], data["not_before_ns"]
    if not isinstance(uid, str) or not uid or not isinstance(not_before, str):
        raise ValueError(f"not a queued rebuild: {data!r:.200}")
    return uid, int(not_before)


# --- the RPC itself; tests inject faults here --------------------------------------------------


def _enqueue(region: str, body: dict[str, Any], name: str, not_before_ns: int) -> None:
    from firebase_admin import functions

    queue = functions.task_queue(f"locations/{region}/functions/{QUEUE_FUNCTION}")
    options = functions.TaskOptions(
        task_id=name,
        schedule_time=from_ns(not_before_ns),
        dispatch_deadline_seconds=DISPATCH_DEADLINE_SECONDS,
    )
    try:
        queue.enqueue(body, options)
    except ValueError as error:
        # firebase-admin 7.7.0 under the Cloud Tasks emulator queues a named task, then fails
        # to read the emulator's answer (docs/design/cloud-tasks.md, 0.4): it is queued.
        if not (os.environ.get("CLOUD_TASKS_EMULATOR_HOST") and "resource name" in str(error)):
            raise
