"""The callable's per-user limits: the sliding log against a brute-force count of every window."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from maestro.call_limits import DEFAULT_LIMITS, Admitted, Limit, Refused, admit

S = 1_000_000_000  # ns in a second
MINUTE, HOUR = DEFAULT_LIMITS


def run(times_ns: list[int], limits: tuple[Limit, ...]) -> tuple[list[int], list[Refused]]:
    """Requests at these times, one after another, with the log stored between them."""
    log: tuple[int, ...] = ()
    admitted, refused = [], []
    for now in times_ns:
        verdict = admit(log, now, limits)
        if isinstance(verdict, Admitted):
            log = verdict.log_ns
            admitted.append(now)
        else:
            refused.append(verdict)
    return admitted, refused


def test_six_a_minute_then_refused_with_when_to_retry() -> None:
    admitted, refused = run([i * S for i in range(10)], DEFAULT_LIMITS)
    assert admitted == [0, S, 2 * S, 3 * S, 4 * S, 5 * S]
    # the 7th at 6 s: the first admitted leaves the minute at 60 s
    assert [r.retry_after_seconds for r in refused] == [54, 53, 52, 51]
    assert refused[0].limit == MINUTE
    assert "at most 6 a minute" in refused[0].message() and "retry in 54 s" in refused[0].message()


def test_the_window_passing_admits_again_and_the_hour_limit_holds() -> None:
    log: tuple[int, ...] = ()
    now = 0
    admitted = 0
    while now < 2 * 3600 * S:
        verdict = admit(log, now, DEFAULT_LIMITS)
        if isinstance(verdict, Admitted):
            log, admitted = verdict.log_ns, admitted + 1
            now += 1 * S
        else:
            now += verdict.retry_after_seconds * S  # the advice, taken literally, is admitted
            assert isinstance(admit(log, now, DEFAULT_LIMITS), Admitted)
    assert admitted == 120  # 60 in each hour, never more
    assert len(log) == 60


def test_limits_of_zero_are_off_and_clocks_ahead_count_as_recent() -> None:
    assert isinstance(admit([0] * 100, 0, (Limit(0, 60),)), Admitted)
    ahead = [10 * S] * 6  # another instance's clock runs 10 s ahead
    verdict = admit(ahead, 0, DEFAULT_LIMITS)
    assert isinstance(verdict, Refused) and verdict.retry_after_seconds == 70


@given(
    gaps=st.lists(st.integers(min_value=0, max_value=40 * S), min_size=1, max_size=60),
    calls=st.integers(min_value=1, max_value=5),
    window=st.integers(min_value=1, max_value=120),
)
def test_every_window_holds_at_most_calls_and_no_request_is_refused_needlessly(
    gaps: list[int], calls: int, window: int
) -> None:
    limits = (Limit(calls, window), Limit(calls * 3, window * 4))
    times = [sum(gaps[: i + 1]) for i in range(len(gaps))]
    log: tuple[int, ...] = ()
    admitted: list[int] = []
    for now in times:
        verdict = admit(log, now, limits)
        in_windows = [
            sum(1 for t in admitted if t > now - limit.window_seconds * S) for limit in limits
        ]
        fits = all(n < limit.calls for n, limit in zip(in_windows, limits, strict=True))
        assert isinstance(verdict, Admitted) == fits
        if isinstance(verdict, Admitted):
            log = verdict.log_ns
            admitted.append(now)
            assert len(log) <= max(limit.calls for limit in limits)
        else:
            # retrying at the advised time is admitted; a nanosecond before the rounding, not
            later = now + verdict.retry_after_seconds * S
            assert isinstance(admit(log, later, limits), Admitted)
            assert isinstance(admit(log, later - S, limits), Refused)


def test_an_instance_remembers_a_refusal_until_its_retry_time_and_no_longer() -> None:
    from maestro.call_limits import RecentRefusals

    refusals = RecentRefusals(max_users=2)
    verdict = admit([0] * 6, 10 * S, DEFAULT_LIMITS)
    assert isinstance(verdict, Refused) and verdict.retry_after_seconds == 50
    refusals.remember("u1", 10 * S, verdict)
    assert refusals.recall("u2", 10 * S) is None
    again = refusals.recall("u1", 30 * S)
    assert again == Refused(MINUTE, 30)  # what reading the log at 30 s would say
    assert again == admit([0] * 6, 30 * S, DEFAULT_LIMITS)
    assert refusals.recall("u1", 60 * S) is None  # at the retry time: ask Firestore again
    for uid in ("a", "b", "c"):
        refusals.remember(uid, 0, verdict)
    assert refusals.recall("a", 0) is None and refusals.recall("c", 0) is not None  # bounded
