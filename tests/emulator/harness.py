"""Talking to the emulator suite as the platform and its users do: Auth REST for users and ID
tokens, the callable over HTTP, Firestore REST with ID tokens (rules apply), and an Admin client
for the platform's server writes (rules do not apply). Nothing here mocks Firestore."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import requests
from google.cloud import firestore
from google.cloud.firestore_v1 import _helpers
from google.cloud.firestore_v1.types import Document as FirestoreDocument
from google.events.cloud.firestore import Document as EventDocument
from google.events.cloud.firestore import DocumentEventData

from maestro.config import MaestroConfig
from maestro.documents import reflects_write as reflects
from maestro.journal import JournalEntry
from maestro.weighting import compute_weights

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
# The emulator suite's debug log: it gets the functions' structured log lines.
DEBUG_LOG = ROOT / "firebase-debug.log"
_FIREBASE_JSON = json.loads((ROOT / "firebase.json").read_text())["emulators"]
REGION = "us-central1"
CALLABLE = "calculate_agent_weights"
TRIGGER = "recompute_on_trade_written"


def require_emulators() -> str:
    """Fail (never skip) when the suite is not running: these tests must run in CI."""
    missing = [
        name
        for name in ("FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST", "GCLOUD_PROJECT")
        if not os.environ.get(name)
    ]
    if missing:
        raise RuntimeError(
            f"emulator tests need {', '.join(missing)}; run them through "
            '`scripts/emulators exec "functions/venv/bin/python -m pytest tests/emulator"` '
            "(make test does)"
        )
    return os.environ["GCLOUD_PROJECT"]


def wait_until(
    predicate: Callable[[], T | None], timeout: float = 20.0, interval: float = 0.05
) -> T:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        time.sleep(interval)


@dataclass(frozen=True)
class User:
    uid: str
    id_token: str
    email: str


class Suite:
    """One running emulator suite."""

    def __init__(self) -> None:
        self.project = require_emulators()
        self.firestore_host = os.environ["FIRESTORE_EMULATOR_HOST"]
        self.auth_host = os.environ["FIREBASE_AUTH_EMULATOR_HOST"]
        functions = _FIREBASE_JSON["functions"]
        hub = _FIREBASE_JSON["hub"]
        self.functions_url = f"http://{functions['host']}:{functions['port']}"
        self.hub_url = f"http://{hub['host']}:{hub['port']}"
        self.http = requests.Session()
        self.db = firestore.Client(project=self.project)  # Admin-like: rules do not apply

    # --- state ------------------------------------------------------------------------------
    def clear(self) -> None:
        base = f"http://{self.firestore_host}/emulator/v1/projects/{self.project}"
        self.http.delete(f"{base}/databases/(default)/documents", timeout=30).raise_for_status()
        auth = f"http://{self.auth_host}/emulator/v1/projects/{self.project}/accounts"
        self.http.delete(auth, timeout=30).raise_for_status()

    def background_triggers(self, enabled: bool) -> None:
        path = "enableBackgroundTriggers" if enabled else "disableBackgroundTriggers"
        self.http.put(f"{self.hub_url}/functions/{path}", timeout=30).raise_for_status()

    def write_unseen(
        self, uid: str, trade_id: str, data: dict[str, Any]
    ) -> firestore.DocumentSnapshot:
        """A journal write the emulator's trigger never sees (background triggers off while it
        commits): the test runs its trigger itself, with run_trigger or in an instance of its
        own. Returns the written snapshot, for the event."""
        reference = self.journal(uid).document(trade_id)
        self.background_triggers(False)
        try:
            reference.set(data)
        finally:
            self.background_triggers(True)
        return reference.get()

    # --- auth -------------------------------------------------------------------------------
    def create_user(self, label: str = "user") -> User:
        email = f"{label}-{uuid.uuid4().hex[:10]}@maestro.test"
        url = f"http://{self.auth_host}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=demo"
        response = self.http.post(
            url,
            json={"email": email, "password": "correct-horse-9", "returnSecureToken": True},
            timeout=30,
        )
        response.raise_for_status()
        body = response.json()
        return User(uid=body["localId"], id_token=body["idToken"], email=email)

    # --- the callable, over HTTP as the JS SDK sends it --------------------------------------
    def call(
        self,
        data: Any,
        token: str | None = None,
        raw_body: bytes | None = None,
        timeout: float = 60,
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        body = raw_body if raw_body is not None else json.dumps({"data": data}).encode()
        url = f"{self.functions_url}/{self.project}/{REGION}/{CALLABLE}"
        response = self.http.post(url, data=body, headers=headers, timeout=timeout)
        try:
            payload = response.json()
        except ValueError:
            payload = {"raw": response.text}
        return response.status_code, payload

    # --- Firestore REST with a user's token (security rules apply) ---------------------------
    def rest(
        self,
        method: str,
        path: str,
        token: str | None,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> requests.Response:
        url = f"http://{self.firestore_host}/v1/projects/{self.project}/databases/(default)/documents/{path}"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.request(method, url, json=body, params=params, headers=headers, timeout=30)

    # --- the platform's server --------------------------------------------------------------
    def journal(self, uid: str) -> firestore.CollectionReference:
        return self.db.collection("users").document(uid).collection("tradeJournal")

    def weights_doc(self, uid: str) -> dict[str, Any] | None:
        snapshot = (
            self.db.collection("users")
            .document(uid)
            .collection("maestro")
            .document("weights")
            .get()
        )
        return snapshot.to_dict() if snapshot.exists else None

    def wait_for_weights(
        self, uid: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30.0
    ) -> dict[str, Any]:
        def ready() -> dict[str, Any] | None:
            document = self.weights_doc(uid)
            return document if document is not None and predicate(document) else None

        return wait_until(ready, timeout)

    def wait_reflected(
        self, uid: str, trade_id: str, commit: dt.datetime, timeout: float = 30.0
    ) -> dict[str, Any]:
        """The first weights version that reflects the write of `trade_id` committed at `commit`."""
        return self.wait_for_weights(uid, lambda doc: reflects(doc, trade_id, commit), timeout)

    def past_the_write_gate(self, uid: str) -> None:
        """Wait until the weights document is over a second old: a trade event's run that
        would write a younger one hands off to the queue instead (decisions:
        WRITTEN_TOO_RECENTLY). Tests that need a close's own run to write wait."""
        snapshot = self.db.document(f"users/{uid}/maestro/weights").get()
        if snapshot.exists:
            age = dt.datetime.now(dt.UTC) - snapshot.update_time
            time.sleep(max(0.0, 1.1 - age.total_seconds()))

    def offline_weights(self, uid: str, config: MaestroConfig | None = None) -> dict[str, str]:
        """The engine run offline on the user's whole journal as it is now."""
        entries = [
            JournalEntry(snap.id, snap.to_dict() or {}) for snap in self.journal(uid).stream()
        ]
        result = compute_weights(entries, config or MaestroConfig())
        return result.to_json_dict()["weights"]

    def trigger_key(self) -> str:
        """The Functions emulator keys a trigger by its id and a generation that grows each time
        triggers are reloaded (re-enabling background triggers reloads them); it lists the keys
        in its answer for an unknown one."""
        url = f"{self.functions_url}/functions/projects/{self.project}/triggers/unknown"
        listing = self.http.post(url, timeout=30).text.split("valid functions are:")[-1]
        keys = [
            key.strip()
            for key in listing.split(",")
            if key.strip().startswith(f"{REGION}-{TRIGGER}-")
        ]
        return max(keys, key=lambda key: int(key.rsplit("-", 1)[-1]))

    # --- delivering a trigger event ourselves (duplicates), as the Firestore emulator does ----
    def deliver_event(
        self,
        uid: str,
        trade_id: str,
        before: firestore.DocumentSnapshot | None,
        after: firestore.DocumentSnapshot | None,
        event_id: str,
    ) -> requests.Response:
        database = f"projects/{self.project}/databases/(default)/documents"
        name = f"{database}/users/{uid}/tradeJournal/{trade_id}"
        data = DocumentEventData(
            value=_event_document(name, after) if after is not None else None,
            old_value=_event_document(name, before) if before is not None else None,
        )
        moment = (after.update_time if after is not None else dt.datetime.now(dt.UTC)).isoformat()
        headers = {
            "content-type": "application/protobuf",
            "ce-specversion": "1.0",
            "ce-id": event_id,
            "ce-source": f"//firestore.googleapis.com/projects/{self.project}/databases/(default)",
            "ce-type": "google.cloud.firestore.document.v1.written",
            "ce-time": moment,
            "ce-subject": f"documents/users/{uid}/tradeJournal/{trade_id}",
            "ce-location": REGION,
            "ce-project": self.project,
            "ce-namespace": "(default)",
            "ce-document": f"users/{uid}/tradeJournal/{trade_id}",
            "ce-database": "(default)",
        }
        url = (
            f"{self.functions_url}/functions/projects/{self.project}/triggers/{self.trigger_key()}"
        )
        body = base64.b64encode(DocumentEventData.serialize(data))
        return self.http.post(url, data=body, headers=headers, timeout=60)


def _event_document(name: str, snapshot: firestore.DocumentSnapshot) -> EventDocument:
    # google.events' Document and Firestore's Document are the same message on the wire.
    document = FirestoreDocument(
        name=name,
        fields=_helpers.encode_dict(snapshot.to_dict() or {}),
        create_time=snapshot.create_time,
        update_time=snapshot.update_time,
    )
    return EventDocument.deserialize(FirestoreDocument.serialize(document))


BASE_TIME = dt.datetime(2026, 11, 2, 14, 30, tzinfo=dt.UTC)


def trade(
    agent: str,
    minute: int,
    pnl: str,
    *,
    price: str = "100",
    quantity: str = "2",
    closed: bool = True,
) -> dict[str, Any]:
    """A trade as the platform's server writes it: amounts as decimal strings, closed_at a
    Firestore timestamp (None while open)."""
    return {
        "agent_id": agent,
        "symbol": "SPY",
        "entry_price": price,
        "quantity": quantity,
        "realized_pnl": pnl if closed else None,
        "opened_at": BASE_TIME + dt.timedelta(minutes=minute - 30),
        "closed_at": BASE_TIME + dt.timedelta(minutes=minute) if closed else None,
    }


def base_journal() -> dict[str, dict[str, Any]]:
    """Closes of three agents (SectorRotation has none) and an open trade."""
    return {
        "w1": trade("WhaleFlowAgent", 1, "12.50"),
        "w2": trade("WhaleFlowAgent", 2, "-3.10"),
        "w3": trade("WhaleFlowAgent", 3, "8.00"),
        "s1": trade("SentimentAgent", 4, "2.00"),
        "s2": trade("SentimentAgent", 5, "-6.00"),
        "s3": trade("SentimentAgent", 6, "1.00"),
        "g1": trade("GammaScalper", 7, "-4.00"),
        "open1": trade("WhaleFlowAgent", 8, "0", closed=False),
    }


def seed_journal(
    suite: Suite, uid: str, trades: dict[str, dict[str, Any]], *, wait: bool = True
) -> dict[str, Any] | None:
    """Write trades in one batch (one commit time) and, when any is closed (and `wait`), wait
    until the trigger's weights reflect every close, and then past the write gate. Returns the
    settled weights document."""
    batch = suite.db.batch()
    for trade_id, data in trades.items():
        batch.set(suite.journal(uid).document(trade_id), data)
    results = batch.commit()
    if not wait or not any(data.get("closed_at") is not None for data in trades.values()):
        return None
    commit_time = results[0].update_time
    closes = [trade_id for trade_id, data in trades.items() if data.get("closed_at") is not None]
    settled = suite.wait_for_weights(
        uid, lambda doc: all(reflects(doc, trade_id, commit_time) for trade_id in closes)
    )
    # The test's next close is a lone close: a second or more after the weights' last write.
    suite.past_the_write_gate(uid)
    return settled


def debug_log_offset() -> int:
    """Where the debug log ends now; function_log reads what is written after it."""
    if not DEBUG_LOG.exists():
        raise RuntimeError(f"{DEBUG_LOG} is missing: run the suite from the project root")
    return DEBUG_LOG.stat().st_size


def function_log(
    offset: int,
    marker: str,
    enough: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 15.0,
) -> list[dict[str, Any]]:
    """The functions' structured log entries mentioning `marker`, written to the debug log after
    `offset`; read again until `enough` says so or `timeout` (the lines arrive a moment after
    the runs)."""
    deadline = time.monotonic() + timeout
    while True:
        entries = []
        with DEBUG_LOG.open(encoding="utf-8", errors="replace") as log:
            log.seek(offset)
            for line in log:
                start = line.find("{")
                if marker not in line or start < 0:
                    continue
                try:
                    # the debug log appends its own metadata after the function's JSON line
                    entry, _ = json.JSONDecoder().raw_decode(line[start:])
                except ValueError:
                    continue
                if isinstance(entry, dict):
                    entries.append(entry)
        if enough(entries) or time.monotonic() > deadline:
            return entries
        time.sleep(0.2)
