"""Firestore timestamps as integer nanoseconds since the epoch: exact where datetime is not
(datetime comparisons ignore the nanoseconds a Firestore timestamp may carry)."""

from __future__ import annotations

import datetime as dt
from typing import Final

EPOCH_START: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
NANOS_PER_SECOND: Final = 1_000_000_000


def to_ns(moment: dt.datetime) -> int:
    """A timestamp as nanoseconds since the epoch (a naive datetime is read as UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    # Whole seconds by timedelta arithmetic (integers, exact): 5x faster than
    # calendar.timegm(utctimetuple()), and a close decodes a timestamp per ledger entry.
    elapsed = aware - EPOCH_START
    return (elapsed.days * 86_400 + elapsed.seconds) * NANOS_PER_SECOND + _nanosecond(moment)


def from_ns(nanoseconds: int) -> dt.datetime:
    """The Firestore timestamp (a DatetimeWithNanoseconds, UTC) of `nanoseconds`."""
    from google.api_core.datetime_helpers import DatetimeWithNanoseconds

    seconds, nanos = divmod(nanoseconds, NANOS_PER_SECOND)
    moment = EPOCH_START + dt.timedelta(seconds=seconds)
    return DatetimeWithNanoseconds(  # type: ignore[no-untyped-call]
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        nanosecond=nanos,
        tzinfo=dt.UTC,
    )


def _nanosecond(moment: dt.datetime) -> int:
    """The sub-second part in nanoseconds. A DatetimeWithNanoseconds keeps more than the
    microseconds, but a copy of one (DocumentSnapshot.to_dict() deep-copies) keeps only the
    microseconds and reports 0 nanoseconds: trust `nanosecond` only when it agrees with them."""
    nanos = getattr(moment, "nanosecond", None)
    if isinstance(nanos, int) and nanos // 1000 == moment.microsecond:
        return nanos
    return moment.microsecond * 1000
