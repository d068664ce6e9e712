"""The dashboard's flows, each asserting what a person sees (issue 11, "Tests in a real
browser"). The platform's server writes the journal through the Admin client, as in
tests/emulator; the page only reads Firestore (rules apply) and calls the callable."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.emulator.harness import Suite, base_journal, seed_journal, trade

from .conftest import Console
from .dashboard import (
    AGENTS,
    CALLABLE_MS,
    PASSWORD,
    expect_weights,
    open_dashboard,
    percent,
    sign_in,
    weights_update_time,
)


def test_sign_in_and_out(suite: Suite, page: Page) -> None:
    user = suite.create_user("dash")
    open_dashboard(page)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("#loading")).to_be_hidden()
    expect(page.locator("#dashboard")).to_be_hidden()

    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#account-email")).to_have_text(user.email)
    expect(page.get_by_role("heading", name="Weights")).to_be_visible()
    expect(page.get_by_role("heading", name="Sign in")).to_be_hidden()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("#dashboard")).to_be_hidden()
    expect(page.locator("#account")).to_be_hidden()


def test_empty_journal(suite: Suite, page: Page) -> None:
    user = suite.create_user("empty")
    # An open trade is not a close: still nothing to weigh.
    suite.journal(user.uid).document("open1").set(trade("WhaleFlowAgent", 1, "0", closed=False))
    sign_in(page, user)
    expect(page.get_by_text("No closed trades yet")).to_be_visible()
    expect(page.locator("#weights-table")).to_be_hidden()
    expect(page.locator("#weights-loading")).to_be_hidden()
    assert suite.weights_doc(user.uid) is None


def test_closing_trades_update_the_chart_and_table_live(suite: Suite, page: Page) -> None:
    user = suite.create_user("live")
    sign_in(page, user)
    expect(page.get_by_text("No closed trades yet")).to_be_visible()
    page.evaluate("window.__sameDocument = true")  # gone if the page reloaded

    document = seed_journal(suite, user.uid, base_journal())
    assert document is not None
    expect_weights(page, document)
    expect(page.get_by_text("No closed trades yet")).to_be_hidden()
    whale = page.locator('#weights-table tr[data-agent="WhaleFlowAgent"]')
    expect(whale.locator('[data-column="status"]')).to_have_text("scored")
    expect(whale.locator('[data-column="trades"]')).to_have_text("3 / 0 *")
    expect(page.get_by_text("* thin evidence")).to_be_visible()
    expect(page.locator("#as-of")).to_contain_text("UTC")

    # More closes: SectorRotation starts earning; the same page follows without a reload.
    more = {f"r{i}": trade("SectorRotation", 10 + i, pnl) for i, pnl in enumerate(["9", "7", "8"])}
    before = document["weights"]
    later = seed_journal(suite, user.uid, more)
    assert later is not None and later["weights"] != before
    expect_weights(page, later)
    assert page.evaluate("window.__sameDocument === true")


def test_a_config_change_reweights(suite: Suite, page: Page) -> None:
    user = suite.create_user("config")
    document = seed_journal(suite, user.uid, base_journal())
    assert document is not None
    sign_in(page, user)
    expect_weights(page, document)
    floor = page.get_by_label("Floor weight")
    expect(floor).to_have_value("0.05")  # the effective config, as the document has it

    floor.fill("0.1")
    page.get_by_role("button", name="Save and reweight").click()
    expect(page.locator("#config-status")).to_have_text(
        "Saved. The weights were recomputed with this config.", timeout=CALLABLE_MS
    )
    reweighted = suite.wait_for_weights(
        user.uid, lambda doc: doc["config"]["min_floor_weight"] == "0.1"
    )
    assert reweighted["weights"] != document["weights"]
    expect_weights(page, reweighted)
    # The one performer keeps what the three floors leave: 1 - 3 x 0.1.
    expect(page.locator('tr[data-agent="WhaleFlowAgent"] td').first).to_have_text("70.00%")
    expect(floor).to_have_value("0.1")
    # The new weights' snapshot (before or after the callable's answer) leaves the answer shown.
    expect(page.locator("#config-status")).to_have_text(
        "Saved. The weights were recomputed with this config."
    )
    saved = suite.db.document(f"users/{user.uid}/maestro/config").get().to_dict()
    assert saved is not None and saved["min_floor_weight"] == "0.1"


def test_a_config_change_is_visible_in_history(suite: Suite, page: Page) -> None:
    """Needs the audit trail (users/{uid}/maestro/weights/history, readable by its owner)."""
    user = suite.create_user("history")
    document = seed_journal(suite, user.uid, base_journal())
    assert document is not None
    sign_in(page, user)
    expect_weights(page, document)
    newest = page.locator("#history-list li").first
    expect(newest).to_contain_text(
        f"WhaleFlowAgent {percent(document['weights']['WhaleFlowAgent'])}"
    )

    page.get_by_label("Floor weight").fill("0.1")
    page.get_by_role("button", name="Save and reweight").click()
    expect(page.locator("#config-status")).to_contain_text("Saved.", timeout=CALLABLE_MS)
    expect(newest).to_contain_text("config changed: min_floor_weight 0.05 \u2192 0.1")
    expect(newest).to_contain_text("WhaleFlowAgent 70.00%")
    versions = page.locator("#history-list li").count()
    assert versions >= 2
    expect(page.locator("#history-chart")).to_have_attribute(
        "aria-label", re.compile(rf"^Weights over time, stacked: {versions} versions from ")
    )


def test_an_invalid_config_names_its_field_and_changes_nothing(
    suite: Suite, page: Page, console: Console
) -> None:
    # The callable answers 400 (INVALID_ARGUMENT), which Chromium logs as a failed resource.
    console.expect(r"status of 400 .*calculate_agent_weights")
    user = suite.create_user("invalid")
    document = seed_journal(suite, user.uid, base_journal())
    assert document is not None
    written = weights_update_time(suite, user.uid)
    sign_in(page, user)
    expect_weights(page, document)

    page.get_by_label("Maximum weight").fill("0.1")
    page.get_by_role("button", name="Save and reweight").click()
    error = page.locator("#config-max_weight-error")
    expect(error).to_be_visible(timeout=CALLABLE_MS)
    expect(error).to_have_text(
        "config.max_weight: 0.1 x 4 agents is less than 1: the weights could not add up to 1"
    )
    expect(page.get_by_label("Maximum weight")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#config-status")).to_contain_text("Not saved")

    page.get_by_label("Maximum weight").fill("")
    page.get_by_label("Lookback (trades)").fill("1")
    page.get_by_role("button", name="Save and reweight").click()
    expect(page.locator("#config-lookback_trades-error")).to_have_text(
        "config.lookback_trades: must be from 2 to 1000, got 1", timeout=CALLABLE_MS
    )
    expect(error).to_be_hidden()

    # Nothing saved, nothing recomputed; the page still shows the same weights.
    assert not suite.db.document(f"users/{user.uid}/maestro/config").get().exists
    assert weights_update_time(suite, user.uid) == written
    expect_weights(page, document)


def test_another_users_weights_are_never_shown(suite: Suite, page: Page) -> None:
    owner = suite.create_user("owner")
    other = suite.create_user("other")
    theirs = seed_journal(suite, owner.uid, base_journal())
    assert theirs is not None
    # The rules deny it (a direct read with the other user's token)...
    denied = suite.rest("GET", f"users/{owner.uid}/maestro/weights", other.id_token)
    assert denied.status_code == 403
    # ...and the page says so, showing none of the owner's weights.
    sign_in(page, other, f"?user={owner.uid}")
    expect(page.get_by_text("These weights are not yours to see")).to_be_visible()
    expect(page.locator("#weights-denied-detail")).to_contain_text(owner.uid)
    expect(page.locator("#weights-table")).to_be_hidden()
    expect(page.locator("#weights-table tbody tr")).to_have_count(0)
    expect(page.locator("#config-panel")).to_be_hidden()
    expect(page.locator("#history-panel")).to_be_hidden()
    body = page.locator("body").inner_text()
    for agent in AGENTS:
        assert agent not in body
    for weight in theirs["weights"].values():
        assert percent(weight) not in body


def test_stale_exposure_and_warnings_are_shown(suite: Suite, page: Page) -> None:
    user = suite.create_user("stale")
    document = seed_journal(suite, user.uid, base_journal())
    assert document is not None
    sign_in(page, user)
    expect_weights(page, document)
    expect(page.locator("#stale")).to_be_hidden()
    expect(page.locator("#warnings")).to_be_hidden()
    # What the functions write after a failed run, and with a target_volatility (README).
    suite.db.document(f"users/{user.uid}/maestro/weights").update(
        {
            "stale": True,
            "stale_reason": "trigger run failed",
            "warnings": ["no agent is performing"],
            "exposure": "0.8525",
        }
    )
    expect(page.locator("#stale")).to_contain_text("Stale: a later run failed")
    expect(page.locator("#stale")).to_contain_text("trigger run failed")
    expect(page.locator("#warnings")).to_have_text("Warning: no agent is performing")
    expect(page.locator("#exposure")).to_have_text("85.25% of the capital")


def test_offline_and_back(suite: Suite, page: Page, console: Console) -> None:
    # Offline, Chromium logs the requests it cannot send.
    console.expect(r"ERR_INTERNET_DISCONNECTED|ERR_NETWORK_CHANGED")
    user = suite.create_user("offline")
    document = seed_journal(suite, user.uid, base_journal())
    assert document is not None
    sign_in(page, user)
    expect_weights(page, document)
    expect(page.locator("#offline")).to_be_hidden()
    page.context.set_offline(True)
    expect(page.locator("#offline")).to_contain_text("You are offline")
    expect_weights(page, document)  # the last weights received stay
    page.context.set_offline(False)
    expect(page.locator("#offline")).to_be_hidden()


def test_a_phone_width(suite: Suite, page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    user = suite.create_user("phone")
    document = seed_journal(suite, user.uid, base_journal())
    assert document is not None
    sign_in(page, user)
    expect_weights(page, document)
    # Nothing wider than the screen: no sideways scrolling of the page.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    whale = page.locator('tr[data-agent="WhaleFlowAgent"]')
    expect(whale.locator('[data-column="weight"]')).to_be_visible()
    box = whale.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390
