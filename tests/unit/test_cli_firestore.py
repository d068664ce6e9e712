"""`maestro weights --firestore-uid UID`, without Firestore: the argument handling, the functions'
own query asked with the config's agents and lookback, and exit 2 with one line for every
failure. (tests/emulator/test_cli_firestore.py runs it against the emulator.)"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from google.api_core import exceptions
from google.auth.exceptions import DefaultCredentialsError

from maestro import firestore_io
from maestro.journal import JournalEntry

from .helpers import closed
from .helpers import run_cli as run

CLIENT = object()
DOCUMENTS = [
    closed("A", 1, "2"),
    closed("A", 2, "-1"),
    closed("A", 3, "4"),
    closed("B", 4, "3"),
    closed("B", 5, "1"),
]


@pytest.fixture
def queries(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """firestore_io's client and journal query, faked: every query asked is recorded."""
    asked: list[tuple[Any, ...]] = []

    def read_agent_journals(
        db: object, uid: str, agent_ids: Sequence[str], lookback_trades: int
    ) -> list[JournalEntry]:
        asked.append((db, uid, tuple(agent_ids), lookback_trades))
        return [entry for entry in DOCUMENTS if entry.data["agent_id"] in agent_ids]

    monkeypatch.setattr(firestore_io, "get_client", lambda: CLIENT)
    monkeypatch.setattr(firestore_io, "read_agent_journals", read_agent_journals)
    monkeypatch.delenv("FIRESTORE_EMULATOR_HOST", raising=False)
    return asked


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"agent_ids": ["A", "B"], "lookback_trades": 7}))
    return path


def test_reads_the_users_journal_with_the_configs_agents_and_lookback(
    queries: list[tuple[Any, ...]], config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(
        ["weights", "--firestore-uid", "user-1", "--config", str(config), "--json"], capsys
    )
    assert status == 0
    assert queries == [(CLIENT, "user-1", ("A", "B"), 7)]
    payload = json.loads(out)
    assert payload["agents"]["A"]["trades_used"] == 3
    assert payload["load"]["rows"] == 5  # documents read
    assert payload["load"]["not_configured"] == [] and payload["load"]["duplicate_trade_ids"] == 0
    assert err == [
        "maestro: 5 documents read, closes from 2026-11-02 to 2026-11-02",
        "maestro: A: 3 documents; of the 3 most recent closed, 3 used, 0 rejected",
        "maestro: B: 2 documents; of the 2 most recent closed, 2 used, 0 rejected",
    ]


def test_the_same_engine_table_and_json_as_for_a_file(
    queries: list[tuple[Any, ...]],
    config: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = [
        {"trade_id": entry.trade_id, **entry.data, "closed_at": entry.data["closed_at"].isoformat()}
        for entry in DOCUMENTS
    ]
    journal = tmp_path / "journal.json"
    journal.write_text(json.dumps(rows))
    for extra in ([], ["--json"]):
        _, from_file, _ = run(
            ["weights", "--journal", str(journal), "--config", str(config), *extra], capsys
        )
        status, from_firestore, _ = run(
            ["weights", "--firestore-uid", "u", "--config", str(config), *extra], capsys
        )
        assert status == 0
        assert from_firestore == from_file


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--journal", "j.json", "--firestore-uid", "u"],
            "maestro weights: argument --firestore-uid: not allowed with argument --journal",
        ),
        (
            ["--firestore-uid", "u", "--journal", "j.json"],
            "maestro weights: argument --journal: not allowed with argument --firestore-uid",
        ),
        (
            [],
            "maestro weights: one of the arguments --journal --firestore-uid is required",
        ),
        (
            ["--firestore-uid", "users/u"],
            "maestro weights: argument --firestore-uid: not a user id (non-empty, no '/'):"
            " 'users/u'",
        ),
        (
            ["--firestore-uid", ""],
            "maestro weights: argument --firestore-uid: not a user id (non-empty, no '/'): ''",
        ),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    queries: list[tuple[Any, ...]],
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    status, out, err = run(["weights", *args], capsys)
    assert (status, out, err) == (2, "", [message])
    assert queries == []


@pytest.mark.parametrize(
    "error",
    [
        exceptions.ServiceUnavailable("failed to connect to all addresses;\n  last error: x"),
        exceptions.PermissionDenied("Missing or insufficient permissions."),
        exceptions.RetryError("Timeout of 300.0s exceeded", None),
    ],
)
def test_a_firestore_failure_exits_2_with_one_line(
    queries: list[tuple[Any, ...]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    error: Exception,
) -> None:
    def failing(*_: object) -> list[JournalEntry]:
        raise error

    monkeypatch.setattr(firestore_io, "read_agent_journals", failing)
    status, out, err = run(["weights", "--firestore-uid", "u1"], capsys)
    assert (status, out) == (2, "")
    assert len(err) == 1 and err[0].startswith("maestro: firestore users/u1/tradeJournal: ")
    assert " ".join(str(error).split()) in err[0]


def test_no_credentials_exits_2_with_one_line(
    queries: list[tuple[Any, ...]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def no_credentials() -> object:
        raise DefaultCredentialsError("Your default credentials were not found.")

    monkeypatch.setattr(firestore_io, "get_client", no_credentials)
    status, out, err = run(["weights", "--firestore-uid", "u1"], capsys)
    assert (status, out) == (2, "")
    assert err == [
        "maestro: firestore users/u1/tradeJournal: Your default credentials were not found."
    ]


def test_the_emulator_needs_a_project_and_must_be_running(
    queries: list[tuple[Any, ...]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:1")  # nothing listens on port 1
    monkeypatch.delenv("GCLOUD_PROJECT", raising=False)
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    status, _, err = run(["weights", "--firestore-uid", "u1"], capsys)
    assert (status, err) == (
        2,
        [
            "maestro: firestore users/u1/tradeJournal: FIRESTORE_EMULATOR_HOST is set,"
            " GCLOUD_PROJECT is not: set it to the emulator's project"
        ],
    )
    monkeypatch.setenv("GCLOUD_PROJECT", "demo-maestro")
    status, _, err = run(["weights", "--firestore-uid", "u1"], capsys)
    assert status == 2 and len(err) == 1
    assert err[0].startswith(
        "maestro: firestore users/u1/tradeJournal: no emulator at"
        " FIRESTORE_EMULATOR_HOST=127.0.0.1:1: "
    )
    assert queries == []  # never the client's minutes of retries
