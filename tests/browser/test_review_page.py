"""The review page in a real browser: lineage, schema diff, checks, a refreshed lineage.

Its start (progress, failures) is in test_review_startup.py."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.artifact_json import manifest
from tests.browser.conftest import (
    NO_PLAYWRIGHT,
    ORDERS,
    STG_ORDERS,
    read_json,
    review_project,
    stop,
    wait_for_review,
)
from tests.e2e.test_cli import Server

pytest.importorskip("playwright", reason=NO_PLAYWRIGHT)
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def open_node(page: Page, unique_id: str) -> None:
    """Click the node on the canvas, where the graph drew it."""
    position = page.evaluate("(id) => window.recce.screenPosition(id)", unique_id)
    assert position is not None, f"{unique_id} is not shown"
    page.mouse.click(position["x"], position["y"])
    expect(page.locator(f'.node-panel[data-node-id="{unique_id}"]')).to_be_visible()


def test_node_details_show_the_schema_diff(page: Page, served: Server) -> None:
    page.goto(served.url)
    wait_for_review(page)
    open_node(page, ORDERS)
    panel = page.locator(".node-panel")
    expect(panel.locator(".resource-type")).to_have_text("model")
    expect(panel.locator(".badge")).to_have_text("modified")
    expect(panel.locator(".changes")).to_contain_text("Code changed")
    rows = panel.locator("table.schema tbody tr")
    statuses = {
        rows.nth(i).get_attribute("data-column"): rows.nth(i).get_attribute("data-status")
        for i in range(rows.count())
    }
    assert statuses == {
        "id": "modified",
        "legacy": "removed",
        "amount": "unchanged",
        "discount": "added",
    }
    # Removed columns stay where they were in base.
    assert [rows.nth(i).get_attribute("data-column") for i in range(4)] == [
        "id",
        "legacy",
        "amount",
        "discount",
    ]
    id_row = panel.locator('tr[data-column="id"]')
    expect(id_row).to_contain_text("integer")
    expect(id_row).to_contain_text("bigint")


def test_switch_to_full_lineage_and_bad_selector_shown_inline(page: Page, served: Server) -> None:
    page.goto(served.url)
    wait_for_review(page)
    page.locator("label:has(#mode-all)").click()
    page.wait_for_function("window.recce.shownIds().includes('source.shop.raw.orders')")

    page.fill("#f-select", "nonsense_method:foo")
    page.click("#filters button[type=submit]")
    error = page.locator("#select-error")
    expect(error).to_be_visible()
    assert error.inner_text().strip()
    # The last good graph stays.
    assert ORDERS in page.evaluate("window.recce.shownIds()")

    page.fill("#f-select", "orders")
    page.click("#filters button[type=submit]")
    expect(error).to_be_hidden()
    page.wait_for_function(f"window.recce.shownIds().join() === '{ORDERS}'")


def test_checks_add_approve_rename_reorder_delete_are_saved(
    page: Page, served: Server, tmp_path: Path
) -> None:
    state_file = tmp_path / "recce_state.json"
    page.goto(served.url)
    wait_for_review(page)
    open_node(page, ORDERS)
    page.locator(".node-panel").get_by_role("button", name="Add schema diff check").click()
    items = page.locator("#checks-list .check-item")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("Schema diff of orders")
    panel = page.locator(".check-panel")
    expect(panel.locator('tr[data-column="discount"]')).to_have_attribute("data-status", "added")

    panel.locator("input.approve").check()
    expect(items.first).to_have_class("check-item open approved")
    panel.locator("input.check-title").fill("orders keeps its columns")
    panel.locator("input.check-title").press("Enter")
    expect(items.first).to_contain_text("orders keeps its columns")
    panel.get_by_role("button", name="Add a description").click()
    panel.locator("textarea.check-description").fill("discount is **new** on purpose")
    panel.get_by_role("button", name="Save").click()
    # Rendered as Markdown once saved.
    expect(panel.locator(".description .markdown strong")).to_have_text("new")

    page.click("#add-lineage-check")
    expect(items).to_have_count(2)
    expect(items.nth(1)).to_contain_text("Lineage diff")
    items.nth(1).locator("button.up").click()
    expect(items.first).to_contain_text("Lineage diff")

    checks = httpx.get(f"{served.url}/api/checks").json()
    assert [c["type"] for c in checks] == ["lineage_diff", "schema_diff"]
    schema = checks[1]
    assert schema["params"] == {"node_id": [ORDERS]}
    assert schema["is_checked"] is True
    assert schema["name"] == "orders keeps its columns"
    assert schema["description"] == "discount is **new** on purpose"
    assert checks[0]["params"]["view_mode"] == "changed_models"

    # Saved to the state file in the background, as Recce does after each check edit.
    deadline = time.monotonic() + 10
    saved: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        if state_file.exists():
            saved = read_json(state_file).get("checks", [])
            if any(c.get("is_checked") for c in saved) and len(saved) == 2:
                break
        time.sleep(0.1)
    assert [c["name"] for c in saved] == [checks[0]["name"], "orders keeps its columns"]
    assert saved[1]["is_checked"] is True

    items.first.click()
    page.click(".check-panel button.delete")
    expect(items).to_have_count(1)
    assert [c["type"] for c in httpx.get(f"{served.url}/api/checks").json()] == ["schema_diff"]


def test_one_schema_diff_check_for_several_nodes(page: Page, served: Server) -> None:
    page.goto(served.url)
    wait_for_review(page)
    expect(page.locator("#pick-hint")).to_contain_text("Shift-click nodes to select several")
    expect(page.locator("#pick-chosen")).to_be_hidden()

    # One node by shift-click on the canvas, the other with the panel's checkbox.
    position = page.evaluate("(id) => window.recce.screenPosition(id)", ORDERS)
    page.keyboard.down("Shift")
    page.mouse.click(position["x"], position["y"])
    page.keyboard.up("Shift")
    expect(page.locator(".node-panel input.pick")).to_be_checked()
    open_node(page, STG_ORDERS)
    page.locator(".node-panel").get_by_label("Select for a schema diff check of several").check()

    bar = page.locator("#pick-bar")
    expect(page.locator("#pick-hint")).to_be_hidden()
    expect(bar).to_contain_text("2 selected")
    expect(bar.locator(".chip")).to_have_text(["orders×", "stg_orders×"])
    page.click("text=Add schema diff check of 2 nodes")

    items = page.locator("#checks-list .check-item")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("Schema diff of orders, stg_orders")
    panel = page.locator(".check-panel")
    expect(panel.locator(".schema-diff")).to_have_count(2)
    expect(panel.locator('.schema-diff[data-node-id="model.shop.orders"]')).to_contain_text(
        "discount"
    )
    # The selection is cleared for the next check.
    expect(page.locator("#pick-hint")).to_be_visible()

    checks = httpx.get(f"{served.url}/api/checks").json()
    assert [c["type"] for c in checks] == ["schema_diff"]
    assert checks[0]["params"] == {"node_id": [ORDERS, STG_ORDERS]}


def test_picked_node_can_be_removed_from_the_selection(page: Page, served: Server) -> None:
    page.goto(served.url)
    wait_for_review(page)
    for uid in (ORDERS, STG_ORDERS):
        position = page.evaluate("(id) => window.recce.screenPosition(id)", uid)
        page.keyboard.down("Shift")
        page.mouse.click(position["x"], position["y"])
        page.keyboard.up("Shift")
    expect(page.locator("#pick-bar")).to_contain_text("2 selected")
    # A chip's close button takes a node out of the selection.
    page.locator('#pick-list .chip[data-node-id="model.shop.orders"] button').click()
    expect(page.locator("#pick-bar")).to_contain_text("1 selected")
    expect(page.locator(".node-panel input.pick")).to_be_checked()  # stg_orders is open
    page.click("#pick-add")
    expect(page.locator("#checks-list .check-item")).to_have_count(1)
    checks = httpx.get(f"{served.url}/api/checks").json()
    assert checks[0]["params"] == {"node_id": [STG_ORDERS]}
    assert checks[0]["name"] == "Schema diff of stg_orders"


def test_refresh_message_refetches_the_lineage(page: Page, tmp_path: Path) -> None:
    project = review_project(tmp_path / "project")
    server = Server(["server", "--port", "0", "--project-dir", str(project), "--watch"])
    try:
        page.goto(server.url)
        wait_for_review(page)
        expect(page.locator("#ws-status")).to_have_class("dot live")
        # dbt rewrites the current artifacts: stg_orders changes too.
        changed = manifest({"stg_orders": "select 10", "orders": "select 3"})
        target = project / "target" / "manifest.json"
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(changed))
        tmp.replace(target)
        page.wait_for_function("window.recce.app.metrics.refreshes >= 1", timeout=30_000)
        expect(page.locator("#summary")).to_contain_text("2 modified")
    finally:
        stop(server, page)
