"""Headless Debian Chromium driven by Playwright, against `recce-trio server` subprocesses."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.artifact_json import catalog, manifest, write_project
from tests.conftest import load_bench_module
from tests.e2e.test_cli import Server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

ORDERS = "model.shop.orders"  # in review_project
STG_ORDERS = "model.shop.stg_orders"

NO_PLAYWRIGHT = "playwright is not installed (pip install playwright; it drives /usr/bin/chromium)"

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    sync_api = pytest.importorskip("playwright.sync_api", reason=NO_PLAYWRIGHT)
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(20_000)
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture(scope="session")
def big_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The generated 5,000-model project (3,545 nodes in its changed-models view)."""
    make_artifacts = load_bench_module("make_artifacts")
    out = tmp_path_factory.mktemp("gen5000")
    return out, make_artifacts.make_project(out, 5000, seed=1, check=False)


def review_project(root: Path) -> Path:
    """orders is modified: code changed, `id` retyped, `discount` added, `legacy` removed."""
    base_cols = {"id": "integer", "legacy": "text", "amount": "double"}
    current_cols = {"id": "bigint", "amount": "double", "discount": "double"}
    return write_project(
        root,
        base=manifest({"stg_orders": "select 1", "orders": "select 2"}),
        current=manifest({"stg_orders": "select 1", "orders": "select 3"}),
        base_catalog=catalog(
            {"model.shop.orders": base_cols, "model.shop.stg_orders": {"id": "integer"}}
        ),
        current_catalog=catalog(
            {"model.shop.orders": current_cols, "model.shop.stg_orders": {"id": "integer"}}
        ),
    )


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


# Recce's own UI build (the `recce/data` folder of its wheel), for driving it against
# recce-trio: tox downloads the wheel (tox.ini, RECCE_UI_WHEELS); only its static files are used.
RECCE_UI_WHEELS = "RECCE_UI_WHEELS"


@pytest.fixture(scope="session")
def recce_ui(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import zipfile

    folder = os.environ.get(RECCE_UI_WHEELS, "")
    wheels = sorted(Path(folder).glob("recce-*.whl")) if folder else []
    if not wheels:
        pytest.skip(
            f"Recce's UI build not found: set {RECCE_UI_WHEELS} to a folder holding a recce wheel"
            " (tox downloads it: pip download --no-deps recce==1.69.1)"
        )
    out = tmp_path_factory.mktemp("recce-ui")
    with zipfile.ZipFile(wheels[-1]) as wheel:
        wheel.extractall(out, [n for n in wheel.namelist() if n.startswith("recce/data/")])
    return out / "recce" / "data"


def stop(server: Server, page: Page) -> None:
    # Close the browser's connections first: the server's graceful shutdown waits for open
    # websockets and idle keep-alive connections until its timeout (10 s).
    page.context.close()
    if server.proc.poll() is None:
        server.stop()


@pytest.fixture
def served(tmp_path: Path, page: Page) -> Iterator[Server]:
    project = review_project(tmp_path / "project")
    server = Server(
        [
            "server",
            str(tmp_path / "recce_state.json"),
            "--port",
            "0",
            "--project-dir",
            str(project),
            "--no-watch",
        ]
    )
    yield server
    stop(server, page)


def wait_for_review(page: Page) -> None:
    """The lineage drawn and the other views loaded (they come in the task after the first
    frame: a panel opened before is drawn then, and moves the graph under the pointer)."""
    page.wait_for_function(
        "window.recce?.app?.metrics?.nodes > 0 && window.recce.app.metrics.panelsAt > 0"
    )


def open_panel(page: Page, url: str, query: str) -> None:
    page.goto(f"{url}/?{query}")
    wait_for_review(page)
