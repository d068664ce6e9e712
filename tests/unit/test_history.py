"""The audit trail (issue 11): an entry per weights version that changes the allocation, keyed
so that ids sort as versions do, with what a person asks of a past allocation and its TTL; and
the callable's history request, validated and bounded."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from firebase_functions import https_fn

from maestro.documents import Unreadable, history_entry, history_page
from maestro.handlers import HISTORY_PAGE_MAX, HistoryPage, parse_callable_data
from maestro.timestamps import from_ns

from .test_documents import AS_OF, version

DAY = 86_400 * 1_000_000_000


def test_a_first_version_is_kept_with_its_scores_reasons_config_and_cause() -> None:
    written = version({})
    kept = history_entry(written, None, retention_days=365)
    assert kept is not None
    version_id, entry = kept
    assert version_id == f"{AS_OF + 7:020d}"
    fields = written.fields
    agent = fields["agents"]["A"]
    assert entry["weights"] == fields["weights"] == {"A": "1"}
    assert entry["agents"] == {
        "A": {
            "score": agent["score"],
            "status": agent["status"],
            "trades_used": 2,
            "trades_rejected": 0,
            "reason": agent["explanation"]["reason"],
        }
    }
    assert entry["config"] == fields["config"] and entry["cause"] == fields["cause"]
    assert entry["computed_at"] == from_ns(AS_OF + 7)
    assert entry["journal_as_of"] == from_ns(AS_OF)
    assert entry["expires_at"] == from_ns(AS_OF + 7 + 365 * DAY)
    assert "exposure" not in entry and "diagnostics" not in entry["agents"]["A"]


def test_a_version_that_allocates_as_the_stored_one_keeps_nothing() -> None:
    stored = version({})
    again = dataclasses.replace(stored, computed_at_ns=AS_OF + 99)
    assert history_entry(again, stored, 365) is None
    moved = dataclasses.replace(again, fields={**again.fields, "weights": {"A": "0.5"}})
    assert history_entry(moved, stored, 365) is not None
    exposed = dataclasses.replace(again, fields={**again.fields, "exposure": "0.8"})
    kept = history_entry(exposed, stored, 365)
    assert kept is not None and kept[1]["exposure"] == "0.8"
    # A document that cannot be read cannot be compared: the new version is kept.
    assert history_entry(again, Unreadable("format 1"), 365) is not None
    assert history_entry(stored, None, 0) is None  # the trail turned off


def test_version_ids_sort_as_the_versions_do() -> None:
    times = [9 * 10**17, 10**18, 10**18 + 1, 2 * 10**18]
    ids = []
    for computed_at_ns in times:
        kept = history_entry(
            dataclasses.replace(version({}), computed_at_ns=computed_at_ns), None, 1
        )
        assert kept is not None
        ids.append(kept[0])
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_a_page_for_the_callable_has_iso_times() -> None:
    kept = history_entry(version({}), None, 365)
    assert kept is not None
    (page,) = history_page([kept[1]])
    assert page["computed_at"] == from_ns(AS_OF + 7).isoformat()
    assert page["weights"] == {"A": "1"}


@pytest.mark.parametrize(
    ("asked", "page"),
    [
        ({}, HistoryPage(20, None)),
        ({"limit": 1}, HistoryPage(1, None)),
        (
            {"limit": HISTORY_PAGE_MAX, "before": "2026-03-03T10:00:00Z"},
            HistoryPage(HISTORY_PAGE_MAX, dt.datetime(2026, 3, 3, 10, tzinfo=dt.UTC)),
        ),
        (
            {"before": "2026-03-03T10:00:00+02:00"},
            HistoryPage(20, dt.datetime(2026, 3, 3, 8, tzinfo=dt.UTC)),
        ),
    ],
)
def test_a_history_request(asked: dict[str, Any], page: HistoryPage) -> None:
    parsed = parse_callable_data({"history": asked})
    assert parsed.history == page and parsed.config is None and not parsed.force


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"history": []}, "history: must be an object"),
        ({"history": {"limit": 0}}, "history.limit: must be an integer from 1 to 50"),
        ({"history": {"limit": 51}}, "history.limit"),
        ({"history": {"limit": "5"}}, "history.limit"),
        ({"history": {"limit": True}}, "history.limit"),
        ({"history": {"before": "yesterday"}}, "history.before: must be an ISO-8601 time"),
        ({"history": {"before": "2026-03-03T10:00:00"}}, "history.before"),  # no offset
        ({"history": {"before": 5}}, "history.before"),
        ({"history": {"after": "2026-03-03T10:00:00Z"}}, "history.after: unknown field"),
        ({"history": {}, "force": True}, "history: ask for history alone"),
        ({"history": {}, "config": {}}, "history: ask for history alone"),
    ],
)
def test_a_bad_history_request_names_its_field(data: dict[str, Any], message: str) -> None:
    with pytest.raises(https_fn.HttpsError) as refused:
        parse_callable_data(data)
    assert refused.value.code is https_fn.FunctionsErrorCode.INVALID_ARGUMENT
    assert refused.value.message.startswith(message)
