"""Emulator tier: every test talks to the running emulator suite over the wire."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .harness import Suite


@pytest.fixture(scope="session")
def suite() -> Suite:
    return Suite()  # raises (the run fails, nothing is skipped) when the suite is not running


@pytest.fixture(autouse=True)
def clean_emulators(suite: Suite) -> Iterator[None]:
    suite.clear()
    yield
