"""The main job, end to end on the emulator suite (run by `make demo` inside scripts/emulators):
create and sign in a demo user, write the sample journal as the platform's server would (trades
closing in batches), wait until the weights document reflects every close, call the callable as
the frontend does, and print the weights table read back from users/{uid}/maestro/weights.

`--serve` (run by `make serve` once the suite is up): the same demo user and journal, then the
dashboard's address and the user's email and password, for signing in there or from a frontend."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import requests
from google.cloud import firestore

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))

from maestro.config import MaestroConfig  # noqa: E402
from maestro.documents import reflects_write  # noqa: E402
from maestro.journal import JournalEntry  # noqa: E402
from maestro.journal_file import load_journal_file  # noqa: E402
from maestro.result import render_weights_table  # noqa: E402
from maestro.weighting import compute_weights  # noqa: E402

BATCH = 50
TIMEOUT_SECONDS = 60
# Every run starts from an empty Auth emulator: a fixed user keeps the printed paths the same.
DEMO_UID = "demo-trader"
DEMO_EMAIL = "demo@maestro.test"
DEMO_PASSWORD = "maestro-demo"


def create_demo_user(auth_url: str, project: str) -> str:
    """Create the demo user in the Auth emulator (as its admin) and sign in: its ID token."""
    created = requests.post(
        f"{auth_url}/identitytoolkit.googleapis.com/v1/projects/{project}/accounts",
        json={"localId": DEMO_UID, "email": DEMO_EMAIL, "password": DEMO_PASSWORD},
        headers={"Authorization": "Bearer owner"},  # the Auth emulator's admin
        timeout=30,
    )
    created.raise_for_status()
    signin = requests.post(
        f"{auth_url}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=demo",
        json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD, "returnSecureToken": True},
        timeout=30,
    )
    signin.raise_for_status()
    return str(signin.json()["idToken"])


def write_journal(
    db: firestore.Client, uid: str, entries: list[JournalEntry]
) -> list[tuple[str, dt.datetime]]:
    """Write the journal as the platform's server would, in batches: (trade id, commit time) of
    every closed trade."""
    journal = db.collection("users").document(uid).collection("tradeJournal")
    closes: list[tuple[str, dt.datetime]] = []
    for start in range(0, len(entries), BATCH):
        batch = db.batch()
        chunk = entries[start : start + BATCH]
        for entry in chunk:
            batch.set(journal.document(entry.trade_id), dict(entry.data))
        commit = batch.commit()[0].update_time
        closes += [(e.trade_id, commit) for e in chunk if e.data.get("closed_at") is not None]
    return closes


def wait_for_weights(
    weights_ref: firestore.DocumentReference, closes: list[tuple[str, dt.datetime]]
) -> dict[str, Any] | None:
    """The weights document once it reflects every close, or None after TIMEOUT_SECONDS."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while True:
        snapshot = weights_ref.get()
        document = snapshot.to_dict() if snapshot.exists else None
        if document and all(reflects_write(document, tid, commit) for tid, commit in closes):
            return document
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)


def main(argv: list[str]) -> int:
    if argv not in ([], ["--serve"]):
        print("usage: scripts/demo.py [--serve]", file=sys.stderr)
        return 2
    serve = argv == ["--serve"]
    missing = [
        n
        for n in ("FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST", "GCLOUD_PROJECT")
        if n not in os.environ
    ]
    if missing:
        print(
            f"demo: run through scripts/emulators, as make demo does ({', '.join(missing)} unset)",
            file=sys.stderr,
        )
        return 2
    project = os.environ["GCLOUD_PROJECT"]
    emulators = json.loads((ROOT / "firebase.json").read_text())["emulators"]
    functions_url = f"http://{emulators['functions']['host']}:{emulators['functions']['port']}"
    auth_url = f"http://{os.environ['FIREBASE_AUTH_EMULATOR_HOST']}"

    id_token = create_demo_user(auth_url, project)
    print(f"demo user {DEMO_EMAIL} (uid {DEMO_UID}) created in the Auth emulator and signed in")

    entries = load_journal_file(ROOT / "examples" / "sample_journal.json")
    db = firestore.Client(project=project)
    started = time.perf_counter()
    closes = write_journal(db, DEMO_UID, entries)
    print(
        f"wrote {len(entries)} journal entries ({len(closes)} closed trades) in batches of "
        f"{BATCH}, as the platform's server would"
    )

    path = f"users/{DEMO_UID}/maestro/weights"
    print(
        f"waiting for {path} to reflect all {len(closes)} closes (the trigger runs on every write)"
    )
    document = wait_for_weights(db.document(path), closes)
    if document is None:
        print(
            f"demo: {path} did not reflect every close within {TIMEOUT_SECONDS} s", file=sys.stderr
        )
        return 1
    elapsed = time.perf_counter() - started
    print(f"the weights document reflects every close, {elapsed:.1f} s after the first write")

    if serve:
        hosting = emulators["hosting"]
        print()
        url = f"http://{hosting['host']}:{hosting['port']}/"
        print(f'the dashboard: {url} (served by the Hosting emulator; README, "Dashboard")')
        print('sign in there, or from your own frontend on the emulators (README, "Frontend"), as')
        print(f"  email:    {DEMO_EMAIL}")
        print(f"  password: {DEMO_PASSWORD}")
        return 0

    response = requests.post(
        f"{functions_url}/{project}/us-central1/calculate_agent_weights",
        json={"data": {}},
        headers={"Authorization": f"Bearer {id_token}"},
        timeout=60,
    )
    response.raise_for_status()
    answered = response.json()["result"]["weights"]
    if answered != document["weights"]:
        print(f"demo: the callable answered other weights: {answered}", file=sys.stderr)
        return 1
    print(
        "callable calculate_agent_weights (called as the frontend calls it) answered the same"
        " weights"
    )

    print()
    print(f"{path}:")
    print(render_weights_table(document))
    offline = compute_weights(entries, MaestroConfig()).to_json_dict()["weights"]
    same = offline == document["weights"]
    print(f"\nsame weights as the offline engine on the sample journal: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
