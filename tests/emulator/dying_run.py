"""A trigger run that dies between its read and its write, as a crashed or timed-out instance
does (issue 14): its own process, which runs the deployed trigger (main.py, as
tests/emulator/inprocess.py builds the event) with the write replaced by the process's death.
The seam is firestore_io._commit, where the tests inject Firestore faults; nothing in
production exists for this test."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from typing import Any, Literal

Death = Literal["crash", "timeout"]
# How the instance dies at its write: killed outright after a second in it ("crash": past the
# run's watchdog, MAESTRO_EVENT_CHECK_AFTER_MS = 500, which queues the event's check), or hung
# until the harness kills it, as the platform does at the function's timeout ("timeout").
HANG_BEFORE_CRASH_SECONDS = 1.0


def run_dying_trigger(
    project: str,
    uid: str,
    trade_id: str,
    death: Death,
    *,
    timeout_seconds: float = 1.0,
    tasks_host: str | None = None,
) -> None:
    """Run the close's trigger in a process that dies at its write; return once it is dead.
    `tasks_host`: the Cloud Tasks endpoint the instance sees (a closed port: the queue is
    unreachable, as before issue 14)."""
    spawn = multiprocessing.get_context("spawn")
    writing = spawn.Event()
    process = spawn.Process(
        target=_instance, args=(project, uid, trade_id, death, tasks_host, writing)
    )
    process.start()
    if not writing.wait(timeout=120):
        process.kill()
        raise RuntimeError("the dying run never reached its write")
    if death == "timeout":
        time.sleep(timeout_seconds)  # the platform's timeout: the instance is killed
        process.kill()
    process.join(timeout=30)
    if process.exitcode != -signal.SIGKILL:
        raise RuntimeError(f"the run did not die at its write (exit code {process.exitcode})")


def _instance(
    project: str, uid: str, trade_id: str, death: Death, tasks_host: str | None, writing: Any
) -> None:
    import sys

    if tasks_host is not None:
        os.environ["CLOUD_TASKS_EMULATOR_HOST"] = tasks_host
    from google.cloud import firestore

    import main  # the deployed module: initialises the Admin SDK as in production
    from maestro import firestore_io

    from .inprocess import run_trigger

    snapshot = (
        firestore.Client(project=project).document(f"users/{uid}/tradeJournal/{trade_id}").get()
    )

    def dies(batch: Any) -> list[Any]:
        writing.set()
        if death == "crash":
            time.sleep(HANG_BEFORE_CRASH_SECONDS)
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(3600)  # hung in the write until killed
        raise AssertionError("unreachable")

    firestore_io._commit = dies  # type: ignore[assignment]
    assert main.recompute_on_trade_written is not None
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the run's log lines, as in production
    run_trigger(project, uid, trade_id, None, snapshot)
