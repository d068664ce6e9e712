"""The README's pictures of the dashboard (docs/images/dashboard-*.png), taken from the page the
Hosting emulator serves, on the sample journal: `make screenshots` runs it under the emulator
suite. The journal is written in four batches, as the days pass, so that the history has
versions to show; then a config change and an invalid one go through the form."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from playwright.sync_api import Page, ViewportSize, expect, sync_playwright

from maestro.journal_file import load_journal_file
from tests.emulator.harness import Suite, seed_journal

from .dashboard import CALLABLE_MS, ROOT, chromium_path, open_dashboard, sign_in

IMAGES = ROOT / "docs" / "images"
BATCHES = 4
DESKTOP = ViewportSize(width=1100, height=900)
PHONE = ViewportSize(width=390, height=844)
_LAST = dt.datetime.max.replace(tzinfo=dt.UTC)


def sample_batches() -> list[dict[str, dict[str, Any]]]:
    """The sample journal in order of closing (open trades last), cut into BATCHES."""
    entries = load_journal_file(ROOT / "examples" / "sample_journal.json")
    entries.sort(key=lambda entry: entry.data.get("closed_at") or _LAST)
    size = -(-len(entries) // BATCHES)
    return [
        {entry.trade_id: dict(entry.data) for entry in entries[start : start + size]}
        for start in range(0, len(entries), size)
    ]


def shoot(page: Page, name: str, selector: str | None = None) -> None:
    path = IMAGES / f"dashboard-{name}.png"
    if selector is None:
        page.screenshot(path=path)
    else:
        page.locator(selector).screenshot(path=path)
    print(f"wrote {path.relative_to(ROOT)}")


def main() -> int:
    suite = Suite()
    suite.clear()
    user = suite.create_user("trader")
    for batch in sample_batches():
        seed_journal(suite, user.uid, batch)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path())
        page = browser.new_page(viewport=DESKTOP)
        open_dashboard(page)
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        shoot(page, "sign-in")
        sign_in(page, user)
        expect(page.locator("#weights-ready")).to_be_visible()
        expect(page.locator("#history-ready")).to_be_visible()
        shoot(page, "weights")

        page.get_by_label("Floor weight").fill("0.1")
        page.get_by_role("button", name="Save and reweight").click()
        expect(page.locator("#config-status")).to_contain_text("Saved.", timeout=CALLABLE_MS)
        expect(page.locator("#history-list li").first).to_contain_text("config changed")
        shoot(page, "history", "#history-panel")

        page.get_by_label("Maximum weight").fill("0.2")
        page.get_by_role("button", name="Save and reweight").click()
        expect(page.locator("#config-max_weight-error")).to_be_visible(timeout=CALLABLE_MS)
        page.locator("#config-max_weight-error").scroll_into_view_if_needed()
        shoot(page, "config-error", "#config-panel")

        phone = browser.new_page(viewport=PHONE, device_scale_factor=2)
        sign_in(phone, user)
        expect(phone.locator("#weights-ready")).to_be_visible()
        shoot(phone, "phone")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
