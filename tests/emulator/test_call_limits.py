"""Denial of wallet: a signed-in user's forced recomputes and config saves are limited per user,
across instances; beyond the limit the callable reads nothing of the journal and writes
nothing. Over the wire where it can be; in-process (tests/emulator/inprocess.py) where the
clock must move or a second process must share the limit."""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import main
from maestro import firestore_io
from maestro.call_limits import DEFAULT_LIMITS, Limit
from maestro.decisions import Settings

from .harness import Suite, debug_log_offset, function_log, seed_journal, trade, wait_until
from .inprocess import call_callable

AGENTS = ("WhaleFlowAgent", "SentimentAgent", "GammaScalper", "SectorRotation")
PER_MINUTE = DEFAULT_LIMITS[0].calls


def seed_user(suite: Suite, label: str) -> Any:
    user = suite.create_user(label)
    seed_journal(
        suite,
        user.uid,
        {
            f"{agent}-{i}": trade(agent, i * 4 + a, "5")
            for a, agent in enumerate(AGENTS)
            for i in (1, 2)
        },
    )
    return user


def test_a_flood_of_forced_calls_rebuilds_at_most_the_limit(suite: Suite) -> None:
    attacker, bystander = seed_user(suite, "attacker"), seed_user(suite, "bystander")
    offset = debug_log_offset()
    started = time.monotonic()
    # One after another, as fast as the emulator answers: it runs a Python function's requests
    # one at a time anyway, and drops connections when many wait. Calls truly in parallel, and
    # from separate processes, are the in-process tests below.
    answers = [suite.call({"force": True}, token=attacker.id_token) for _ in range(100)]
    elapsed = time.monotonic() - started
    assert elapsed < 60, f"the flood took {elapsed:.0f} s: longer than the minute it tests"
    statuses = Counter(status for status, _ in answers)
    assert statuses == {200: PER_MINUTE, 429: 100 - PER_MINUTE}, statuses
    for status, body in answers:
        if status == 429:
            error = body["error"]
            assert error["status"] == "RESOURCE_EXHAUSTED"
            assert "at most 6 a minute" in error["message"] and "retry in" in error["message"]
            assert 1 <= error["details"]["retry_after_seconds"] <= 60

    # What the functions logged: an instance's first refusal read one document (the user's
    # limits) and wrote none; the refusals after it, remembered, read nothing and log nothing.
    # An admitted call read its limits, its state and at most agents x lookback journal trades.
    def of_the_flood(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # the seed's late trigger runs log for this user too: only the callable's lines count
        return [
            e
            for e in entries
            if e.get("uid") == attacker.uid
            and (e.get("message") == "maestro call refused" or e.get("cause") == "callable")
        ]

    def complete(entries: list[dict[str, Any]]) -> bool:
        flood = of_the_flood(entries)
        return sum(e.get("cause") == "callable" for e in flood) >= PER_MINUTE and len(flood) > 6

    entries = of_the_flood(function_log(offset, attacker.uid, complete, timeout=30))
    refused = [e for e in entries if e.get("message") == "maestro call refused"]
    runs = [e for e in entries if e.get("message") == "maestro weights"]
    assert len(runs) == PER_MINUTE and 1 <= len(refused) < 100 - PER_MINUTE
    assert all((e["reads"], e["writes"]) == (1, 0) for e in refused)
    bound = 1 + 2 + len(AGENTS) * 100
    assert all(e["path"] == "query" and 3 < e["reads"] <= bound for e in runs), runs
    assert sum(e["reads"] for e in entries) <= PER_MINUTE * bound + len(refused)

    # Nobody else is affected: another user forces, and the attacker's own closes still apply.
    assert suite.call({"force": True}, token=bystander.id_token)[0] == 200
    write = suite.journal(attacker.uid).document("late").set(trade("GammaScalper", 90, "7"))
    suite.wait_reflected(attacker.uid, "late", write.update_time)
    assert suite.call({}, token=attacker.id_token)[0] == 200  # cached answers stay unlimited


def test_a_config_over_the_read_bound_is_refused_naming_the_fields(suite: Suite) -> None:
    user = seed_user(suite, "big")
    agents = [f"Agent{i:02d}" for i in range(64)]
    status, body = suite.call(
        {"config": {"agent_ids": agents, "lookback_trades": 1000, "min_floor_weight": "0.01"}},
        token=user.id_token,
    )
    assert (status, body["error"]["status"]) == (400, "INVALID_ARGUMENT")
    message = body["error"]["message"]
    assert message.startswith("config.lookback_trades:") and "agent_ids" in message
    assert "64000" in message and "32000" in message
    assert not suite.db.document(f"users/{user.uid}/maestro/config").get().exists
    # validation comes first: a refused config costs no limit
    assert not suite.db.document(f"maestroLimits/{user.uid}").get().exists


class Clock:
    def __init__(self) -> None:
        self.now_ns = time.time_ns()

    def __call__(self) -> int:
        return self.now_ns

    def advance(self, seconds: int) -> None:
        self.now_ns += seconds * 1_000_000_000


def test_limits_reset_when_their_window_passes_and_refusals_touch_nothing(
    suite: Suite, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = seed_user(suite, "clock")
    clock = Clock()
    limits = (Limit(2, 60), Limit(3, 3600))
    settings = Settings(expensive_call_limits=limits, clock_ns=clock, max_run_trades=1000)
    monkeypatch.setattr(main, "settings", lambda: settings)
    journal_queries: list[str] = []
    real_run_query = firestore_io._run_query

    def counted(query: Any, read_time: Any) -> Any:
        journal_queries.append("query")
        return real_run_query(query, read_time)

    monkeypatch.setattr(firestore_io, "_run_query", counted)

    def call(data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        journal_queries.clear()
        return call_callable(data, user.id_token)

    assert call({"force": True})[0] == 200
    assert call({"config": {"lookback_trades": 50}})[0] == 200  # a config save counts too
    weights = suite.weights_doc(user.uid)
    status, body = call({"config": {"lookback_trades": 20}})
    assert (status, body["error"]["status"]) == (429, "RESOURCE_EXHAUSTED")
    assert body["error"]["details"]["retry_after_seconds"] == 60
    assert journal_queries == []  # no journal read
    assert suite.weights_doc(user.uid) == weights  # nothing written: not the weights,
    stored = suite.db.document(f"users/{user.uid}/maestro/config").get().to_dict()
    assert stored is not None and stored["lookback_trades"] == 50  # nor the config

    clock.advance(59)
    assert call({"force": True})[1]["error"]["details"]["retry_after_seconds"] == 1
    clock.advance(1)  # the minute has passed: admitted again, up to the hour's 3
    assert call({"force": True})[0] == 200
    clock.advance(60)
    status, body = call({"force": True})
    assert status == 429 and "at most 3 an hour" in body["error"]["message"]
    assert body["error"]["details"]["retry_after_seconds"] == 3600 - 60 - 60
    clock.advance(3600 - 120)
    assert call({"force": True})[0] == 200
    assert call({})[0] == 200  # cached answers are never limited


def _force_repeatedly(token: str, times: int) -> list[int]:
    """In a process of its own, as another instance would (its own Firestore client, its own
    memory), `times` calls from 4 threads at once."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda _: call_callable({"force": True}, token)[0], range(times)))


def test_two_processes_calling_for_one_user_share_the_limit(suite: Suite) -> None:
    user = seed_user(suite, "shared")
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(2) as pool:
        per_process = pool.starmap(_force_repeatedly, [(user.id_token, 8), (user.id_token, 8)])
    statuses = Counter(status for statuses in per_process for status in statuses)
    assert statuses == {200: PER_MINUTE, 429: 16 - PER_MINUTE}, per_process
    stored = suite.db.document(f"maestroLimits/{user.uid}").get().to_dict()
    assert stored is not None and len(stored["admitted_ns"]) == PER_MINUTE
    wait_until(lambda: suite.weights_doc(user.uid) is not None)


def test_a_commit_whose_answer_is_lost_counts_once_and_limits_off_store_nothing(
    suite: Suite, monkeypatch: pytest.MonkeyPatch
) -> None:
    from google.api_core import exceptions

    user = seed_user(suite, "lost-answer")
    real_commit = firestore_io._commit
    lost: list[bool] = []

    def landed_but_lost(batch: Any) -> Any:
        results = real_commit(batch)
        if not lost:  # the first commit (the limits document's) lands; its answer does not
            lost.append(True)
            raise exceptions.DeadlineExceeded("answer lost")
        return results

    monkeypatch.setattr(firestore_io, "_commit", landed_but_lost)
    settings = Settings(expensive_call_limits=(Limit(1, 60),))
    monkeypatch.setattr(main, "settings", lambda: settings)
    status, body = call_callable({"force": True}, user.id_token)
    assert status == 200, body  # its own entry, found on the re-read, is not another call's
    stored = suite.db.document(f"maestroLimits/{user.uid}").get().to_dict()
    assert stored is not None and len(stored["admitted_ns"]) == 1

    other = seed_user(suite, "limits-off")
    off = Settings(expensive_call_limits=(Limit(0, 60), Limit(0, 3600)))
    monkeypatch.setattr(main, "settings", lambda: off)
    assert [call_callable({"force": True}, other.id_token)[0] for _ in range(8)] == [200] * 8
    assert not suite.db.document(f"maestroLimits/{other.uid}").get().exists
