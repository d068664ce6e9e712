"""Running the deployed entry points (functions/main.py) inside the test process, against the
emulators' Firestore and Auth, so that faults and delays can be injected at the Firestore access
layer (maestro.firestore_io). Requests and events go through the Firebase SDK's own wrappers."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from typing import Any

import flask
from cloudevents.http import CloudEvent
from google.cloud import firestore
from google.events.cloud.firestore import DocumentEventData

import main
from maestro import service
from maestro.decisions import Settings
from maestro.events import TradeEvent, classify_trade_write
from maestro.timestamps import to_ns

from .harness import REGION, Suite, _event_document

_app = flask.Flask("maestro-tests")


def call_callable(data: Any, token: str | None) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with _app.test_request_context("/", method="POST", json={"data": data}, headers=headers):
        response = main.calculate_agent_weights(flask.request)
    return response.status_code, response.get_json()


def run_close(
    suite: Suite, uid: str, after: Any, settings: Settings | None = None
) -> service.RunOutcome:
    """The service as the trigger calls it for a close, returning what the run did (no
    hand-off: the trigger's handler would enqueue it)."""
    event = classify_trade_write(
        after.id, str(uuid.uuid4()), None, after.to_dict(), to_ns(after.update_time)
    )
    assert isinstance(event, TradeEvent)
    return service.recompute(suite.db, uid, event, settings)


def run_trigger(
    project: str,
    uid: str,
    trade_id: str,
    before: firestore.DocumentSnapshot | None,
    after: firestore.DocumentSnapshot | None,
) -> None:
    """One trigger invocation, with the event the Firestore emulator would send."""
    name = f"projects/{project}/databases/(default)/documents/users/{uid}/tradeJournal/{trade_id}"
    data = DocumentEventData(
        value=_event_document(name, after) if after is not None else None,
        old_value=_event_document(name, before) if before is not None else None,
    )
    moment = (after or before).update_time.isoformat()  # type: ignore[union-attr]
    attributes = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": f"//firestore.googleapis.com/projects/{project}/databases/(default)",
        "type": "google.cloud.firestore.document.v1.written",
        "time": moment,
        "subject": f"documents/users/{uid}/tradeJournal/{trade_id}",
        "datacontenttype": "application/protobuf",
        "location": REGION,
        "project": project,
        "namespace": "(default)",
        "document": f"users/{uid}/tradeJournal/{trade_id}",
        "database": "(default)",
    }
    main.recompute_on_trade_written(CloudEvent(attributes, DocumentEventData.serialize(data)))


class Faults:
    """Make a firestore_io RPC raise `error` on its first `times` calls (None: every call)."""

    def __init__(
        self, monkeypatch: Any, function_name: str, error: Exception, times: int | None
    ) -> None:
        from maestro import firestore_io

        self.calls = 0
        original: Callable[..., Any] = getattr(firestore_io, function_name)

        def faulty(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if times is None or self.calls <= times:
                raise error
            return original(*args, **kwargs)

        monkeypatch.setattr(firestore_io, function_name, faulty)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")
