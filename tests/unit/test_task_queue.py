"""The hand-off to the task queue: one task name per user and bucket (a burst's hand-offs
coalesce), scheduled after its bucket ends, "already scheduled" taken as done; the task's body
read back strictly."""

from __future__ import annotations

from typing import Any

import pytest
from firebase_admin import exceptions

from maestro import task_queue
from maestro.events import EventCheck

S = 1_000_000_000


def test_hand_offs_within_a_bucket_share_one_task_scheduled_after_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scheduled: dict[str, tuple[dict[str, Any], int]] = {}

    def enqueue(
        region: str, function: str, body: dict[str, Any], name: str | None, not_before_ns: int
    ) -> None:
        assert (region, function) == ("europe-west1", "recomputequeue") and name is not None
        if name in scheduled:
            raise exceptions.ConflictError("task exists", cause=None, http_response=None)
        scheduled[name] = (body, not_before_ns)

    monkeypatch.setattr(task_queue, "_enqueue", enqueue)
    first = task_queue.hand_off("u1", 100 * S + 1, 5, "europe-west1")
    again = task_queue.hand_off("u1", 104 * S, 5, "europe-west1")
    other = task_queue.hand_off("u2", 104 * S, 5, "europe-west1")
    later = task_queue.hand_off("u1", 105 * S, 5, "europe-west1")
    assert first.enqueued and not again.enqueued and other.enqueued and later.enqueued
    assert first.task_name == again.task_name != other.task_name != later.task_name
    assert first.not_before_ns == 106 * S  # the bucket [100 s, 105 s) ends, then 1 s of margin
    assert later.not_before_ns == 111 * S
    body, _ = scheduled[first.task_name]
    assert task_queue.parse_task(body["data"]) == ("u1", 106 * S)
    assert "u1" not in first.task_name  # a hashed prefix, as Cloud Tasks advises


def test_other_queue_errors_are_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def enqueue(*_: Any) -> None:
        raise exceptions.UnavailableError("down", cause=None, http_response=None)

    monkeypatch.setattr(task_queue, "_enqueue", enqueue)
    with pytest.raises(exceptions.UnavailableError):
        task_queue.hand_off("u1", 0, 5, "us-central1")


@pytest.mark.parametrize(
    "data",
    [None, [], {"uid": "u"}, {"uid": "", "not_before_ns": "1"}, {"uid": "u", "not_before_ns": 1},
     {"uid": "u", "not_before_ns": "x"}, {"uid": "u", "not_before_ns": "1", "more": 1}],
)  # fmt: skip
def test_a_task_that_is_not_ours_is_refused(data: Any) -> None:
    with pytest.raises(ValueError):
        task_queue.parse_task(data)


def test_an_event_check_is_scheduled_after_its_delay_and_read_back_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[tuple[str, dict[str, Any], str | None, int]] = []

    def enqueue(
        region: str, function: str, body: dict[str, Any], name: str | None, not_before_ns: int
    ) -> None:
        sent.append((function, body, name, not_before_ns))

    monkeypatch.setattr(task_queue, "_enqueue", enqueue)
    close = EventCheck("t1", "e1", 7 * S + 5, frozenset({"B", "A"}), 9 * S)
    delete = EventCheck("t2", "e2", None, frozenset(), 10 * S)
    assert task_queue.schedule_check("u1", close, 70, "us-central1") == 79 * S
    task_queue.schedule_check("u1", delete, 70, "us-central1")
    (function, body, name, not_before), (_, delete_body, _, _) = sent
    assert (function, name, not_before) == ("eventcheckqueue", None, 79 * S)  # unnamed
    assert body["data"]["agent_ids"] == ["A", "B"]
    assert task_queue.parse_check(body["data"]) == ("u1", close)
    assert task_queue.parse_check(delete_body["data"]) == ("u1", delete)


GOOD_CHECK: dict[str, Any] = {
    "uid": "u", "trade_id": "t", "event_id": "e", "commit_ns": "1", "agent_ids": ["A"],
    "started_ns": "2",
}  # fmt: skip


@pytest.mark.parametrize(
    "changes",
    [{"uid": ""}, {"trade_id": 1}, {"commit_ns": 1}, {"commit_ns": "-1"}, {"started_ns": None},
     {"agent_ids": "A"}, {"agent_ids": [1]}, {"more": 1}],
)  # fmt: skip
def test_a_check_that_is_not_ours_is_refused(changes: dict[str, Any]) -> None:
    assert task_queue.parse_check(GOOD_CHECK)[0] == "u"
    with pytest.raises(ValueError):
        task_queue.parse_check({**GOOD_CHECK, **changes})
