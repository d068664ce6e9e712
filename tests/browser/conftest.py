"""Browser tier: Chromium (Playwright) on the dashboard served by the Hosting emulator, with the
rest of the emulator suite behind it; users and journal writes through tests/emulator's harness.
Run under `scripts/emulators exec` (make browser-test); nothing here is ever skipped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Error, Page

from tests.emulator.conftest import clean_emulators, suite  # noqa: F401 - the same fixtures

from .dashboard import chromium_path


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    # Playwright's bundled-browser channels cannot take a path: the executable itself.
    return {**browser_type_launch_args, "executable_path": chromium_path()}


@dataclass
class Console:
    """What the page reported as errors: console errors and uncaught exceptions. A flow that
    expects one (a request the server answers with an error status, which Chromium itself
    logs) says so with `expect`; anything else fails the test."""

    errors: list[str] = field(default_factory=list)
    expected: list[re.Pattern[str]] = field(default_factory=list)

    def expect(self, pattern: str) -> None:
        self.expected.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.expected)]


@pytest.fixture(autouse=True)
def console(page: Page) -> Iterator[Console]:
    log = Console()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            log.errors.append(f"console: {message.text} ({message.location.get('url', '')})")

    def on_page_error(error: Error) -> None:
        log.errors.append(f"uncaught: {error.message}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    yield log
    unexpected = log.unexpected()
    assert not unexpected, f"console errors: {unexpected}"
