"""The code and schema views in a real browser: code diff (unified, side by side, raw or
compiled), config diff, a seed's and a source's code, an added model's schema, and the
changed-models list's sort."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.artifact_json import catalog, manifest, write_project
from tests.browser.conftest import NO_PLAYWRIGHT, ORDERS, open_panel, stop
from tests.e2e.test_cli import Server

pytest.importorskip("playwright", reason=NO_PLAYWRIGHT)
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


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
