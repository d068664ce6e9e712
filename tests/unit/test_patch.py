"""document_patch: the update a close sends must turn the stored weights document into exactly
the new one, as Firestore applies an update (field paths set, DELETE_FIELD removed)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from google.api_core.datetime_helpers import DatetimeWithNanoseconds
from google.cloud.firestore import DELETE_FIELD
from google.cloud.firestore_v1.field_path import FieldPath
from hypothesis import given, settings
from hypothesis import strategies as st

from maestro.firestore_io import _difference, _update_write, document_patch

KEYS = st.sampled_from(["a", "b", "weights", "n3.x y", "`tick`", "é", "1", "c.d"])
LEAVES = st.one_of(
    st.integers(-3, 3),
    st.booleans(),
    st.text(max_size=3),
    st.none(),
    st.lists(st.integers(0, 2), max_size=2),
    st.builds(
        lambda ns: DatetimeWithNanoseconds(2026, 11, 24, 20, 0, 0, nanosecond=ns, tzinfo=dt.UTC),
        st.sampled_from([0, 1, 1000, 999_999_999]),
    ),
)
DOCUMENTS = st.recursive(
    LEAVES, lambda children: st.dictionaries(KEYS, children, max_size=4), max_leaves=12
).filter(lambda value: isinstance(value, dict))


def apply_update(document: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Firestore's update semantics, for the test: each field path set or deleted."""
    result: dict[str, Any] = _copy(document)
    for path_text, value in update.items():
        parts = FieldPath.from_api_repr(path_text).parts
        target = result
        if value is DELETE_FIELD:
            for part in parts[:-1]:
                target = target.get(part) if isinstance(target.get(part), dict) else {}
            target.pop(parts[-1], None)
            continue
        for part in parts[:-1]:
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]
        target[parts[-1]] = _copy(value)
    return result


def _copy(value: Any) -> Any:
    return {k: _copy(v) for k, v in value.items()} if isinstance(value, dict) else value


@settings(max_examples=500, deadline=None)
@given(DOCUMENTS, DOCUMENTS)
def test_the_patch_turns_the_old_document_into_the_new(
    old: dict[str, Any], new: dict[str, Any]
) -> None:
    patched = apply_update(old, document_patch(old, new))
    assert _exact(patched) == _exact(new)


def test_a_close_sends_only_what_changed() -> None:
    moment = DatetimeWithNanoseconds(2026, 11, 24, 20, 0, 0, nanosecond=5, tzinfo=dt.UTC)
    later = DatetimeWithNanoseconds(2026, 11, 24, 20, 0, 0, nanosecond=6, tzinfo=dt.UTC)
    old = {
        "weights": {"A": "0.5", "B": "0.5"},
        "config": {"lookback_trades": 100},
        "closes_applied": {"t1": moment},
        "computed_at": moment,
    }
    new = {
        "weights": {"A": "0.6", "B": "0.4"},
        "config": {"lookback_trades": 100},
        "closes_applied": {"t1": moment, "t.2": later},
        "computed_at": later,  # differs only in the nanoseconds
    }
    assert document_patch(old, new) == {
        "weights.A": "0.6",
        "weights.B": "0.4",
        "closes_applied.`t.2`": later,
        "computed_at": later,
    }


def _exact(value: Any) -> Any:
    """Values as Firestore compares them: timestamps to the nanosecond, types distinct."""
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, DatetimeWithNanoseconds):
        return ("ts", value.rfc3339())
    return (type(value).__name__, repr(value))


@settings(max_examples=300, deadline=None)
@given(DOCUMENTS, DOCUMENTS)
def test_the_close_write_is_the_update_the_client_would_build(
    old: dict[str, Any], new: dict[str, Any]
) -> None:
    """commit_weights builds the update's Write itself (half the encoding time of a close);
    it must be exactly the client's update(document_patch(...), option=last_update_time)."""
    from google.cloud.firestore_v1 import _helpers

    patch = document_patch(old, new)
    built = _update_write(PATH, _difference(old, new, ()), STORED_AT)
    if not patch:
        assert built is None  # the client's own update() refuses an empty one, as before
        return
    (expected,) = _helpers.pbs_for_update(PATH, patch, _helpers.LastUpdateOption(STORED_AT))
    assert built is not None
    assert sorted(built.update_mask.field_paths) == sorted(expected.update_mask.field_paths)
    assert built.update == expected.update
    assert built.current_document == expected.current_document
    assert not expected.update_transforms and not built.update_transforms


def test_a_transform_other_than_delete_is_left_to_the_client() -> None:
    from google.cloud.firestore import SERVER_TIMESTAMP

    changes = _difference({"a": 1}, {"a": 2, "stale_since": SERVER_TIMESTAMP}, ())
    assert _update_write(PATH, changes, STORED_AT) is None


PATH = "projects/demo-maestro/databases/(default)/documents/users/u/maestro/weights"
STORED_AT = DatetimeWithNanoseconds(2026, 12, 6, 3, 0, 0, nanosecond=123456789, tzinfo=dt.UTC)
