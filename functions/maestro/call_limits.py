"""Per-user limits on the callable's expensive requests (a forced recompute, a config save:
each rebuilds from the journal, 2 + agents x lookback reads). Pure: firestore_io runs `admit`
inside a transaction on the user's admin-only limits document, so that every instance shares
one count.

The rule is a sliding log, exact for every window: a request is admitted when, for each limit,
fewer than `calls` admitted requests lie within the last `window_seconds`. (A fixed window or a
token bucket would let twice the limit through around a window's edge.) The log holds the
admitted requests' times within the longest window: at most the largest limit's `calls`.

A refusal stays true until its retry time whatever other instances do (the log only gains
admitted calls before then), so an instance remembers it (`RecentRefusals`) and refuses the
user's next calls until then without reading anything: a flood of refused calls costs
Firestore nothing on a warm instance.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from .timestamps import NANOS_PER_SECOND

CALLS_PER_MINUTE_DEFAULT: Final = 6
CALLS_PER_HOUR_DEFAULT: Final = 60


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `calls` admitted requests in any `window_seconds`; calls <= 0 turns it off."""

    calls: int
    window_seconds: int

    def describe(self) -> str:
        window = {60: "a minute", 3600: "an hour", 86_400: "a day"}.get(
            self.window_seconds, f"per {self.window_seconds} s"
        )
        return f"{self.calls} {window}"


DEFAULT_LIMITS: Final = (
    Limit(CALLS_PER_MINUTE_DEFAULT, 60),
    Limit(CALLS_PER_HOUR_DEFAULT, 3600),
)


@dataclass(frozen=True, slots=True)
class Admitted:
    """The log to store (this request's time included, oldest first), and when it may be
    deleted (Firestore's TTL policy on the document's expiry field): it holds nothing then."""

    log_ns: tuple[int, ...]
    expires_at_ns: int


@dataclass(frozen=True, slots=True)
class Refused:
    limit: Limit
    retry_after_seconds: int  # whole seconds, rounded up: asking again then is admitted

    def message(self) -> str:
        return (
            f"at most {self.limit.describe()} forced recomputes or config saves per user: "
            f"retry in {self.retry_after_seconds} s (cached weights stay available: call "
            "without force)"
        )


def any_active(limits: Sequence[Limit]) -> bool:
    """Whether any limit is on (calls > 0): with none, nothing is counted or stored."""
    return any(limit.calls > 0 for limit in limits)


def admit(log_ns: Sequence[int], now_ns: int, limits: Sequence[Limit]) -> Admitted | Refused:
    """Admit a request at `now_ns` given the times of the admitted ones (any order; times after
    `now_ns`, from an instance whose clock runs ahead, count as recent)."""
    active = [limit for limit in limits if limit.calls > 0]
    if not active:
        return Admitted((), now_ns)
    longest_ns = max(limit.window_seconds for limit in active) * NANOS_PER_SECOND
    recent = sorted(t for t in log_ns if t > now_ns - longest_ns)
    refusals = [
        refused for limit in active if (refused := _refusal(recent, now_ns, limit)) is not None
    ]
    if refusals:
        return max(refusals, key=lambda refused: refused.retry_after_seconds)
    kept = (*recent, now_ns)[-max(limit.calls for limit in active) :]
    return recorded(kept, limits)


def recorded(log_ns: Sequence[int], limits: Sequence[Limit]) -> Admitted:
    """The log as it stands, admitted: it holds the request already (a stored log)."""
    longest = max(limit.window_seconds for limit in limits if limit.calls > 0)
    return Admitted(tuple(log_ns), max(log_ns) + longest * NANOS_PER_SECOND)


def _refusal(recent: Sequence[int], now_ns: int, limit: Limit) -> Refused | None:
    window_ns = limit.window_seconds * NANOS_PER_SECOND
    inside = [t for t in recent if t > now_ns - window_ns]
    if len(inside) < limit.calls:
        return None
    # Admitted again once all but calls - 1 of these have left the window.
    leaves_at = inside[len(inside) - limit.calls] + window_ns
    wait_ns = leaves_at - now_ns
    return Refused(limit, max(1, -(-wait_ns // NANOS_PER_SECOND)))


class RecentRefusals:
    """Per instance: the users refused until a known time (the most recent `max_users`)."""

    def __init__(self, max_users: int = 10_000) -> None:
        self._until: OrderedDict[str, tuple[int, Limit]] = OrderedDict()
        self._max_users = max_users
        self._lock = threading.Lock()

    def recall(self, uid: str, now_ns: int) -> Refused | None:
        with self._lock:
            known = self._until.get(uid)
            if known is None:
                return None
            until_ns, limit = known
            if now_ns >= until_ns:
                del self._until[uid]
                return None
        return Refused(limit, max(1, -(-(until_ns - now_ns) // NANOS_PER_SECOND)))

    def clear(self) -> None:
        """Forget every refusal, as a new instance starts."""
        with self._lock:
            self._until.clear()

    def remember(self, uid: str, now_ns: int, refused: Refused) -> None:
        with self._lock:
            self._until[uid] = (
                now_ns + refused.retry_after_seconds * NANOS_PER_SECOND,
                refused.limit,
            )
            self._until.move_to_end(uid)
            while len(self._until) > self._max_users:
                self._until.popitem(last=False)
