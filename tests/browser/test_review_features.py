"""The reviewer's tools in a real browser: deep links, the check and run views, the keyboard,
and a 5,000-model project."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import (
    NO_PLAYWRIGHT,
    ORDERS,
    STG_ORDERS,
    open_panel,
    stop,
    wait_for_review,
)
from tests.e2e.test_cli import Server

pytest.importorskip("playwright", reason=NO_PLAYWRIGHT)
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_deep_link_restores_the_view_after_reload_and_history(page: Page, served: Server) -> None:
    page.goto(served.url)
    wait_for_review(page)
    page.evaluate("(id) => window.recce.select(id)", ORDERS)
    page.locator('.node-panel .tab[data-tab="code"]').click()
    page.locator(".diff-tools label", has_text="Side by side").first.click()
    page.fill("#f-select", "orders+")
    page.click("#filters button[type=submit]")
    page.wait_for_function(f"window.recce.shownIds().join() === '{ORDERS}'")
    link = page.url
    assert "select=orders%2B" in link and f"node={ORDERS}" in link

    page.reload()
    wait_for_review(page)
    expect(page.locator(f'.node-panel[data-node-id="{ORDERS}"]')).to_be_visible()
    expect(page.locator(".node-panel .tab.active")).to_have_text("Code")
    expect(page.locator('.code-diff[data-mode="split"]')).to_be_visible()
    expect(page.locator("#f-select")).to_have_value("orders+")
    assert page.evaluate("window.recce.shownIds()") == [ORDERS]

    # Back and forward walk through what was opened.
    page.fill("#f-select", "")
    page.click("#filters button[type=submit]")
    page.wait_for_function("window.recce.shownIds().length === 2")
    page.evaluate("(id) => window.recce.select(id)", STG_ORDERS)
    expect(page.locator(f'.node-panel[data-node-id="{STG_ORDERS}"]')).to_be_visible()
    page.go_back()
    expect(page.locator(f'.node-panel[data-node-id="{ORDERS}"]')).to_be_visible()
    page.go_forward()
    expect(page.locator(f'.node-panel[data-node-id="{STG_ORDERS}"]')).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#panel")).to_be_hidden()
    assert "node=" not in page.url

    # The nodes picked for a check of several are in the link too.
    open_panel(page, served.url, f"pick={ORDERS},{STG_ORDERS}&side=checks")
    expect(page.locator("#pick-bar")).to_contain_text("2 selected")
    expect(page.locator("#tab-checks")).to_have_class("tab active")


def test_check_view_shows_the_result_and_renders_the_description_safely(
    page: Page, served: Server
) -> None:
    open_panel(page, served.url, f"node={ORDERS}")
    page.locator(".node-panel").get_by_role("button", name="Add schema diff check").click()
    panel = page.locator(".check-panel")
    result = panel.locator('.run-result[data-type="schema_diff"]')
    expect(result.locator('tr[data-column="discount"]')).to_have_attribute("data-status", "added")
    expect(result.locator('tr[data-column="legacy"]')).to_have_attribute("data-status", "removed")
    expect(panel.locator(".params-list")).to_contain_text(ORDERS)
    expect(panel.locator(".last-run")).to_contain_text("Finished")

    panel.get_by_role("button", name="Add a description").click()
    panel.locator("textarea.check-description").fill(
        'Looks **fine**.\n\n- <img src=x onerror="window.pwned=1">\n- [bad](javascript:alert(1))'
        " and [docs](https://docs.getdbt.com)"
    )
    panel.get_by_role("button", name="Save").click()
    rendered = panel.locator(".description .markdown")
    expect(rendered.locator("strong")).to_have_text("fine")
    expect(rendered.locator("li").first).to_have_text('<img src=x onerror="window.pwned=1">')
    expect(rendered.locator("img")).to_have_count(0)
    expect(rendered.locator("a")).to_have_count(1)
    expect(rendered.locator("a")).to_have_attribute("href", "https://docs.getdbt.com")
    assert page.evaluate("window.pwned") is None

    # Rerun: the earlier run moves under "Earlier runs"; a deep link opens the check.
    panel.locator("button.rerun").click()
    expect(panel.locator(".earlier-runs summary")).to_have_text("Earlier runs (1)")
    check_id = panel.get_attribute("data-check-id")
    assert f"check={check_id}" in page.url
    page.reload()
    wait_for_review(page)
    expect(page.locator(f'.check-panel[data-check-id="{check_id}"]')).to_be_visible()
    expect(page.locator("#tab-checks")).to_have_class("tab active")


def test_runs_panel_lists_runs_and_opens_one(page: Page, served: Server) -> None:
    page.goto(served.url)
    wait_for_review(page)
    page.click("#add-lineage-check")
    expect(page.locator('.check-panel .run-result[data-type="lineage_diff"]')).to_contain_text(
        "1 changed"
    )
    page.click("#tab-runs")
    items = page.locator("#runs-list .run-item")
    expect(items).to_have_count(1)
    item = items.first
    expect(item).to_have_attribute("data-status", "finished")
    expect(item).to_contain_text("Lineage diff")
    expect(item.locator(".duration")).not_to_have_text("—")  # this page watched it end
    item.click()
    run = page.locator(".run-panel")
    expect(run.locator(".run-state")).to_have_text("Finished")
    expect(run.locator('.run-result[data-type="lineage_diff"]')).to_contain_text("orders")
    run_id = run.get_attribute("data-run-id")
    assert f"run={run_id}" in page.url
    httpx.post(
        f"{served.url}/api/runs", json={"type": "schema_diff", "params": {"node_id": [ORDERS]}}
    ).raise_for_status()
    # A run made elsewhere (here through the API) shows in the open Runs tab by itself.
    expect(page.locator("#runs-list .run-item")).to_have_count(2)
    page.reload()
    wait_for_review(page)
    expect(page.locator("#runs-list .run-item")).to_have_count(2)
    expect(page.locator(".run-panel")).to_have_attribute("data-run-id", run_id or "")
    # After the reload this page watched neither run: both show the duration the server kept.
    for run_listed in httpx.get(f"{served.url}/api/runs").json():
        shown = page.locator(f'#runs-list .run-item[data-run-id="{run_listed["run_id"]}"]')
        expect(shown.locator(".duration")).to_have_text(re.compile(r"^\d+ ms$|^\d+\.\d s$"))
        assert run_listed["duration"] >= 0


def test_a_running_run_opened_from_the_runs_tab_shows_progress_and_cancels(page: Page) -> None:
    server = Server(["server", "--demo", "--port", "0", "--no-watch"])
    try:
        page.goto(f"{server.url}/?side=runs")
        wait_for_review(page)
        # A query that would run for hours, started elsewhere (here through the API).
        endless = "select count(*) from range(100000000000) a, range(100000000000) b"
        run_id = httpx.post(
            f"{server.url}/api/runs",
            json={"type": "query", "params": {"sql_template": endless}, "nowait": True},
        ).json()["run_id"]
        item = page.locator(f'#runs-list .run-item[data-run-id="{run_id}"]')
        expect(item).to_have_attribute("data-status", "running")
        item.click()
        run = page.locator(f'.run-panel[data-run-id="{run_id}"]')
        expect(run.locator(".run-state")).to_have_text("Running")
        expect(run.locator(".run-progress progress")).to_be_visible()
        run.locator(".run-progress").get_by_role("button", name="Cancel").click()
        expect(run.locator(".run-state")).to_have_text("Cancelled")
        expect(run.locator(".run-progress")).to_have_count(0)
        expect(item).to_have_attribute("data-status", "cancelled")
        status = httpx.get(f"{server.url}/api/runs/{run_id}/wait?timeout=0").json()["status"]
        assert status == "Cancelled"
    finally:
        stop(server, page)


def test_keyboard_slash_arrows_and_escape(page: Page) -> None:
    server = Server(["server", "--demo", "--port", "0", "--no-watch"])
    try:
        page.goto(server.url)
        wait_for_review(page)
        rows = page.locator("#changed-list .changed-item")
        expect(rows.nth(2)).to_be_visible()
        first, second, third = (rows.nth(i).get_attribute("data-node-id") for i in range(3))
        panel = page.locator(".node-panel")

        # From the page: ↓ opens the first changed node, ↓ the next, ↑ goes back.
        page.locator("#graph").click(position={"x": 5, "y": 5})
        page.keyboard.press("ArrowDown")
        expect(panel).to_have_attribute("data-node-id", first or "")
        expect(rows.first).to_have_class(re.compile(r"\bactive\b"))
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        expect(panel).to_have_attribute("data-node-id", third or "")
        expect(rows.nth(2)).to_have_attribute("aria-selected", "true")
        page.keyboard.press("ArrowUp")
        expect(panel).to_have_attribute("data-node-id", second or "")
        assert f"node={second}" in page.url

        # Esc closes the panel.
        page.keyboard.press("Escape")
        expect(page.locator("#panel")).to_be_hidden()

        # `/` focuses the search, even from another tab; the arrows then move through the matches.
        page.click("#tab-checks")
        page.locator("#graph").click(position={"x": 5, "y": 5})
        page.keyboard.press("/")
        search = page.locator("#list-search")
        expect(search).to_be_focused()
        expect(page.locator("#side-changed")).to_be_visible()
        expect(search).to_have_value("")  # the slash is not typed into it
        page.keyboard.type("customer")
        expect(rows.first).to_contain_text("customer")
        match = rows.first.get_attribute("data-node-id")
        page.keyboard.press("ArrowDown")
        expect(panel).to_have_attribute("data-node-id", match or "")
        # Esc from the search box closes the panel too, and the search keeps its text.
        page.keyboard.press("Escape")
        expect(page.locator("#panel")).to_be_hidden()
        expect(search).to_have_value("customer")
    finally:
        stop(server, page)


# ---- a big project ----


def test_big_project_first_view_is_readable_and_the_list_finds_a_model(
    page: Page, big_project: tuple[Path, dict[str, Any]]
) -> None:
    root, summary = big_project
    server = Server(["server", "--port", "0", "--project-dir", str(root), "--no-watch"])
    try:
        page.goto(server.url)
        # The first view settled: drawn, the server's selection answered (the view drawn
        # from the lineage kept, or replaced and drawn again), and the list shown.
        page.wait_for_function(
            """(() => {
              const m = window.recce?.app?.metrics;
              return m?.nodes > 1000 && m.provisional !== "drawn" && m.listAt > 0
                && window.recce.graph.nodes.length === window.recce.shownIds().length;
            })()""",
            timeout=120_000,
        )
        # Legible labels from the start, centred on the change with the most downstream.
        assert page.evaluate("window.recce.app.metrics.legible")
        top = page.locator("#changed-list .changed-item").first.get_attribute("data-node-id")
        position = page.evaluate("(id) => window.recce.screenPosition(id)", top)
        box = page.locator("#graph").bounding_box()
        assert box is not None and position is not None
        assert box["x"] < position["x"] < box["x"] + box["width"]
        assert box["y"] < position["y"] < box["y"] + box["height"]

        # `/` focuses the search; the list narrows to the model; ↓ opens it; Esc closes it.
        wanted = summary["modified"]["raw_code"][0]
        name = page.evaluate("(id) => window.recce.app.lineage.nodes[id].name", wanted)
        page.locator("#graph").click(position={"x": 5, "y": 5})
        page.keyboard.press("/")
        expect(page.locator("#list-search")).to_be_focused()
        page.keyboard.type(name)
        rows = page.locator("#changed-list .changed-item")
        expect(rows.first).to_have_attribute("data-node-id", wanted)
        page.keyboard.press("ArrowDown")
        expect(page.locator(f'.node-panel[data-node-id="{wanted}"]')).to_be_visible()
        # (Its details come from the server, which maps the column lineage meanwhile.)
        expect(page.locator(".node-panel .changes")).to_contain_text("Code changed", timeout=30_000)
        page.keyboard.press("Escape")
        expect(page.locator("#panel")).to_be_hidden()

        # Sorted by impact: the downstream counts never increase down the list.
        page.fill("#list-search", "")
        expect(rows.nth(49)).to_be_visible()
        impacts = rows.evaluate_all(
            "(rows) => rows.slice(0, 50).map((r) => Number(r.querySelector('.impact')"
            ".textContent.slice(1)))"
        )
        assert impacts == sorted(impacts, reverse=True) and impacts[0] > 0
    finally:
        stop(server, page)
