"""firestore.rules, cell by cell: signed out, owner, other user x get, list, create, update,
delete x each path, with real ID tokens over the Firestore REST API. Anything not granted is
denied, and a denied write changes nothing."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import pytest

from .harness import Suite, User, trade

ACTORS = ("signed_out", "owner", "other")
OPERATIONS = ("get", "list", "create", "update", "delete")
# path kind -> (collection path, existing document id); {uid} is the owner's uid
PATHS = {
    "tradeJournal": ("users/{uid}/tradeJournal", "t1"),
    "maestro/weights": ("users/{uid}/maestro", "weights"),
    "maestro/config": ("users/{uid}/maestro", "config"),
    "maestro/weights/history": ("users/{uid}/maestro/weights/history", "v1"),
    "users/{uid}": ("users", "{uid}"),
    "maestroLimits/{uid}": ("maestroLimits", "{uid}"),  # admin-only, even for its owner
    "outside users/": ("platform", "settings"),
}
# The only grants: the owner reads their journal and their Maestro documents.
ALLOWED = {
    ("owner", "get", "tradeJournal"),
    ("owner", "list", "tradeJournal"),
    ("owner", "get", "maestro/weights"),
    ("owner", "list", "maestro/weights"),
    ("owner", "get", "maestro/config"),
    ("owner", "list", "maestro/config"),
    ("owner", "get", "maestro/weights/history"),
    ("owner", "list", "maestro/weights/history"),
}


@pytest.fixture
def people(suite: Suite) -> dict[str, Any]:
    owner, other = suite.create_user("owner"), suite.create_user("other")
    suite.background_triggers(False)  # this test is about rules, not recomputes
    try:
        suite.db.document(f"users/{owner.uid}").set({"display_name": "Owner"})
        suite.db.document(f"users/{owner.uid}/tradeJournal/t1").set(trade("WhaleFlowAgent", 1, "5"))
        suite.db.document(f"users/{owner.uid}/maestro/weights").set({"weights": {"A": "1"}})
        suite.db.document(f"users/{owner.uid}/maestro/config").set({"lookback_trades": 50})
        history = f"users/{owner.uid}/maestro/weights/history/v1"
        suite.db.document(history).set({"weights": {"A": "1"}})
        suite.db.document("platform/settings").set({"maintenance": False})
        suite.db.document(f"maestroLimits/{owner.uid}").set({"format": 1, "admitted_ns": [1]})
    finally:
        suite.background_triggers(True)
    return {"owner": owner, "other": other}


def attempt(
    suite: Suite,
    actor: str,
    operation: str,
    kind: str,
    owner: User,
    tokens: dict[str, str | None],
    paths: Mapping[str, tuple[str, str]] = PATHS,  # test_merged_rules.py adds a project's paths
) -> int:
    collection, doc_id = (part.format(uid=owner.uid) for part in paths[kind])
    token = tokens[actor]
    fields = {"fields": {"probe": {"stringValue": actor}}}
    if operation == "get":
        return suite.rest("GET", f"{collection}/{doc_id}", token).status_code
    if operation == "list":
        return suite.rest("GET", collection, token).status_code
    if operation == "create":
        return suite.rest(
            "POST", collection, token, fields, params={"documentId": f"new-{actor}"}
        ).status_code
    if operation == "update":
        params = {"currentDocument.exists": "true", "updateMask.fieldPaths": "probe"}
        return suite.rest(
            "PATCH", f"{collection}/{doc_id}", token, fields, params=params
        ).status_code
    return suite.rest("DELETE", f"{collection}/{doc_id}", token).status_code


Cell = tuple[str, str, str]  # (actor, operation, path kind)


def tokens_of(people: dict[str, Any]) -> dict[str, str | None]:
    return {
        "signed_out": None,
        "owner": people["owner"].id_token,
        "other": people["other"].id_token,
    }


def run_cells(
    suite: Suite,
    owner: User,
    tokens: dict[str, str | None],
    paths: Mapping[str, tuple[str, str]] = PATHS,
) -> dict[Cell, int]:
    return {
        (actor, operation, kind): attempt(suite, actor, operation, kind, owner, tokens, paths)
        for actor, operation, kind in itertools.product(ACTORS, OPERATIONS, paths)
    }


def not_as_allowed(outcomes: Mapping[Cell, int], allowed: set[Cell]) -> dict[Cell, int]:
    """The cells whose status is not 200 where allowed and 403 where denied."""
    return {
        cell: status
        for cell, status in outcomes.items()
        if (status == 200) != (cell in allowed) or status not in (200, 403)
    }


def admin_reads(suite: Suite, owner: User) -> dict[str, dict[str, Any] | None]:
    return {kind: _admin_read(suite, kind, owner) for kind in PATHS}


def assert_denied_writes_left_nothing(
    suite: Suite, owner: User, before: dict[str, dict[str, Any] | None]
) -> None:
    """Maestro's paths: the denied writes changed nothing and created nothing."""
    assert admin_reads(suite, owner) == before
    for collection_pattern, _ in PATHS.values():
        collection = collection_pattern.format(uid=owner.uid)
        for actor in ACTORS:
            assert not suite.db.document(f"{collection}/new-{actor}").get().exists


def test_the_rules_matrix(suite: Suite, people: dict[str, Any]) -> None:
    owner = people["owner"]
    before = admin_reads(suite, owner)
    outcomes = run_cells(suite, owner, tokens_of(people))
    wrong = not_as_allowed(outcomes, ALLOWED)
    assert not wrong, f"cells not as the rules say (200 allowed, 403 denied): {wrong}"
    assert len(outcomes) == len(ACTORS) * len(OPERATIONS) * len(PATHS) == 105
    assert_denied_writes_left_nothing(suite, owner, before)


def test_a_user_cannot_read_another_users_documents_by_listing(
    suite: Suite, people: dict[str, Any]
) -> None:
    owner, other = people["owner"], people["other"]
    response = suite.rest("GET", f"users/{owner.uid}/tradeJournal", other.id_token)
    assert response.status_code == 403
    assert response.json()["error"]["status"] == "PERMISSION_DENIED"
    listed = suite.rest("GET", f"users/{owner.uid}/tradeJournal", owner.id_token).json()
    assert [doc["name"].rsplit("/", 1)[-1] for doc in listed["documents"]] == ["t1"]


def _admin_read(suite: Suite, kind: str, owner: User) -> dict[str, Any] | None:
    collection, doc_id = (part.format(uid=owner.uid) for part in PATHS[kind])
    snapshot = suite.db.document(f"{collection}/{doc_id}").get()
    return snapshot.to_dict() if snapshot.exists else None
