"""The trigger's watchdog (handlers._watch_run): a run that ends within check_after_ms queues
no event check; one still going then queues exactly one, scheduled from the run's start."""

from __future__ import annotations

import time
from typing import Any

import pytest

from maestro import handlers, task_queue
from maestro.decisions import Settings
from maestro.events import TradeEvent, classify_trade_write

from .helpers import closed


def _close() -> TradeEvent:
    event = classify_trade_write("t1", "e1", None, closed("A", 1, "2").data, 5)
    assert isinstance(event, TradeEvent)
    return event


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = []

    def schedule(uid: str, check: Any, delay: int, region: str) -> int:
        calls.append((uid, check, delay, region))
        return 0

    monkeypatch.setattr(task_queue, "schedule_check", schedule)
    return calls


def test_a_run_that_ends_in_time_queues_no_check(queued: list[tuple[Any, ...]]) -> None:
    watch = handlers._watch_run("u1", _close(), Settings(check_delay_seconds=70))
    handlers._settle_check("u1", watch)
    time.sleep(0.05)
    assert queued == []


def test_a_run_still_going_queues_one_check(queued: list[tuple[Any, ...]]) -> None:
    settings = Settings(check_delay_seconds=70, check_after_ms=20)
    before = time.time_ns()
    watch = handlers._watch_run("u1", _close(), settings)
    time.sleep(0.1)  # the run is still going at 20 ms
    handlers._settle_check("u1", watch)
    ((uid, check, delay, region),) = queued
    assert (uid, delay, region) == ("u1", 70, "us-central1")
    assert check.trade_id == "t1" and check.event_id == "e1" and check.commit_ns == 5
    assert before <= check.started_ns <= before + 20_000_000  # from the run's start


def test_checks_off_watch_nothing(queued: list[tuple[Any, ...]]) -> None:
    assert handlers._watch_run("u1", _close(), Settings()) is None
    handlers._settle_check("u1", None)
    assert queued == []
