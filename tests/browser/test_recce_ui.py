"""Recce's own UI (1.69.1's build, served with --ui-dir) in a real browser against recce-trio's
demo: the lineage, a node's schema diff and code, a column's lineage, a row count and a query diff
it runs, each run type's result as a check, and the stored query diffs of a real state file."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.browser.conftest import NO_PLAYWRIGHT, stop
from tests.browser.recce_results import REAL_STATE
from tests.e2e.test_cli import Server

pytest.importorskip("playwright", reason=NO_PLAYWRIGHT)
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

ORDERS = "model.oracle_shop.orders"
QUERY = "select status, count(*) as n from {{ ref('orders') }} group by status order by status"


@pytest.fixture(scope="module")
def served(recce_ui: Path) -> Iterator[Server]:
    server = Server(["server", "--demo", "--port", "0", "--no-watch", "--ui-dir", str(recce_ui)])
    yield server
    if server.proc.poll() is None:
        server.stop()


def lineage_drawn(page: Page, url: str) -> None:
    page.goto(url)
    page.locator(".react-flow__node").first.wait_for()


def open_checks(page: Page, url: str, check_name: str) -> None:
    """Recce's checks page, with ``check_name`` listed (its offer of its cloud skipped)."""
    page.goto(f"{url}/checks")
    skip = page.get_by_role("button", name="Skip")
    skip.or_(page.get_by_text(check_name)).first.wait_for()
    if skip.is_visible():
        skip.click()


def drawn_ids(page: Page) -> set[str]:
    """The ids of the nodes Recce's UI draws (models, and columns in a column lineage)."""
    ids = page.locator(".react-flow__node").evaluate_all("(n) => n.map((e) => e.dataset.id)")
    return set(ids)


def test_recces_ui_draws_the_changed_models_with_their_change_categories(
    page: Page, served: Server
) -> None:
    lineage_drawn(page, served.url)
    # Recce's UI asks for the changed models of the project, and draws what the server says.
    changed = httpx.post(
        f"{served.url}/api/select",
        json={"view_mode": "changed_models", "packages": ["oracle_shop"]},
    ).json()["nodes"]
    drawn = drawn_ids(page)
    assert drawn == set(changed) and ORDERS in drawn
    # Each modified model's category, from /api/info's change analysis.
    node = page.locator(f'.react-flow__node[data-id="{ORDERS}"]')
    expect(node).to_contain_text("Column Change")


def test_recces_ui_shows_a_nodes_schema_diff_and_code(page: Page, served: Server) -> None:
    lineage_drawn(page, served.url)
    page.locator(f'.react-flow__node[data-id="{ORDERS}"]').click()
    # The schema diff: the added column, and no "comparison incomplete" warning (both
    # catalogs describe the model: /api/info's catalog statuses).
    expect(page.get_by_text("is_returned", exact=True)).to_be_visible()
    expect(page.get_by_text("Add schema diff to checklist")).to_be_visible()
    expect(page.get_by_text("incomplete", exact=False)).to_have_count(0)
    # The Code tab: the SQL as written on each side (/api/models/{id}'s raw_code).
    page.get_by_role("tab", name="Code").click()
    expect(page.get_by_text("o.status = 'returned' as is_returned")).to_be_visible()
    expect(page.get_by_text("coalesce(p.payment_count, 0) as payment_count").first).to_be_visible()


def test_recces_ui_draws_a_columns_lineage_from_api_cll(page: Page, served: Server) -> None:
    lineage_drawn(page, served.url)
    models = drawn_ids(page)
    page.locator(f'.react-flow__node[data-id="{ORDERS}"]').click()
    page.get_by_role("row").filter(has_text="amount").first.click()
    expect(page.get_by_text("Column Lineage for")).to_be_visible()
    # The columns drawn are the ones /api/cll answers for orders.amount, up- and downstream.
    answer = httpx.post(
        f"{served.url}/api/cll",
        json={"node_id": ORDERS, "column": "amount", "change_analysis": False},
    ).json()["current"]
    columns = set(answer["columns"])
    assert f"{ORDERS}_amount" in columns and len(columns) > 3
    expect(page.locator(".react-flow__node")).to_have_count(len(models) + len(columns))
    assert drawn_ids(page) - models == columns


def test_recces_ui_runs_a_row_count_and_a_query_diff_in_the_demo_warehouse(
    page: Page, served: Server
) -> None:
    lineage_drawn(page, served.url)
    page.locator(f'.react-flow__node[data-id="{ORDERS}"]').click()
    page.get_by_role("button", name="Row Count").click()
    # The same counts as the API gives (the demo's current orders has one more row).
    counts = httpx.post(
        f"{served.url}/api/runs",
        json={"type": "row_count_diff", "params": {"node_names": ["orders"]}},
    ).json()["result"]["orders"]
    assert counts["base"] != counts["curr"]
    result = page.get_by_role("row").filter(has_text="orders").filter(has_text="%")
    expect(result).to_contain_text(str(counts["base"]))
    expect(result).to_contain_text(str(counts["curr"]))

    page.get_by_role("tab", name="Query").first.click()
    editor = page.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(QUERY)
    page.get_by_role("button", name="Run Diff").click()
    # The row whose count changed is marked, with both sides' values.
    placed = page.get_by_role("row").filter(has_text="placed")
    expect(placed).to_contain_text("Base:")
    expect(placed).to_contain_text("Current:")
    unchanged = page.get_by_role("row").filter(has_text="completed")
    expect(unchanged).not_to_contain_text("Base:")


def test_recces_ui_renders_the_stored_query_diffs_of_a_real_state_file(
    page: Page, recce_ui: Path, tmp_path: Path
) -> None:
    # Its query-diff results predate the columns' `key` (Recce's UI refused them: the
    # "DataGridValidationError"); they are upgraded as the state file is read.
    state = json.loads(REAL_STATE.read_text())
    stored = {run["check_id"]: run["result"] for run in state["runs"] if run.get("result")}
    query_diffs = [c for c in state["checks"] if c["type"] == "query_diff"]
    assert query_diffs
    assert all("key" not in stored[c["check_id"]]["base"]["columns"][0] for c in query_diffs)
    copy = tmp_path / "recce_state.json"
    copy.write_text(REAL_STATE.read_text())
    args = [str(copy), "--review", "--port", "0", "--no-watch", "--ui-dir", str(recce_ui)]
    server = Server(["server", *args])
    try:
        open_checks(page, server.url, query_diffs[0]["name"])
        for check in query_diffs:
            page.get_by_text(check["name"], exact=True).first.click()
            columns = [c["name"] for c in stored[check["check_id"]]["current"]["columns"]]
            grid = page.get_by_role("grid")
            for name in columns:
                expect(grid.get_by_role("columnheader", name=name)).to_be_visible()
    finally:
        stop(server, page)


# Each warehouse run type as recce-trio computes it on the demo, and what Recce's UI shows of
# the result once it is a check: its title and a text of the result view.
DEMO_RUNS = [
    ("query_diff", {"sql_template": QUERY, "primary_keys": ["status"]}, "Base:"),
    ("profile_diff", {"model": "orders"}, "Distinct Count"),
    ("value_diff", {"model": "orders", "primary_key": "order_id"}, "Matched %"),
    ("value_diff_detail", {"model": "orders", "primary_key": "order_id"}, "payment_count"),
    ("top_k_diff", {"model": "orders", "column_name": "status", "k": 10}, "Model orders.status"),
    (
        "histogram_diff",
        {"model": "orders", "column_name": "amount", "column_type": "DOUBLE", "num_bins": 10},
        "Model orders.amount",
    ),
    ("row_count_diff", {"node_names": ["orders", "customers"]}, "Current Rows"),
]


def test_recces_ui_shows_every_run_type_recce_trio_computes_as_a_check(
    page: Page, served: Server
) -> None:
    names = {}
    for kind, params, _ in DEMO_RUNS:
        run = httpx.post(f"{served.url}/api/runs", json={"type": kind, "params": params}).json()
        assert run["status"] == "Finished", run
        check = httpx.post(f"{served.url}/api/checks", json={"run_id": run["run_id"]}).json()
        names[kind] = check["name"]
    open_checks(page, served.url, names["row_count_diff"])
    for kind, _, shown in DEMO_RUNS:
        page.get_by_text(names[kind], exact=True).first.click()
        if kind == "histogram_diff":  # a chart, named for screen readers
            expect(page.get_by_role("img", name=re.compile(f"^{shown}"))).to_be_visible()
        else:
            expect(page.get_by_text(shown, exact=True).first).to_be_visible()
        expect(page.get_by_text("Error", exact=False)).to_have_count(0)
