"""A burst of concurrent trade closes: every user's weights end equal to an offline engine run
on that user's final journal, with no function errors. The size comes from MAESTRO_BURST_CLOSES
and MAESTRO_BURST_USERS (make test: 200 over 20; make stress: 1000 over 50)."""

from __future__ import annotations

import json
import os

from .burst import run_burst
from .harness import Suite

CLOSES = int(os.environ.get("MAESTRO_BURST_CLOSES", "200"))
USERS = int(os.environ.get("MAESTRO_BURST_USERS", "20"))


def test_a_burst_of_closes_ends_in_the_weights_of_the_final_journals(suite: Suite) -> None:
    assert CLOSES >= 200 and USERS >= 20
    report = run_burst(suite, CLOSES, USERS, timeout=60 + CLOSES * 0.5)
    print("\nburst figures:", json.dumps(report.summary()))
    assert report.mismatched_users == []
    assert report.stale_users == []
    assert report.function_errors == 0
    assert len(report.latencies_ms) == CLOSES
    assert sum(report.run_statuses.values()) >= CLOSES  # every close's trigger ran and logged
