"""Every query the code makes is covered by an index declared in firestore.indexes.json (or by
Firestore's automatic single-field indexes), and every query is built from a declared shape."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from maestro import firestore_io
from maestro.firestore_io import QueryShape

ROOT = Path(__file__).resolve().parents[2]
INDEXES = json.loads((ROOT / "firestore.indexes.json").read_text())


def fields_of(shape: QueryShape) -> list[str]:
    fields = list(shape.equality_fields)
    if shape.inequality_field:
        fields.append(shape.inequality_field)
    fields += [name for name, _ in shape.order_by if name not in fields]
    return fields


def covered(shape: QueryShape) -> bool:
    if len(fields_of(shape)) == 1:
        # Single-field indexes are automatic unless an override switches them off.
        (field,) = fields_of(shape)
        return not any(
            o["collectionGroup"] == shape.collection_id
            and o["fieldPath"] == field
            and o.get("indexes") == []
            for o in INDEXES["fieldOverrides"]
        )
    for index in INDEXES["indexes"]:
        if index["collectionGroup"] != shape.collection_id or index["queryScope"] != "COLLECTION":
            continue
        declared = [(f["fieldPath"], f.get("order")) for f in index["fields"]]
        equality = len(shape.equality_fields)
        if {name for name, _ in declared[:equality]} != set(shape.equality_fields):
            continue
        if declared[equality:] == list(shape.order_by):
            return True
    return False


def test_every_declared_query_shape_has_an_index() -> None:
    assert firestore_io.QUERY_SHAPES
    for shape in firestore_io.QUERY_SHAPES:
        assert covered(shape), f"query {shape.name} has no index in firestore.indexes.json"


def test_the_agent_journal_query_needs_the_composite_index() -> None:
    # The check above must be able to fail: without the declared index the query is uncovered.
    saved = INDEXES["indexes"]
    INDEXES["indexes"] = []
    try:
        assert not covered(firestore_io.AGENT_JOURNAL_QUERY)
        assert covered(firestore_io.CLOSED_AFTER_QUERY)  # single field: automatic
    finally:
        INDEXES["indexes"] = saved


def test_queries_are_only_built_from_declared_shapes() -> None:
    # .where / .order_by may appear only in firestore_io._build_query, so no query escapes the
    # index check above.
    offenders = []
    for path in (ROOT / "functions").rglob("*.py"):
        if "venv" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr in {"where", "order_by"}
                    and not (path.name == "firestore_io.py" and function.name == "_build_query")
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} in {function.name}")
    assert not offenders, offenders


def test_maestros_bookkeeping_fields_are_not_indexed() -> None:
    """Nothing queries Maestro's documents, and indexing costs write latency: the windows (long
    strings), the ledger (one map entry per close) and its trades (one long string), the agents'
    details."""
    exempt = {
        o["fieldPath"]
        for o in INDEXES["fieldOverrides"]
        if o["collectionGroup"] == firestore_io.MAESTRO and o.get("indexes") == []
    }
    assert exempt == {"windows", "ledger", "ledger_trades", "agents"}
    assert not any(s.collection_id == firestore_io.MAESTRO for s in firestore_io.QUERY_SHAPES)
