"""The warehouse run types' result views and the Query view in a real browser.

Stored results come from a real Recce state file (query_diff and row_count_diff runs that
upstream Recce wrote); the other types are added to a copy of it, in Recce's result shapes
(docs: /work/shared/notes/recce-runs-spec.md §2-3), and served with ``server --review``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.browser.conftest import NO_PLAYWRIGHT, stop, wait_for_review
from tests.browser.recce_results import REAL_STATE, built_state
from tests.e2e.test_cli import Server

pytest.importorskip("playwright", reason=NO_PLAYWRIGHT)
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.browser

CLV_CHECK = "ddf649c2-f9a0-4ab4-8706-16c076b18ecf"  # query_diff, view_options keys customer_tier
EMPTY_CHECK = "5ada6ddf-4574-4567-bc82-1234e86d340c"  # query_diff with no rows on either side
ROWS_CHECK = "bf607318-8381-4e78-a4d3-dc2e81e887a4"  # row_count_diff

needs_corpus = pytest.mark.skipif(not REAL_STATE.exists(), reason="the shared corpus is missing")


def review_server(state: Path) -> Server:
    return Server(["server", str(state), "--review", "--port", "0", "--no-watch"])


@pytest.fixture
def real(tmp_path: Path, page: Page) -> Iterator[Server]:
    copy = tmp_path / "recce_state.json"
    shutil.copy(REAL_STATE, copy)
    server = review_server(copy)
    yield server
    stop(server, page)


@pytest.fixture
def built(tmp_path: Path, page: Page) -> Iterator[tuple[Server, dict[str, str]]]:
    state, ids = built_state(tmp_path)
    server = review_server(state)
    yield server, ids
    stop(server, page)


def open_check(page: Page, url: str, check_id: str, run_type: str) -> Locator:
    page.goto(f"{url}/?check={check_id}")
    wait_for_review(page)
    return page.locator(f'.check-panel .run-result[data-type="{run_type}"]')


def cells(row: Locator, first: int = 1, last: int | None = None) -> Locator:
    """The row's cells from the `first` to the `last` (1-based, as CSS counts them), for
    `expect(...).to_have_text([...])`, which waits until the row is rendered with those texts."""
    until = f":nth-child(-n+{last})" if last else ""
    return row.locator(f"td:nth-child(n+{first}){until}")


@needs_corpus
def test_real_query_diff_and_row_count_results(page: Page, real: Server) -> None:
    result = open_check(page, real.url, CLV_CHECK, "query_diff")
    # The check's view_options choose the key; values show exactly as Recce stored them.
    expect(result.locator('input[value="customer_tier"]')).to_be_checked()
    vip = result.locator('tr[data-key="VIP"]')
    expect(vip).to_have_attribute("data-status", "unchanged")
    expect(cells(vip, 2)).to_have_text(["VIP", "2", "2399.9700000000003", "1199.9850000000001"])
    expect(result.locator("tbody tr")).to_have_count(3)
    expect(result.locator('[data-count="modified"]')).to_have_text("0 modified")
    result.locator("select.diff-mode").select_option("sides")
    expect(result.locator(".sides .frame")).to_have_count(2)
    expect(result.locator(".sides .frame").first).to_contain_text("3 rows")

    result = open_check(page, real.url, EMPTY_CHECK, "query_diff")
    expect(result.locator("th")).to_contain_text(["order_day", "order_count", "daily_revenue"])
    expect(result.locator(".no-diff")).to_have_text("No differences.")

    result = open_check(page, real.url, ROWS_CHECK, "row_count_diff")
    expect(cells(result.locator('tr[data-model="stg_order_items"]'))).to_have_text(
        ["stg_order_items", "14", "14", "="]
    )
    expect(cells(result.locator('tr[data-model="raw_products"]'), 2, 3)).to_have_text(
        ["NULL", "NULL"]
    )
    # A model name links to its node.
    result.get_by_role("link", name="dim_customers").click()
    expect(page.locator(".node-panel")).to_contain_text("dim_customers")


@needs_corpus
def test_each_result_type_renders_its_stored_values(
    page: Page, built: tuple[Server, dict[str, str]]
) -> None:
    server, ids = built

    result = open_check(page, server.url, ids["query"], "query")
    expect(cells(result.locator("tbody tr").nth(1))).to_have_text(
        ["2", "0.30000000000000004", "ünïcode"]
    )
    expect(result.locator("tbody tr").first.locator("td.null")).to_have_text("NULL")
    expect(result.locator(".frame-foot")).to_contain_text("2 rows of 2500 in total (more rows")

    result = open_check(page, server.url, ids["query_diff"], "query_diff")
    changed = result.locator('tr[data-key="1"]')
    expect(changed).to_have_attribute("data-status", "modified")
    expect(changed.locator('td.cell-changed[data-column="tier"]')).to_have_text("New → VIP")
    expect(result.locator('tr[data-key="2"]')).to_have_attribute("data-status", "removed")
    expect(result.locator('tr[data-key="3"]')).to_have_attribute("data-status", "added")
    expect(result.locator('tr[data-key="3"] td[data-column="tier"]')).to_have_text("NULL")
    expect(result.locator("th")).not_to_contain_text(["in_a"])

    result = open_check(page, server.url, ids["row_count_diff"], "row_count_diff")
    expect(cells(result.locator('tr[data-model="dim_customers"]'))).to_have_text(
        ["dim_customers", "500", "393", "-107 (-21.4%)"]
    )
    segments = result.locator('tr[data-model="customer_segments"]')
    expect(segments).to_have_attribute("data-status", "added")
    expect(segments.locator("td").nth(1)).to_have_text("not in manifest")

    result = open_check(page, server.url, ids["profile_diff"], "profile_diff")
    spent = result.locator('tr[data-column="total_spent"]')
    expect(spent.locator('td[data-metric="max"][data-side="base"]')).to_have_text("301.61")
    expect(spent.locator('td[data-metric="max"][data-side="current"]')).to_have_class(
        "cell-changed"
    )
    expect(spent.locator('td[data-metric="median"][data-side="current"]')).to_have_text("NULL")
    expect(result.locator('tr[data-column="customer_id"] td.cell-changed')).to_have_count(0)

    result = open_check(page, server.url, ids["value_diff"], "value_diff")
    expect(result.locator(".value-summary")).to_contain_text("107 removed")
    expect(result.locator('tr[data-column="amount"] td.pct')).to_have_text("93.13 %")
    expect(result.locator('tr[data-column="customer_id"] td.pct')).to_have_text("100 %")

    result = open_check(page, server.url, ids["value_diff_detail"], "value_diff_detail")
    expect(result.locator('tr[data-key="7"] td.cell-changed')).to_have_text(
        "26.520000000000003 → 26.52"
    )
    expect(result.locator('tr[data-key="9"]')).to_have_attribute("data-status", "removed")

    result = open_check(page, server.url, ids["top_k_diff"], "top_k_diff")
    vip = result.locator('tr[data-value="VIP"]')
    expect(vip).to_have_attribute("data-changed", "yes")
    expect(vip.locator(".bar-line.current .num")).to_have_text("5")
    expect(result.locator('tr[data-value="NULL"] td').first).to_have_text("NULL")

    result = open_check(page, server.url, ids["histogram_diff"], "histogram_diff")
    canvas = result.locator("canvas.histogram")
    expect(canvas).to_be_visible()
    # Both sides were drawn: the canvas has base (orange) and current (blue) pixels.
    colours = page.evaluate(
        """(c) => {
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let orange = 0, blue = 0;
          for (let i = 0; i < d.length; i += 4) {
            if (d[i] > 200 && d[i + 2] < 150 && d[i + 3] > 0) orange++;
            if (d[i + 2] > 180 && d[i] < 150 && d[i + 3] > 0) blue++;
          }
          return { orange, blue };
        }""",
        canvas.element_handle(),
    )
    assert colours["orange"] > 0 and colours["blue"] > 0
    result.locator(".histogram-bins summary").click()
    expect(cells(result.locator('tr[data-bin="2"]'))).to_have_text(["20-30", "0", "9"])


@needs_corpus
def test_query_view_completes_ref_and_submits_runs_as_recce_does(page: Page, real: Server) -> None:
    page.goto(real.url)
    wait_for_review(page)
    page.click("#open-query")
    panel = page.locator(".query-panel")
    assert "query=sql" in page.url
    sql = panel.locator("textarea.query-sql")
    expect(sql).to_be_focused()
    sql.press_sequentially("select * from {{ ref('dim_c")
    expect(panel.locator(".ref-suggestions li")).to_have_text(["dim_customers"])
    sql.press("Tab")  # takes the suggestion and closes the call
    expect(sql).to_have_value("select * from {{ ref('dim_customers')")
    expect(panel.locator(".ref-suggestions")).to_be_hidden()
    sql.press_sequentially(" }}\n")
    sql.press("Tab")  # no suggestion: Tab indents instead of leaving the editor
    expect(sql).to_be_focused()
    panel.locator("select.ref-insert").select_option("stg_orders")
    expect(sql).to_have_value("select * from {{ ref('dim_customers') }}\n  {{ ref('stg_orders') }}")
    sql.fill("select * from {{ ref('dim_customers') }}")
    sql.press_sequentially(" -- ref('stg")
    sql.press("Escape")  # closes the suggestions only
    expect(panel.locator(".ref-suggestions")).to_be_hidden()
    expect(panel).to_be_visible()

    sql.fill("select * from {{ ref('dim_customers') }}")
    panel.locator("input.query-keys").fill("customer_id, tier")
    with page.expect_request(lambda r: r.url.endswith("/api/runs") and r.method == "POST") as sent:
        sql.press("Control+Shift+Enter")
    assert sent.value.post_data_json == {
        "type": "query_diff",
        "params": {
            "sql_template": "select * from {{ ref('dim_customers') }}",
            "primary_keys": ["customer_id", "tier"],
        },
        "nowait": True,
    }
    # Whatever the server answers shows in the view: the result, or its message.
    expect(panel.locator(".query-result .run-result, .query-result .run-error")).to_be_visible()
    with page.expect_request(lambda r: r.url.endswith("/api/runs") and r.method == "POST") as sent:
        panel.get_by_role("button", name="Run on base").click()
    assert sent.value.post_data_json["type"] == "query_base"
    assert "primary_keys" not in sent.value.post_data_json["params"]


@needs_corpus
def test_row_counts_show_beside_the_nodes(page: Page, built: tuple[Server, dict[str, str]]) -> None:
    server, _ = built
    page.goto(server.url)
    wait_for_review(page)
    # The latest row count diff per node (POST /api/runs/aggregate) is drawn after its type.
    page.wait_for_function("window.recce.graph.notes?.size > 0")
    notes = page.evaluate("Object.fromEntries(window.recce.graph.notes)")
    ids = {
        name: uid
        for uid, name in page.evaluate(
            "Object.entries(window.recce.app.lineage.nodes).map(([id, n]) => [id, n.name])"
        )
    }
    assert notes[ids["dim_customers"]] == "500 → 393 rows"  # the built run, newer than Recce's
    assert notes[ids["stg_order_items"]] == "14 rows"  # from the real state file's run
    assert ids["raw_products"] not in notes  # a seed: both counts null


def test_query_diff_from_the_query_view_on_the_demo_warehouse(page: Page) -> None:
    server = Server(["server", "--demo", "--port", "0", "--no-watch"])
    try:
        page.goto(server.url)
        wait_for_review(page)
        page.wait_for_function("document.body.dataset.ready === 'true'")  # the URL is applied
        page.click("#open-query")
        panel = page.locator(".query-panel")
        panel.locator("textarea.query-sql").fill(
            "select customer_id, first_name, lifetime_value from {{ ref('customers') }}"
        )
        panel.locator("input.query-keys").fill("customer_id")
        panel.get_by_role("button", name="Run diff").click()
        result = panel.locator('.query-result .run-result[data-type="query_diff"]')
        expect(result).to_be_visible()
        run_id = panel.locator(".run-line").get_attribute("data-run-id")
        run = httpx.get(f"{server.url}/api/runs/{run_id}/wait?timeout=0").json()
        # The page's counts agree with the warehouse's joined rows (in_a/in_b per key).
        sides: dict[int, set[str]] = {}
        for row in run["result"]["diff"]["data"]:
            sides.setdefault(row[0], set()).add("a" if row[-2] else "b")
        expected = {"added": 0, "removed": 0, "modified": 0}
        for found in sides.values():
            expected[
                "modified" if found == {"a", "b"} else "removed" if found == {"a"} else "added"
            ] += 1
        for status, count in expected.items():
            expect(result.locator(f'[data-count="{status}"]')).to_have_text(f"{count} {status}")
        expect(result.locator("tbody tr")).to_have_count(len(sides))
        expect(panel.locator("a.export-csv")).to_have_count(0)  # a keyed diff: not exportable

        # A long query shows its progress and Cancel; cancelling ends it as Cancelled.
        panel.locator("textarea.query-sql").fill(
            "select count(*) from range(100000000000) a, range(100000000000) b"
        )
        panel.get_by_role("button", name="Run", exact=True).click()
        panel.locator(".run-progress").get_by_role("button", name="Cancel").click()
        expect(panel.locator(".run-line")).to_have_attribute("data-status", "cancelled")
        expect(panel.locator(".query-result .run-error")).to_contain_text("Cancelled")
        expect(panel.get_by_role("button", name="Run diff")).to_be_enabled()

        # A query's every row, downloaded as CSV by the browser.
        panel.locator("textarea.query-sql").fill(
            "select customer_id, first_name from {{ ref('customers') }} order by 1"
        )
        panel.get_by_role("button", name="Run", exact=True).click()
        expect(panel.locator(".run-line")).to_have_attribute("data-status", "finished")
        with page.expect_download() as download:
            panel.get_by_role("link", name="Export CSV").click()
        assert download.value.suggested_filename.startswith("query-export-")
        lines = Path(download.value.path()).read_text().splitlines()
        assert lines[:3] == ["customer_id,first_name", "1,Michael", "2,Shawn"]
        assert len(lines) == 6

        # The diff again, added to the checklist, then rerun from the check.
        panel.locator("textarea.query-sql").fill(
            "select customer_id, first_name, lifetime_value from {{ ref('customers') }}"
        )
        panel.get_by_role("button", name="Run diff").click()
        expect(panel.locator(".run-line")).to_have_attribute("data-status", "finished")
        panel.get_by_role("button", name="Add to checklist").click()
        check = page.locator(".check-panel")
        expect(check.locator('.run-result[data-type="query_diff"]')).to_be_visible()
        check.locator("button.rerun").click()
        expect(check.locator(".earlier-runs summary")).to_have_text("Earlier runs (1)")
        expect(check.locator('.run-result[data-type="query_diff"] tbody tr')).to_have_count(
            len(sides)
        )
    finally:
        stop(server, page)
