"""The lineage at scale in a real browser: the first view, folder groups, the minimap, the long
edges left out of a frame."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.artifact_json import manifest, write_project
from tests.browser.conftest import NO_PLAYWRIGHT
from tests.browser.test_review_page import stop, wait_for_review
from tests.e2e.test_cli import Server

pytest.importorskip("playwright", reason=NO_PLAYWRIGHT)
from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def server_selection(url: str) -> list[str]:
    body = {"view_mode": "changed_models"}
    nodes: list[str] = httpx.post(f"{url}/api/select", json=body).json()["nodes"]
    return nodes


def shown_when_settled(page: Page) -> list[str]:
    """The shown ids once the server's answer to the first selection has been taken."""
    wait_for_review(page)
    page.wait_for_function("['kept', 'replaced'].includes(window.recce.app.metrics.provisional)")
    ids: list[str] = page.evaluate("window.recce.shownIds()")
    return ids


def test_first_view_drawn_from_the_lineage_is_the_servers_changed_models(page: Page) -> None:
    # The demo: models changed, added and removed, with parents and descendants.
    server = Server(["server", "--demo", "--port", "0", "--no-watch"])
    try:
        page.goto(server.url)
        shown = shown_when_settled(page)
        assert sorted(shown) == server_selection(server.url)
        # The page's own reading was the server's: drawn once, not replaced.
        assert page.evaluate("window.recce.app.metrics.provisional") == "kept"
    finally:
        stop(server, page)


def test_the_servers_selection_wins_where_the_lineage_reads_it_otherwise(
    page: Page, tmp_path: Path
) -> None:
    # orders changed; `blank`, below it, has empty SQL, and dbt never selects an empty model,
    # which the lineage cannot tell. The first view shows it; the server's answer takes it out.
    project = write_project(
        tmp_path / "project",
        base=manifest({"stg_orders": "select 1", "orders": "select 2", "blank": " "}),
        current=manifest({"stg_orders": "select 1", "orders": "select 3", "blank": " "}),
    )
    server = Server(["server", "--port", "0", "--project-dir", str(project), "--no-watch"])
    try:
        page.goto(server.url)
        shown = shown_when_settled(page)
        assert page.evaluate("window.recce.app.metrics.provisional") == "replaced"
        assert sorted(shown) == server_selection(server.url)
        assert "model.shop.blank" not in shown
    finally:
        stop(server, page)
