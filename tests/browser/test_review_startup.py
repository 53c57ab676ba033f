"""The review page's start in a real browser: the load's progress, then the changed models;
a failed or timed-out start explained, never a blank page."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.browser.conftest import (
    NO_PLAYWRIGHT,
    ORDERS,
    read_json,
    review_project,
    stop,
    wait_for_review,
)
from tests.e2e.test_cli import Server
from tests.held import HeldFile

pytest.importorskip("playwright", reason=NO_PLAYWRIGHT)
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_slow_start_shows_progress_then_the_changed_models(page: Page, tmp_path: Path) -> None:
    project = review_project(tmp_path / "project")
    # The load waits for the current manifest until the test lets go, after seeing the progress.
    held = HeldFile(project / "target" / "manifest.json")
    server = Server(["server", "--port", "0", "--project-dir", str(project), "--no-watch"])
    try:
        page.goto(server.url)
        expect(page.locator("#loading")).to_be_visible()
        rows = page.locator("#progress-rows tr")
        expect(rows).to_have_count(4)
        current = page.locator('tr[data-artifact="curr_manifest"]')
        expect(current).to_contain_text("Current manifest")
        assert current.get_attribute("data-state") in {"pending", "loading"}
        expect(page.locator('tr[data-artifact="base_manifest"]')).to_have_attribute(
            "data-state", "loaded"
        )
        # Nothing animates while the page waits (it shares the cores with the server's load).
        assert page.evaluate("document.getAnimations().length") == 0

        held.release()
        expect(page.locator("#review")).to_be_visible()
        wait_for_review(page)
        shown = page.evaluate("window.recce.shownIds()")
        # Changed models: the modified model, its direct parent; nothing unrelated.
        assert ORDERS in shown
        assert "model.shop.stg_orders" in shown
        expect(page.locator("#mode-changed")).to_be_checked()
        expect(page.locator("#summary")).to_contain_text("1 modified")
        assert page.evaluate("location.pathname") == "/"  # switched without a reload
    finally:
        held.release()  # if the test failed before: unblock the loader so the server can stop
        stop(server, page)


@pytest.mark.parametrize(
    ("content", "error_class"),
    [
        (b"{not json", "ArtifactDecodeError"),
        (b'{"hello": "world"}', "NotADbtArtifactError"),
    ],
)
def test_failed_start_shows_the_error_not_a_blank_page(
    page: Page, tmp_path: Path, content: bytes, error_class: str
) -> None:
    project = review_project(tmp_path / "project")
    (project / "target" / "manifest.json").write_bytes(content)
    server = Server(["server", "--port", "0", "--project-dir", str(project), "--no-watch"])
    try:
        page.goto(server.url)
        failed = page.locator("#failed")
        expect(failed).to_be_visible()
        expect(page.locator("#failed-class")).to_have_text(error_class)
        expect(failed).to_contain_text("See the server log")
        assert page.locator("#failed-text").inner_text().strip()
        expect(page.locator("#review")).to_be_hidden()
    finally:
        stop(server, page)


def test_missing_manifest_is_explained(page: Page, tmp_path: Path) -> None:
    project = review_project(tmp_path / "project")
    (project / "target" / "manifest.json").unlink()
    server = Server(["server", "--port", "0", "--project-dir", str(project), "--no-watch"])
    try:
        page.goto(server.url)
        expect(page.locator("#failed-class")).to_have_text("ArtifactNotFoundError")
        expect(page.locator("#failed-text")).to_contain_text("dbt docs generate")
    finally:
        stop(server, page)


def test_startup_timeout_is_explained(page: Page, tmp_path: Path) -> None:
    project = review_project(tmp_path / "project")
    # Held until the test ends: the load of the current manifest cannot finish.
    held = HeldFile(project / "target" / "manifest.json")
    server = Server(
        [
            "server",
            "--port",
            "0",
            "--project-dir",
            str(project),
            "--no-watch",
            "--startup-timeout",
            "1",
        ]
    )
    try:
        page.goto(server.url)
        failed = page.locator("#failed")
        expect(failed).to_be_visible()
        expect(page.locator("#failed-class")).to_have_text("StartupTimeoutError")
        expect(page.locator("#failed-title")).to_have_text("Loading took too long")
        expect(page.locator("#failed-text")).to_contain_text("Raise it with --startup-timeout")
        expect(page.locator("#failed-artifacts")).to_contain_text(
            "Current manifest: still loading when the timeout ran out"
        )
        expect(failed).to_contain_text("See the server log")
        expect(page.locator("#review")).to_be_hidden()
    finally:
        stop(server, page)
        held.release()


def write_unsupported_manifest(project: Path) -> None:
    path = project / "target" / "manifest.json"
    data = read_json(path)
    data["metadata"]["dbt_schema_version"] = "https://schemas.getdbt.com/dbt/manifest/v99.json"
    path.write_text(json.dumps(data))


def make_manifest_a_folder(project: Path) -> None:
    path = project / "target" / "manifest.json"
    path.unlink()
    path.mkdir()


@pytest.mark.parametrize(
    ("breaks", "error_class", "title", "what_to_do"),
    [
        (
            write_unsupported_manifest,
            "UnsupportedSchemaVersionError",
            "Unsupported dbt artifact version",
            "Regenerate it with a supported dbt version, or upgrade recce-trio",
        ),
        (
            make_manifest_a_folder,
            "ArtifactReadError",
            "An artifact could not be read",
            "it may be a folder",
        ),
    ],
    ids=["schema-v99", "manifest-is-a-folder"],
)
def test_unreadable_manifest_is_explained(
    page: Page,
    tmp_path: Path,
    breaks: Callable[[Path], None],
    error_class: str,
    title: str,
    what_to_do: str,
) -> None:
    project = review_project(tmp_path / "project")
    breaks(project)
    server = Server(["server", "--port", "0", "--project-dir", str(project), "--no-watch"])
    try:
        page.goto(server.url)
        failed = page.locator("#failed")
        expect(failed).to_be_visible()
        expect(page.locator("#failed-class")).to_have_text(error_class)
        expect(page.locator("#failed-title")).to_have_text(title)
        expect(page.locator("#failed-text")).to_contain_text(what_to_do)
        expect(page.locator("#failed-artifacts")).to_contain_text(
            f"Current manifest: {error_class}"
        )
        expect(failed).to_contain_text("See the server log")
        expect(page.locator("#review")).to_be_hidden()
    finally:
        stop(server, page)
