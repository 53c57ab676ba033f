"""The reviewer's tools in a real browser: code diff, check and run views, deep links, keyboard,
and a 5,000-model project."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.artifact_json import catalog, manifest, write_project
from tests.browser.conftest import NO_PLAYWRIGHT
from tests.browser.test_review_page import ORDERS, STG_ORDERS, served, stop, wait_for_review
from tests.e2e.test_cli import Server

pytest.importorskip("playwright", reason=NO_PLAYWRIGHT)
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser
__all__ = ["served"]  # the fixture, shared with test_review_page

SQL_LINES = [f"    col_{i} as column_{i}," for i in range(40)]


def long_sql(changed_line: str) -> str:
    lines = ["select", *SQL_LINES[:20], changed_line, *SQL_LINES[20:], "    1 as one", "from x"]
    return "\n".join(lines)


@pytest.fixture
def long_code(tmp_path: Path, page: Page) -> Iterator[Server]:
    """orders has 44 lines; one of them changed in the middle."""
    project = write_project(
        tmp_path / "project",
        base=manifest({"stg_orders": "select 1", "orders": long_sql("    amount as total,")}),
        current=manifest(
            {"stg_orders": "select 1", "orders": long_sql("    amount * 100 as total,")}
        ),
        base_catalog=catalog({"model.shop.orders": {"id": "integer"}}),
        current_catalog=catalog({"model.shop.orders": {"id": "integer"}}),
    )
    server = Server(["server", "--port", "0", "--project-dir", str(project), "--no-watch"])
    yield server
    stop(server, page)


def open_panel(page: Page, url: str, query: str) -> None:
    page.goto(f"{url}/?{query}")
    wait_for_review(page)


def test_code_diff_unified_and_side_by_side(page: Page, long_code: Server) -> None:
    open_panel(page, long_code.url, f"node={ORDERS}")
    page.locator('.node-panel .tab[data-tab="code"]').click()
    diff = page.locator(".code-diff")
    expect(diff).to_have_attribute("data-mode", "unified")
    # The changed line, removed and added, with the changed words marked.
    expect(diff.locator("tr.line.del")).to_have_count(1)
    expect(diff.locator("tr.line.add")).to_contain_text("amount * 100 as total")
    expect(diff.locator("tr.line.add ins.w")).to_contain_text("* 100")
    # 3 lines of context each side; the rest is collapsed behind buttons.
    expect(diff.locator("tr.line.eq")).to_have_count(6)
    expanders = diff.locator("button.expand")
    expect(expanders).to_have_count(2)
    expect(expanders.first).to_have_text("⋯ Show 18 unchanged lines")
    expanders.first.click()
    expect(diff.locator("tr.line.eq")).to_have_count(24)

    page.locator(".diff-tools label", has_text="Side by side").first.click()
    split = page.locator('.code-diff[data-mode="split"]')
    expect(split.locator("td.code.del")).to_contain_text("amount as total")
    expect(split.locator("td.code.add")).to_contain_text("amount * 100 as total")
    # Both sides on one row.
    row = split.locator("tr.line.pair")
    expect(row).to_have_count(1)
    expect(row.locator("del.w")).to_have_count(0)  # nothing was removed within the line
    assert "diff=split" in page.url and "tab=code" in page.url


def test_compiled_code_and_config_diffs(page: Page, tmp_path: Path) -> None:
    sides = []
    for where, materialized in (("", "view"), (" where 1 = 1", "table")):
        side = manifest(
            {
                "stg_orders": "select 1",
                "orders": f"select * from {{{{ ref('stg_orders') }}}}{where}",
            }
        )
        orders = side["nodes"][ORDERS]
        orders["compiled_code"] = f"select * from db.main.stg_orders{where}"
        orders["config"]["materialized"] = materialized
        orders["unrendered_config"] = {"materialized": materialized, "tags": ["nightly"]}
        sides.append(side)
    project = write_project(tmp_path / "project", base=sides[0], current=sides[1])
    server = Server(["server", "--port", "0", "--project-dir", str(project), "--no-watch"])
    try:
        # A link to the compiled code opens it.
        open_panel(page, server.url, f"node={ORDERS}&tab=code&code=compiled")
        diff = page.locator(".code-tab .code-diff")
        expect(page.locator('input[name="code-side"][value="compiled"]')).to_be_checked()
        expect(diff.locator("tr.line.add")).to_have_text(
            re.compile(r"select \* from db\.main\.stg_orders where 1 = 1")
        )
        expect(diff.locator("tr.line.add ins.w")).to_contain_text("where")
        page.locator(".diff-tools label", has_text="Raw").click()
        expect(diff.locator("tr.line.add")).to_contain_text("{{ ref('stg_orders') }} where 1 = 1")
        assert "code=compiled" not in page.url

        # The config as written (unrendered_config): only what changed is marked.
        expect(page.locator(".node-panel .changes")).to_contain_text("Config changed.")
        expect(page.locator(".node-panel .changes")).to_contain_text("Materialized: view → table.")
        page.locator('.node-panel .tab[data-tab="config"]').click()
        config = page.locator(".config-tab .code-diff")
        expect(config.locator("tr.line.del")).to_contain_text('"view"')
        expect(config.locator("tr.line.add")).to_contain_text('"table"')
        expect(config.locator("tr.line.eq")).to_contain_text(['"nightly"'])
        assert "tab=config" in page.url
    finally:
        stop(server, page)


def test_seed_code_and_the_changed_list_sorted_by_kind_and_name(page: Page) -> None:
    server = Server(["server", "--demo", "--port", "0", "--no-watch"])
    try:
        # A seed's rows are not in the manifest: its Code tab says whether its file changed.
        open_panel(page, server.url, "node=seed.oracle_shop.raw_orders&tab=code")
        expect(page.locator(".code-tab")).to_contain_text("The seed's file changed")
        # A source has no code; a snapshot's is diffed like a model's.
        open_panel(page, server.url, "node=source.oracle_shop.shop.orders&tab=code")
        expect(page.locator(".code-tab")).to_have_text(
            "A source has no code in the manifest; see Config."
        )
        open_panel(page, server.url, "node=snapshot.oracle_shop.customers_snapshot&tab=code")
        expect(page.locator(".code-tab .no-change")).to_have_text("No change in the raw code.")
        expect(page.locator(".code-tab .code-diff button.expand")).to_contain_text(
            "unchanged lines"
        )

        rows = page.locator("#changed-list .changed-item")
        expect(rows).to_have_count(5)
        read = (
            "(rows) => rows.map((r) => [r.querySelector('.badge').textContent,"
            " r.querySelector('.changed-name').firstChild.textContent])"
        )
        page.select_option("#list-sort", "kind")
        expect(rows.first.locator(".badge").first).to_have_text("removed")
        by_kind = rows.evaluate_all(read)
        order = {"removed": 0, "added": 1, "modified": 2}
        kinds = [order[kind] for kind, _ in by_kind]
        assert kinds == sorted(kinds) and len(set(kinds)) == 3
        names = sorted(name for _, name in by_kind)
        assert [name for _, name in by_kind] != names  # so the next sort is seen
        page.select_option("#list-sort", "name")
        expect(rows.first.locator(".changed-name")).to_contain_text(names[0])
        assert [name for _, name in rows.evaluate_all(read)] == names
    finally:
        stop(server, page)


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


def test_added_model_schema_says_all_columns_are_new(page: Page) -> None:
    server = Server(["server", "--demo", "--port", "0", "--no-watch"])
    try:
        open_panel(page, server.url, "node=model.oracle_shop.customer_segments")
        schema = page.locator(".node-panel .schema-diff")
        expect(schema.locator(".schema-summary")).to_contain_text("all new")
        statuses = schema.locator("tbody tr").evaluate_all(
            "(rows) => rows.map((r) => r.dataset.status)"
        )
        assert statuses and set(statuses) == {"added"}
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
