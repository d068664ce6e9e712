"""What a warm instance remembers between runs: for each user, the state it stored last (its
weights version, config and windows, as a read right after its write would find them).

Used for two things: a close applied to the windows without reading anything first (the
write's precondition, the weights document's update time, proves the remembered state current;
when another run wrote meanwhile, the write fails and the run reads afresh), and the skips that
hold of every later version too (decisions.SKIPS_FROM_MEMORY: a repeated event, a write already
reflected, a close within a second of that write). Any other decision taken on a remembered
state is taken again on a fresh read (service.py).
"""

from __future__ import annotations

import threading

from .documents import UserState


class LastStored:
    """The last state stored per user, for at most `max_trades` window trades in all (oldest
    user dropped first). Safe to share between request threads."""

    def __init__(self, max_trades: int) -> None:
        self._states: dict[str, tuple[UserState, int]] = {}
        self._trades = 0
        self._max_trades = max_trades
        self._lock = threading.Lock()

    def recall(self, uid: str) -> UserState | None:
        with self._lock:
            remembered = self._states.get(uid)
            return remembered[0] if remembered else None

    def remember(self, uid: str, state: UserState) -> None:
        size = sum(len(window.trades) for window in (state.windows or {}).values())
        with self._lock:
            self._drop(uid)
            if size > self._max_trades:
                return
            while self._states and self._trades + size > self._max_trades:
                self._drop(next(iter(self._states)))
            self._states[uid] = (state, size)
            self._trades += size

    def forget(self, uid: str, state: UserState) -> None:
        """Drop the user's state if it is still `state` (another thread may have stored anew)."""
        with self._lock:
            remembered = self._states.get(uid)
            if remembered is not None and remembered[0] is state:
                self._drop(uid)

    def clear(self) -> None:
        with self._lock:
            self._states.clear()
            self._trades = 0

    def _drop(self, uid: str) -> None:
        remembered = self._states.pop(uid, None)
        if remembered is not None:
            self._trades -= remembered[1]
