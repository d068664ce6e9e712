"""The dashboard as a person uses it, for the browser tests and the README's screenshots: where
the Hosting emulator serves it, signing in, and what the page shows, worked out from the stored
documents the way the page must show them."""

from __future__ import annotations

import json
import os
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.emulator.harness import Suite, User

ROOT = Path(__file__).resolve().parents[2]
_HOSTING = json.loads((ROOT / "firebase.json").read_text())["emulators"]["hosting"]
DASHBOARD_URL = f"http://{_HOSTING['host']}:{_HOSTING['port']}/"
# Suite.create_user gives every test user this password (tests/emulator/harness.py).
PASSWORD = "correct-horse-9"
AGENTS = ("WhaleFlowAgent", "SentimentAgent", "GammaScalper", "SectorRotation")
# How long the page may wait for the callable's answer: a function's first call on the emulator
# starts its Python worker (seconds), and a config save rebuilds from the journal.
CALLABLE_MS = 30_000


def chromium_path() -> str:
    """The Chromium the tests drive: Debian's (make setup-browser installs it), or
    MAESTRO_CHROMIUM. Missing, the run fails saying so: a browser test is never skipped."""
    path = os.environ.get("MAESTRO_CHROMIUM", "/usr/bin/chromium")
    if not os.access(path, os.X_OK):
        raise RuntimeError(
            f"the browser tests need Chromium at {path}, which is missing: run `make "
            "setup-browser` (as root it installs Debian's chromium with apt-get), or point to "
            "another: `CHROMIUM=/path/to/chromium make test` (MAESTRO_CHROMIUM for pytest alone)"
        )
    return path


def percent(weight: str) -> str:
    """A weight (decimal string) as the page shows it: a percentage, two places, half up."""
    shown = (Decimal(weight) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{shown}%"


def open_dashboard(page: Page, query: str = "") -> None:
    page.goto(DASHBOARD_URL + query)


def sign_in(page: Page, user: User, query: str = "") -> None:
    """Open the page signed out, sign in with email and password, and wait for the dashboard."""
    open_dashboard(page, query)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#account-email")).to_have_text(user.email)


def shown_weights(page: Page) -> dict[str, str]:
    """The weights table as it reads: agent -> the weight shown."""
    rows = page.locator("#weights-table tbody tr")
    return {
        rows.nth(i).locator("th").inner_text(): rows.nth(i).locator("td").first.inner_text()
        for i in range(rows.count())
    }


def expected_weights(document: dict[str, Any]) -> dict[str, str]:
    return {agent: percent(weight) for agent, weight in document["weights"].items()}


def expect_weights(page: Page, document: dict[str, Any]) -> None:
    """The table and the chart show exactly the document's weights (the chart's accessible
    label lists them, in the same order)."""
    expected = expected_weights(document)
    order = [a for a in document["config"]["agent_ids"] if a in expected]
    expected = {agent: expected[agent] for agent in order + sorted(set(expected) - set(order))}
    rows = page.locator("#weights-table tbody tr")
    expect(rows).to_have_count(len(expected))
    for agent, shown in expected.items():
        expect(
            rows.filter(has=page.locator(f'th:text-is("{agent}")')).locator("td").first
        ).to_have_text(shown)
    label = ", ".join(f"{agent} {shown}" for agent, shown in expected.items())
    expect(page.locator("#weights-chart")).to_have_attribute(
        "aria-label", f"Weights by agent: {label}"
    )


def weights_update_time(suite: Suite, uid: str) -> Any:
    snapshot = suite.db.document(f"users/{uid}/maestro/weights").get()
    return snapshot.update_time if snapshot.exists else None
