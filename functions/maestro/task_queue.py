"""The only module that talks to Cloud Tasks. Two queues (each a task queue function in
main.py, whose name is the queue's id):

- recomputequeue: a user's recompute handed off by trigger runs, as one task per user and time
  bucket, so that a burst's hand-offs coalesce into one queued rebuild (a second enqueue of the
  same name is refused by the queue: "already scheduled"). A bucket's task is scheduled one
  second after the bucket ends: every hand-off named for the bucket happened before then, and
  each handed-off close committed before its hand-off, so the task's read sees them all
  (decisions: QueuedRebuild).
- eventcheckqueue: a check that a trade event is reflected (decisions: EventCheck), queued for a
  run still going after MAESTRO_EVENT_CHECK_AFTER_MS and scheduled after that run must have
  ended (the function's timeout, plus a margin). A run that crashed or timed out is repaired
  by it (the check hands off to recomputequeue); Python Firestore triggers cannot retry.
  Its own queue, so that checks never wait behind rebuilds or hold them up.

docs/design/cloud-tasks.md has the facts behind each choice.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any, Final

from .events import EventCheck
from .timestamps import NANOS_PER_SECOND, from_ns

# A queue's id is its function's name, and a queue id admits letters, digits and "-" only.
QUEUE_FUNCTION: Final = "recomputequeue"
CHECK_FUNCTION: Final = "eventcheckqueue"
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
        _enqueue(region, QUEUE_FUNCTION, body, name, not_before_ns)
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


def schedule_check(uid: str, check: EventCheck, delay_seconds: int, region: str) -> int:
    """Schedule the event's check `delay_seconds` after its run began; its not-before time.
    Unnamed: a named task costs the queue a look-up, and a duplicate delivery's second check
    only reads two documents."""
    not_before_ns = check.started_ns + delay_seconds * NANOS_PER_SECOND
    data = {
        "uid": uid,
        "trade_id": check.trade_id,
        "event_id": check.event_id,
        "commit_ns": None if check.commit_ns is None else str(check.commit_ns),
        "agent_ids": sorted(check.agent_ids),
        "started_ns": str(check.started_ns),
    }
    _enqueue(region, CHECK_FUNCTION, {"data": data}, None, not_before_ns)
    return not_before_ns


def parse_check(data: Any) -> tuple[str, EventCheck]:
    """(uid, check) of a check this module scheduled; ValueError for anything else."""
    keys = {"uid", "trade_id", "event_id", "commit_ns", "agent_ids", "started_ns"}
    if not isinstance(data, dict) or set(data) != keys:
        raise ValueError(f"not an event check: {data!r:.200}")
    uid, trade_id, event_id = data["uid"], data["trade_id"], data["event_id"]
    commit, agents, started = data["commit_ns"], data["agent_ids"], data["started_ns"]
    if (
        not all(isinstance(text, str) and text for text in (uid, trade_id, event_id))
        or not (commit is None or (isinstance(commit, str) and commit.isdigit()))
        or not isinstance(started, str)
        or not started.isdigit()
        or not isinstance(agents, list)
        or not all(isinstance(agent, str) for agent in agents)
    ):
        raise ValueError(f"not an event check: {data!r:.200}")
    commit_ns = None if commit is None else int(commit)
    return uid, EventCheck(trade_id, event_id, commit_ns, frozenset(agents), int(started))


# --- the RPC itself; tests inject faults here --------------------------------------------------


def _enqueue(
    region: str, function: str, body: dict[str, Any], name: str | None, not_before_ns: int
) -> None:
    from firebase_admin import functions

    queue = functions.task_queue(f"locations/{region}/functions/{function}")
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
