"""Column-level lineage and impact radius on the review page, on the bundled demo, in Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.conftest import NO_PLAYWRIGHT, stop, wait_for_review
from tests.e2e.test_cli import Server

pytest.importorskip("playwright", reason=NO_PLAYWRIGHT)
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

P = "model.oracle_shop."


@pytest.fixture
def demo(page: Page) -> Iterator[Server]:
    server = Server(["server", "--demo", "--port", "0", "--no-watch"])
    yield server
    stop(server, page)


def assert_apart(page: Page, a: str, b: str) -> None:
    """Both are shown and neither covers any part of the other."""
    one, two = page.locator(a).bounding_box(), page.locator(b).bounding_box()
    assert one is not None and two is not None, (a, b)
    overlap_x = min(one["x"] + one["width"], two["x"] + two["width"]) - max(one["x"], two["x"])
    overlap_y = min(one["y"] + one["height"], two["y"] + two["height"]) - max(one["y"], two["y"])
    assert overlap_x <= 0 or overlap_y <= 0, f"{a} {one} covers {b} {two}"


def test_click_a_column_to_see_its_lineage_across_models(page: Page, demo: Server) -> None:
    page.goto(f"{demo.url}/?node={P}orders")
    wait_for_review(page)
    columns = page.locator(".node-panel .cll-section .cll-column")
    expect(columns.filter(has_text="amount")).to_be_visible()
    columns.filter(has_text="amount").click()

    panel = page.locator("#cll-panel")
    expect(panel.locator("h3")).to_have_text("orders.amount")
    up = panel.locator(".cll-up .cll-model")
    down = panel.locator(".cll-down .cll-model")
    # upstream: the payments it sums; downstream: the revenue and each customer's value
    expect(up.filter(has_text="int_order_payments")).to_contain_text("amount")
    expect(up.filter(has_text="stg_payments")).to_be_visible()
    expect(down.filter(has_text="order_revenue")).to_contain_text("revenue")
    expect(down.filter(has_text="customers").first).to_contain_text("lifetime_value")
    expect(down.filter(has_text="daily_orders")).to_have_count(0)  # counts orders, not amounts
    # The panel sits in the graph's corner, clear of the find box and the zoom buttons, which
    # still work while it is open.
    assert_apart(page, "#cll-panel", "#graph-tools")
    page.fill("#find", "order_revenue")
    page.press("#find", "Enter")
    expect(page.locator(f'.node-panel[data-node-id="{P}order_revenue"]')).to_be_visible()
    expect(panel.locator("h3")).to_have_text("orders.amount")
    assert_apart(page, "#cll-panel", "#graph-tools")
    # the models involved are ringed in the graph
    ringed = page.locator("#graph").get_attribute("data-highlighted") or ""
    assert f"{P}order_revenue" in ringed.split() and f"{P}int_order_payments" in ringed.split()

    # follow the lineage: click a downstream column
    down.filter(has_text="order_revenue").get_by_text("revenue", exact=True).click()
    expect(panel.locator("h3")).to_have_text("order_revenue.revenue")
    expect(panel.locator(".cll-up .cll-model").filter(has_text="orders").first).to_be_visible()

    panel.locator(".close").click()
    expect(panel).to_be_hidden()
    assert page.locator("#graph").get_attribute("data-highlighted") == ""


def test_impact_radius_and_category_badges(page: Page, demo: Server) -> None:
    page.goto(demo.url)
    wait_for_review(page)
    # The categories come after ready (change analysis in the background) and a refresh.
    item = page.locator(f'.changed-item[data-node-id="{P}orders"]')
    expect(item.locator(".badge.category")).to_have_text("partial breaking", timeout=30_000)
    seed = page.locator('.changed-item[data-node-id="seed.oracle_shop.raw_orders"]')
    expect(seed.locator(".badge.category")).to_be_visible()

    page.locator("#impact-radius").click()
    panel = page.locator("#cll-panel")
    expect(panel.locator("h3")).to_have_text("Impact radius")
    rows = panel.locator(".cll-impact .cll-model")
    expect(rows.filter(has_text="order_revenue")).to_contain_text("revenue")
    orders = rows.filter(has=page.locator(".cll-model-name", has_text="orders")).filter(
        has_text="partial breaking"
    )
    expect(orders).to_contain_text("amount")
    expect(rows.filter(has_text="customer_segments")).to_contain_text("lifetime_value")
    expect(rows.filter(has_text="daily_orders")).to_have_count(0)
    ringed = (page.locator("#graph").get_attribute("data-highlighted") or "").split()
    assert f"{P}order_revenue" in ringed and f"{P}daily_orders" not in ringed
    # Grouped by folder, the folders that hold the impacted nodes are ringed.
    page.click("#group-folders")
    page.wait_for_function("() => window.recce.graph.nodes.every((n) => n.group)")
    folders = page.evaluate(
        "(ids) => ids.map((id) => 'folder:' + window.recce.app.lineage.nodes[id].folder)", ringed
    )
    drawn = (page.locator("#graph").get_attribute("data-ringed") or "").split()
    assert sorted(drawn) == sorted(set(folders)) and drawn
