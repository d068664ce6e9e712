"""The main job, end to end on the emulator suite (run by `make demo` inside scripts/emulators):
sign in a demo user, write the sample journal as the platform's server would (trades closing in
batches), wait for the trigger's weights, call the callable as the frontend does, and print the
weights table read back from users/{uid}/maestro/weights."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

import requests
from google.cloud import firestore

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))

from maestro.config import MaestroConfig  # noqa: E402
from maestro.documents import reflects_write  # noqa: E402
from maestro.journal_file import load_journal_file  # noqa: E402
from maestro.result import render_weights_table  # noqa: E402
from maestro.weighting import compute_weights  # noqa: E402

BATCH = 50
TIMEOUT_SECONDS = 60


def main() -> int:
    missing = [
        n
        for n in ("FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST", "GCLOUD_PROJECT")
        if n not in os.environ
    ]
    if missing:
        print(
            f"demo: run through scripts/emulators exec (missing {', '.join(missing)})",
            file=sys.stderr,
        )
        return 2
    project = os.environ["GCLOUD_PROJECT"]
    emulators = json.loads((ROOT / "firebase.json").read_text())["emulators"]
    functions_url = f"http://{emulators['functions']['host']}:{emulators['functions']['port']}"
    auth_url = f"http://{os.environ['FIREBASE_AUTH_EMULATOR_HOST']}"

    signup = requests.post(
        f"{auth_url}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=demo",
        json={
            "email": f"demo-{int(time.time())}@maestro.test",
            "password": "demo-password",
            "returnSecureToken": True,
        },
        timeout=30,
    )
    signup.raise_for_status()
    uid, id_token = signup.json()["localId"], signup.json()["idToken"]
    print(f"demo user {uid} signed in (Auth emulator)")

    entries = load_journal_file(ROOT / "examples" / "sample_journal.json")
    db = firestore.Client(project=project)
    journal = db.collection("users").document(uid).collection("tradeJournal")
    started = time.perf_counter()
    closes: list[tuple[str, dt.datetime]] = []  # (trade id, commit time) of every closed trade
    for start in range(0, len(entries), BATCH):
        batch = db.batch()
        chunk = entries[start : start + BATCH]
        for entry in chunk:
            batch.set(journal.document(entry.trade_id), dict(entry.data))
        commit = batch.commit()[0].update_time
        closes += [(e.trade_id, commit) for e in chunk if e.data.get("closed_at") is not None]
    print(f"wrote {len(entries)} journal entries in batches of {BATCH} (as the platform's server)")

    weights_ref = db.collection("users").document(uid).collection("maestro").document("weights")
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while True:
        snapshot = weights_ref.get()
        document = snapshot.to_dict() if snapshot.exists else None
        if document and all(reflects_write(document, tid, commit) for tid, commit in closes):
            break
        if time.monotonic() > deadline:
            print("demo: the trigger did not produce weights in time", file=sys.stderr)
            return 1
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    print(f"trigger runs done: weights reflect every close {elapsed:.2f} s after the first write")

    response = requests.post(
        f"{functions_url}/{project}/us-central1/calculate_agent_weights",
        json={"data": {}},
        headers={"Authorization": f"Bearer {id_token}"},
        timeout=60,
    )
    response.raise_for_status()
    result = response.json()["result"]
    print(f"callable calculate_agent_weights answered (cause of stored weights: {result['cause']})")

    document = weights_ref.get().to_dict() or {}
    print()
    print(f"users/{uid}/maestro/weights:")
    print(render_weights_table(document))
    offline = compute_weights(entries, MaestroConfig()).to_json_dict()["weights"]
    same = offline == document["weights"]
    print(f"\nsame weights as the offline engine on the sample journal: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
