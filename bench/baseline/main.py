"""Baseline for the end-to-end benchmark: a Firestore trigger that does nothing but write one
document. It listens on its own path, so the benchmark can time it and Maestro's trigger one
after the other in the same run without either queueing behind the other. Only the benchmark's
emulator config (firebase.bench.json) loads it."""

from __future__ import annotations

import os
import time

from firebase_functions import firestore_fn, logger
from firebase_functions.core import Change
from google.cloud import firestore
from google.cloud.firestore_v1 import DocumentSnapshot

_client: firestore.Client | None = None


@firestore_fn.on_document_written(document="users/{uid}/benchProbe/{probeId}")
def baseline_on_trade_written(event: firestore_fn.Event[Change[DocumentSnapshot | None]]) -> None:
    global _client  # noqa: PLW0603 - one client per instance, as Maestro does
    if _client is None:
        _client = firestore.Client(project=os.environ.get("GCLOUD_PROJECT"))
    after = event.data.after
    commit = after.update_time if after is not None else None
    started = time.perf_counter()
    _client.document(f"users/{event.params['uid']}/bench/baseline").set(
        {"probe_id": event.params["probeId"], "commit_time": commit}
    )
    # Its own timing, as Maestro logs its (the benchmark reads both from the debug log).
    write_ms = round((time.perf_counter() - started) * 1000, 3)
    logger.info("baseline run", uid=event.params["uid"], timings_ms={"write": write_ms})
