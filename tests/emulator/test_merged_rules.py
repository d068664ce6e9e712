"""README's "Adopting Maestro in an existing Firebase project", checked: Maestro's rules merged into
a project's own (tests/emulator/rules/merged_example.rules: an imaginary project with a public
products/{id} and a users/{uid}/profile/{doc} its owner writes) still deny what they must.

The rules are loaded into the running Firestore emulator over its REST API, as firebase-tools does
when firestore.rules changes. test_rules.py's matrix for Maestro's paths runs under Maestro's own
rules and under the merged ones, and must come out the same cell for cell (and as ALLOWED says);
the project's own paths as the merged file says. The emulator always gets firestore.rules back
afterwards, so no other test ever sees the merged rules."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .harness import ROOT, Suite
from .test_rules import (
    ACTORS,
    ALLOWED,
    OPERATIONS,
    PATHS,
    admin_reads,
    assert_denied_writes_left_nothing,
    not_as_allowed,
    people,  # noqa: F401 - test_rules' fixture, used here by name
    run_cells,
    tokens_of,
)

MERGED_RULES = Path(__file__).resolve().parent / "rules" / "merged_example.rules"
# The rules the emulator suite was started with (firebase.json's, as scripts/emulators runs it).
OWN_RULES = ROOT / json.loads((ROOT / "firebase.json").read_text())["firestore"]["rules"]

# The imaginary project's paths: kind -> (collection path, existing document id), as PATHS.
PROJECT_PATHS = {
    "products/{id}": ("products", "p1"),
    "users/{uid}/profile/{doc}": ("users/{uid}/profile", "main"),
}
# Anyone reads the catalogue, nobody writes it; the owner does anything with their profile.
PROJECT_ALLOWED = {
    *((actor, operation, "products/{id}") for actor in ACTORS for operation in ("get", "list")),
    *(("owner", operation, "users/{uid}/profile/{doc}") for operation in OPERATIONS),
}


def put_rules(suite: Suite, source: str) -> None:
    """Replace the emulator's Firestore rules for the project: firebase-tools' own call when
    firestore.rules changes (FirestoreEmulator.updateRules), and @firebase/rules-unit-testing's
    (loadFirestoreRules). Without ignore_errors the emulator refuses rules that do not compile."""
    url = f"http://{suite.firestore_host}/emulator/v1/projects/{suite.project}:securityRules"
    body = {"rules": {"files": [{"name": "firestore.rules", "content": source}]}}
    response = suite.http.put(url, json=body, timeout=30)
    assert response.ok, f"the emulator refused the rules: {response.status_code} {response.text}"
    issues = response.json().get("issues", []) if response.content else []
    errors = [issue for issue in issues if issue.get("severity") in ("ERROR", 3)]
    assert not errors, f"the rules do not compile: {errors}"


@pytest.fixture
def load_rules(suite: Suite) -> Iterator[Callable[[Path], None]]:
    """A loader for rules files; firestore.rules is back in the emulator after the test,
    whatever happened (a failed load or assertion included)."""
    try:
        yield lambda path: put_rules(suite, path.read_text(encoding="utf-8"))
    finally:
        put_rules(suite, OWN_RULES.read_text(encoding="utf-8"))


@pytest.fixture
def project_documents(suite: Suite, people: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    """The imaginary project's documents, written by its server (rules do not apply)."""
    owner = people["owner"]
    suite.db.document("products/p1").set({"name": "Widget", "price": "9.99"})
    suite.db.document(f"users/{owner.uid}/profile/main").set({"nickname": "Owner"})
    return people


def test_merged_rules_leave_maestros_cells_exactly_as_maestros_own(
    suite: Suite, project_documents: dict[str, Any], load_rules: Callable[[Path], None]
) -> None:
    owner = project_documents["owner"]
    tokens = tokens_of(project_documents)
    before = admin_reads(suite, owner)

    load_rules(OWN_RULES)
    own = run_cells(suite, owner, tokens, PATHS)
    load_rules(MERGED_RULES)
    merged = run_cells(suite, owner, tokens, PATHS)
    project = run_cells(suite, owner, tokens, PROJECT_PATHS)

    assert len(own) == len(merged) == 105 and len(project) == 30
    changed = {cell: (own[cell], merged[cell]) for cell in own if own[cell] != merged[cell]}
    assert not changed, f"Maestro's cells (own rules, merged rules) that differ: {changed}"
    assert not not_as_allowed(merged, ALLOWED), not_as_allowed(merged, ALLOWED)
    assert not not_as_allowed(project, PROJECT_ALLOWED), not_as_allowed(project, PROJECT_ALLOWED)

    # Maestro's paths: the denied writes changed nothing and created nothing, under both rules.
    assert_denied_writes_left_nothing(suite, owner, before)
    # The project's paths: the catalogue untouched, the owner's own profile writes landed (their
    # update, then their delete of "main", and their create), nobody else's.
    assert suite.db.document("products/p1").get().to_dict() == {"name": "Widget", "price": "9.99"}
    assert [doc.id for doc in suite.db.collection("products").stream()] == ["p1"]
    profile = {
        doc.id: doc.to_dict() for doc in suite.db.collection(f"users/{owner.uid}/profile").stream()
    }
    assert profile == {"new-owner": {"probe": "owner"}}


def test_the_merged_example_and_the_readme_carry_maestros_rules_unchanged() -> None:
    """Maestro's part of merged_example.rules and of the README's snippet is the body of
    firestore.rules, statement for statement: the merged test tests the rules Maestro ships."""
    own = _statements(OWN_RULES.read_text(encoding="utf-8"))
    start = own.index("match /databases/{database}/documents {") + 1
    body = own[start:-2]  # up to the closing braces of the documents match and the service
    assert body[0].startswith("function isOwner(") and len(body) > 5
    for path in (MERGED_RULES, ROOT / "README.md"):
        statements = _statements(path.read_text(encoding="utf-8"))
        assert any(statements[i : i + len(body)] == body for i in range(len(statements))), (
            f"{path.name} does not carry firestore.rules' body unchanged: {body}"
        )


def _statements(text: str) -> list[str]:
    """The lines of a rules text without comments, indentation or blank lines."""
    lines = (line.split("//", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]
