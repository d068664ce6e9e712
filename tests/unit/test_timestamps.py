"""Firestore timestamps as integer nanoseconds: exact, and not fooled by copies."""

from __future__ import annotations

import calendar
import copy
import datetime as dt

from google.api_core.datetime_helpers import DatetimeWithNanoseconds
from hypothesis import given, settings
from hypothesis import strategies as st

from maestro.timestamps import from_ns, to_ns

SECOND = 1_795_556_039  # 2026-11-24T21:33:59Z


def test_nanoseconds_round_trip() -> None:
    for nanos in (0, 1, 999, 830_052_000, 830_052_123, 999_999_999):
        moment = from_ns(SECOND * 1_000_000_000 + nanos)
        assert to_ns(moment) == SECOND * 1_000_000_000 + nanos


def test_a_copied_timestamp_keeps_its_microseconds() -> None:
    """DocumentSnapshot.to_dict() deep-copies its data, and a copied DatetimeWithNanoseconds
    reports 0 nanoseconds: the microseconds must still count."""
    moment = DatetimeWithNanoseconds(2026, 11, 24, 21, 33, 59, 830_052, tzinfo=dt.UTC)
    copied = copy.deepcopy(from_ns(SECOND * 1_000_000_000 + 830_052_123))
    assert to_ns(moment) == to_ns(copied) == SECOND * 1_000_000_000 + 830_052_000


def test_plain_and_naive_datetimes() -> None:
    aware = dt.datetime(2026, 11, 24, 21, 33, 59, 5, tzinfo=dt.UTC)
    assert to_ns(aware) == to_ns(aware.replace(tzinfo=None)) == SECOND * 1_000_000_000 + 5_000


@settings(max_examples=500, deadline=None)
@given(
    st.datetimes(
        min_value=dt.datetime(1, 1, 2),
        max_value=dt.datetime(9999, 12, 30),
        timezones=st.one_of(
            st.none(),
            st.builds(
                dt.timezone,
                st.timedeltas(min_value=-dt.timedelta(hours=23), max_value=dt.timedelta(hours=23)),
            ),
        ),
    )
)
def test_to_ns_counts_seconds_as_calendar_timegm_does(moment: dt.datetime) -> None:
    """to_ns works the seconds out by timedelta arithmetic (faster); the same integers as
    calendar.timegm over the UTC time tuple, before 1970 and with any offset."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    seconds = calendar.timegm(aware.utctimetuple())
    assert to_ns(moment) == seconds * 1_000_000_000 + moment.microsecond * 1000
