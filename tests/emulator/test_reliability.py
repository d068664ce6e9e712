"""Reliability and security against the emulator suite: hostile journal documents, hostile
callers, faults at the Firestore access layer, out-of-order runs, and recovery after a failed
trigger run. Figures and guarantees: docs/reliability.md."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from typing import Any

import pytest
from firebase_functions import https_fn
from google.api_core import exceptions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maestro import firestore_io, service
from maestro.config import FIELD_NAMES, MaestroConfig
from maestro.events import CallableRequest

from .harness import Suite, seed_journal, trade, wait_until
from .inprocess import Faults, b64, call_callable, run_trigger


def seed_two_closes(suite: Suite, uid: str) -> dict[str, Any]:
    """Two closed WhaleFlowAgent trades, and the weights the trigger settled on for them."""
    settled = seed_journal(
        suite, uid, {"w1": trade("WhaleFlowAgent", 1, "3"), "w2": trade("WhaleFlowAgent", 2, "5")}
    )
    assert settled is not None
    return settled


def maestro_docs(suite: Suite, uid: str) -> list[str]:
    return [snap.id for snap in suite.db.collection(f"users/{uid}/maestro").stream()]


def window_docs(suite: Suite, uid: str) -> dict[str, dict[str, Any]]:
    return {
        snap.id: snap.to_dict() or {}
        for snap in suite.db.collection(f"users/{uid}/maestro").stream()
        if snap.id.startswith("windows")
    }


# --- 3. malformed journal documents ---------------------------------------------------------


def test_malformed_documents_are_counted_and_the_valid_trades_used(suite: Suite) -> None:
    user = suite.create_user()
    good = {
        f"ok{i}": trade("WhaleFlowAgent", i, pnl) for i, pnl in enumerate(["4", "-1", "6", "2"])
    }
    good |= {f"s{i}": trade("SentimentAgent", 10 + i, pnl) for i, pnl in enumerate(["1", "3"])}
    hostile: dict[str, dict[str, Any]] = {
        "nan": trade("GammaScalper", 20, "0") | {"realized_pnl": float("nan")},
        "inf": trade("GammaScalper", 21, "0") | {"realized_pnl": float("inf")},
        "huge": trade("GammaScalper", 22, "1e999999"),
        # beyond the engine context's exponents: once a decimal.Overflow that failed the run
        "huger": trade("GammaScalper", 34, "1e999999999"),
        "empty": trade("GammaScalper", 23, ""),
        "bool": trade("GammaScalper", 24, "1") | {"entry_price": True},
        "map": trade("GammaScalper", 25, "1") | {"quantity": {"value": "2"}},
        "list": trade("GammaScalper", 26, "1") | {"quantity": [2]},
        "missing": {k: v for k, v in trade("GammaScalper", 27, "1").items() if k != "entry_price"},
        "zero_capital": trade("GammaScalper", 28, "1", quantity="0"),
        "negative_capital": trade("GammaScalper", 29, "1", price="-5"),
        "closed_at_string": trade("SectorRotation", 30, "1")
        | {"closed_at": "2026-11-02T14:30:00Z"},
        "closed_at_number": trade("SectorRotation", 31, "1") | {"closed_at": 1_762_093_800},
        "long_agent": trade("X" * 10_000, 32, "1"),
        # ~1 MiB: Firestore's limit is 1,048,576 bytes per document; this one is a valid trade.
        "near_limit": trade("SentimentAgent", 33, "2") | {"notes": "n" * 1_040_000},
    }
    settled = seed_journal(suite, user.uid, good | hostile)
    assert settled is not None

    agents = settled["agents"]
    assert agents["GammaScalper"]["trades_used"] == 0
    assert agents["GammaScalper"]["rejection_reasons"] == {
        "realized_pnl_invalid": 5,  # NaN, Infinity, 1e999999, 1e999999999, ''
        "entry_price_invalid": 1,  # a boolean
        "quantity_invalid": 2,  # a map, a list
        "entry_price_missing": 1,
        "non_positive_capital": 2,
    }
    assert agents["SectorRotation"]["rejection_reasons"] == {"closed_at_invalid": 2}
    assert agents["SentimentAgent"]["trades_used"] == 3  # including the ~1 MiB document
    assert agents["WhaleFlowAgent"]["trades_used"] == 4
    assert settled["weights"] == suite.offline_weights(user.uid)
    assert settled["stale"] is False
    # The callable on the same journal agrees and does not loop or fail.
    status, body = suite.call({"force": True}, token=user.id_token)
    assert status == 200
    assert body["result"]["weights"] == settled["weights"]


# --- 4. hostile callers -------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
invalid_payloads = st.one_of(
    # not an object
    st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.lists(json_values, max_size=3),
    # an object with a field the callable does not know
    st.dictionaries(
        st.text(max_size=12).filter(lambda k: k not in ("config", "force")),
        json_values,
        min_size=1,
        max_size=3,
    ),
    # force that is not a boolean
    st.builds(lambda v: {"force": v}, json_values.filter(lambda v: not isinstance(v, bool))),
    # config of the wrong shape or with a wrong value
    st.builds(
        lambda v: {"config": v}, json_values.filter(lambda v: not isinstance(v, dict) or bool(v))
    ),
    st.builds(
        lambda field, v: {"config": {field: v}},
        st.sampled_from(FIELD_NAMES),  # the seed's options and engine v2's
        st.sampled_from([None, "", "x", -5, 10**6, 2.5, [], {}, [""], "NaN", "Infinity"]),
    ),
)


def _valid(payload: Any) -> bool:
    # A generated payload can be valid by chance (e.g. {"config": {"lookback_trades": 2.0}}).
    try:
        from maestro.handlers import parse_callable_data

        parse_callable_data(payload)
    except Exception:
        return False
    return True


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=invalid_payloads)
def test_fuzzed_payloads_get_invalid_argument_and_write_nothing(suite: Suite, payload: Any) -> None:
    user = _fuzz_user(suite)
    if _valid(payload):
        return
    status, body = suite.call(payload, token=user.id_token)
    assert status == 400, body
    assert body["error"]["status"] == "INVALID_ARGUMENT"
    assert "Traceback" not in json.dumps(body)
    assert maestro_docs(suite, user.uid) == []


_FUZZ_USER: dict[str, Any] = {}


def _fuzz_user(suite: Suite) -> Any:
    # One user for all examples (hypothesis runs them inside one test call).
    if "user" not in _FUZZ_USER or _FUZZ_USER["user"] is None:
        _FUZZ_USER["user"] = suite.create_user("fuzz")
    return _FUZZ_USER["user"]


@pytest.fixture(autouse=True)
def _reset_fuzz_user() -> None:
    _FUZZ_USER.clear()


def unsigned_token(claims: dict[str, Any]) -> str:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64(json.dumps(claims).encode())}."


def test_missing_expired_and_forged_tokens_are_unauthenticated(suite: Suite) -> None:
    user = suite.create_user()
    now = int(time.time())
    valid_claims = {
        "iss": f"https://securetoken.google.com/{suite.project}",
        "aud": suite.project,
        "sub": user.uid,
        "user_id": user.uid,
        "iat": now - 60,
        "auth_time": now - 60,
        "exp": now + 3600,
    }
    bad_tokens = {
        "missing": None,
        "garbage": "garbage",
        "three garbage parts": "a.b.c",
        "expired": unsigned_token(valid_claims | {"iat": now - 7200, "exp": now - 3600}),
        "no expiry": unsigned_token({k: v for k, v in valid_claims.items() if k != "exp"}),
        "other project": unsigned_token(valid_claims | {"aud": "someone-elses-project"}),
        "other issuer": unsigned_token(
            valid_claims | {"iss": "https://evil.example.com/demo-maestro"}
        ),
        "no subject": unsigned_token({k: v for k, v in valid_claims.items() if k != "sub"}),
        "custom token": unsigned_token(
            valid_claims
            | {
                "aud": "https://identitytoolkit.googleapis.com/google.identity.identitytoolkit.v1.IdentityToolkit"
            }
        ),
    }
    for label, token in bad_tokens.items():
        status, body = suite.call({"force": True}, token=token)
        assert (status, body["error"]["status"]) == (401, "UNAUTHENTICATED"), label
        assert "Traceback" not in json.dumps(body)
    assert maestro_docs(suite, user.uid) == []
    # the control: the real token works
    assert suite.call({}, token=user.id_token)[0] == 200


def test_malformed_and_oversized_bodies_are_invalid_argument(suite: Suite) -> None:
    user = suite.create_user()
    for raw in (b"{", b'"data"', b"[1, 2]", b"null", b'{"data": {}, "extra": 1}', b"{}"):
        status, body = suite.call(None, token=user.id_token, raw_body=raw)
        assert (status, body["error"]["status"]) == (400, "INVALID_ARGUMENT"), raw
    status, body = suite.call({"config": {"agent_ids": ["A" * 100] * 200}}, token=user.id_token)
    assert (status, body["error"]["status"]) == (400, "INVALID_ARGUMENT")
    assert "larger than" in body["error"]["message"]
    status, body = suite.call("x" * 2_000_000, token=user.id_token)
    assert (status, body["error"]["status"]) == (400, "INVALID_ARGUMENT")
    assert maestro_docs(suite, user.uid) == []


# --- 6. faults at the Firestore access layer -----------------------------------------------------

FAULTS = [
    (exceptions.ServiceUnavailable("injected"), 503, "UNAVAILABLE"),
    (exceptions.DeadlineExceeded("injected"), 504, "DEADLINE_EXCEEDED"),
    (exceptions.Aborted("injected"), 409, "ABORTED"),
    (exceptions.PermissionDenied("injected"), 500, "INTERNAL"),
]


@pytest.mark.parametrize("where", ["_get_all", "_run_query", "_commit"])
@pytest.mark.parametrize(("error", "http_status", "code"), FAULTS, ids=[f[2] for f in FAULTS])
def test_persistent_faults_reach_the_caller_as_the_matching_error(
    suite: Suite,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    error: Exception,
    http_status: int,
    code: str,
) -> None:
    user = suite.create_user()
    before = seed_two_closes(suite, user.uid)
    windows_before = window_docs(suite, user.uid)
    faults = Faults(monkeypatch, where, error, times=None)

    status, body = call_callable({"force": True}, user.id_token)

    assert (status, body["error"]["status"]) == (http_status, code)
    assert "injected" not in body["error"]["message"]  # internals never reach the caller
    # Bounded retries: each RPC is tried RETRY_ATTEMPTS times on a transient error, once on any
    # other; the journal read is one query per agent (4), running concurrently.
    transient = code in ("UNAVAILABLE", "DEADLINE_EXCEEDED", "ABORTED")
    per_rpc = firestore_io.RETRY_ATTEMPTS if transient else 1
    rpcs = len(MaestroConfig().agent_ids) if where == "_run_query" else 1
    assert per_rpc <= faults.calls <= per_rpc * rpcs
    assert suite.weights_doc(user.uid) == before  # nothing partial, nothing mixed
    assert window_docs(suite, user.uid) == windows_before

    monkeypatch.undo()
    status, body = call_callable({"force": True}, user.id_token)  # the next call recovers
    assert status == 200
    assert body["result"]["journal_as_of"] > before["journal_as_of"].isoformat()


def test_a_transient_fault_is_retried_and_the_call_succeeds(
    suite: Suite, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = suite.create_user()
    seed_two_closes(suite, user.uid)
    faults = Faults(monkeypatch, "_run_query", exceptions.ServiceUnavailable("blip"), times=2)
    status, body = call_callable({"force": True}, user.id_token)
    assert status == 200
    assert faults.calls >= 3
    assert body["result"]["weights"] == suite.offline_weights(user.uid)


# --- 2. ordering: an older run that finishes late never wins -------------------------------------


def test_an_older_recompute_finishing_last_does_not_overwrite_a_newer_one(
    suite: Suite, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = suite.create_user()
    seed_two_closes(suite, user.uid)
    has_read, release = threading.Event(), threading.Event()
    original = firestore_io.query_agent_journals

    def slow_read(*args: Any, **kwargs: Any) -> Any:
        entries = original(*args, **kwargs)
        has_read.set()
        assert release.wait(30)  # the injected delay: held until the newer run has written
        return entries

    monkeypatch.setattr(firestore_io, "query_agent_journals", slow_read)
    outcome: dict[str, service.RunOutcome] = {}
    older = threading.Thread(
        target=lambda: outcome.setdefault(
            "older", service.recompute(suite.db, user.uid, CallableRequest(force=True))
        )
    )
    older.start()
    assert has_read.wait(30)

    # Meanwhile a trade closes and the emulator's trigger (another process) stores newer weights.
    written = suite.journal(user.uid).document("w3").set(trade("WhaleFlowAgent", 3, "-9"))
    newer = suite.wait_reflected(user.uid, "w3", written.update_time)
    release.set()
    older.join(30)

    # The older run's guarded write failed; it read again and recomputed from the newer state
    # instead of storing weights without w3.
    assert outcome["older"].status == "written"
    assert outcome["older"].timings_ms["conflicts"] == 1
    final = suite.weights_doc(user.uid)
    assert final is not None and final["journal_as_of"] > newer["computed_at"]
    assert final["weights"] == suite.offline_weights(user.uid)
    assert final["agents"]["WhaleFlowAgent"]["trades_used"] == 3


# --- 8. recovery after a failed trigger run -----------------------------------------------------


def test_a_failed_trigger_run_is_flagged_and_the_callable_recovers(
    suite: Suite, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = suite.create_user()
    seed_two_closes(suite, user.uid)
    suite.call({}, token=user.id_token)  # fill the cache
    after = suite.write_unseen(user.uid, "w3", trade("WhaleFlowAgent", 3, "-9"))  # runs here
    # The close goes to its agent's window (no journal query): the atomic write is what fails
    # (a second after the last write, so that this instance's run reaches its write).
    suite.past_the_write_gate(user.uid)
    Faults(monkeypatch, "_commit", exceptions.ServiceUnavailable("down"), times=None)
    with pytest.raises(https_fn.HttpsError) as failed:
        run_trigger(suite.project, user.uid, "w3", None, after)
    assert failed.value.code is https_fn.FunctionsErrorCode.UNAVAILABLE
    monkeypatch.undo()

    flagged = suite.weights_doc(user.uid)
    assert flagged is not None and flagged["stale"] is True
    assert (
        "trade w3" in flagged["stale_reason"] and "UNAVAILABLE" in flagged["stale_reason"].upper()
    )
    assert flagged["journal_as_of"] < after.update_time  # the document shows what it covers

    status, body = suite.call({}, token=user.id_token)  # no force: stale is never served
    assert status == 200
    result = body["result"]
    assert result["stale"] is False and "stale_reason" not in result
    assert result["agents"]["WhaleFlowAgent"]["trades_used"] == 3
    stored = suite.weights_doc(user.uid)
    assert stored is not None and "stale_reason" not in stored
    assert result["weights"] == suite.offline_weights(user.uid)


def test_config_from_the_callable_applies_to_the_next_trigger_run(suite: Suite) -> None:
    user = suite.create_user()
    seed_two_closes(suite, user.uid)
    # Triggers off for the config write: the config trigger is not what this test is about.
    suite.background_triggers(False)
    try:
        status, _ = suite.call({"config": {"enforce_performance": True}}, token=user.id_token)
    finally:
        suite.background_triggers(True)
    assert status == 200
    written = suite.journal(user.uid).document("w3").set(trade("WhaleFlowAgent", 3, "4"))
    document = suite.wait_reflected(user.uid, "w3", written.update_time)
    assert document["config"]["enforce_performance"] is True
    assert document["weights"]["GammaScalper"] == "0"
    assert document["weights"] == suite.offline_weights(
        user.uid, MaestroConfig(enforce_performance=True)
    )
    assert wait_until(lambda: suite.weights_doc(user.uid), 5)["cause"]["trade_id"] == "w3"
    assert dt.datetime.now(dt.UTC) - document["computed_at"] < dt.timedelta(minutes=5)
