"""Regenerate docs/screenshots/*.png from live servers: python -m tests.browser.screenshots

Not a test: it writes the pictures that docs/ui.md shows. Needs /usr/bin/chromium and playwright.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import Page, ViewportSize, sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, review_project
from tests.e2e.test_cli import Server

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT: ViewportSize = {"width": 1280, "height": 720}


def shoot(page: Page, name: str) -> None:
    page.wait_for_timeout(300)  # let the canvas draw its frame
    page.screenshot(path=str(OUT / f"{name}.png"))
    print("wrote", OUT / f"{name}.png")


def review(page: Page) -> None:
    server = Server(["server", "--demo", "--port", "0", "--no-watch"])
    try:
        page.goto(server.url)
        page.wait_for_function("window.recce?.app?.metrics?.nodes > 0")
        shoot(page, "lineage-changed-models")
        # Shift-click a second changed model, then open orders and tick it too: two selected.
        other = page.evaluate(
            """() => window.recce.shownIds().find((id) => id.startsWith('model.')
                && id !== 'model.oracle_shop.orders'
                && window.recce.app.lineage.diff?.[id])"""
        )
        position = page.evaluate("(id) => window.recce.screenPosition(id)", other)
        page.keyboard.down("Shift")
        page.mouse.click(position["x"], position["y"])
        page.keyboard.up("Shift")
        position = page.evaluate("window.recce.screenPosition('model.oracle_shop.orders')")
        page.mouse.click(position["x"], position["y"])
        page.locator(".node-panel input.pick").check()
        shoot(page, "node-schema-diff")
        page.click("#pick-add")
        page.locator(".check-panel input.approve").check()
        page.click("#add-lineage-check")
        page.locator("#checks-list .check-item").first.click()
        shoot(page, "checks")
    finally:
        page.goto("about:blank")
        page.context.close()
        server.stop()


def loading(page: Page, root: Path) -> None:
    project = review_project(root / "slow")
    fifo = project / "target" / "manifest.json"
    content = fifo.read_bytes()
    fifo.unlink()
    os.mkfifo(fifo)
    server = Server(["server", "--port", "0", "--project-dir", str(project), "--no-watch"])
    try:
        page.goto(server.url)
        page.locator('tr[data-artifact="base_catalog"][data-state="loaded"]').wait_for()
        shoot(page, "loading")
    finally:
        threading.Thread(target=fifo.write_bytes, args=(content,), daemon=True).start()
        page.context.close()
        server.stop()


def failed(page: Page, root: Path) -> None:
    project = review_project(root / "broken")
    (project / "target" / "manifest.json").write_text("{not json")
    server = Server(["server", "--port", "0", "--project-dir", str(project), "--no-watch"])
    try:
        page.goto(server.url)
        page.locator("#failed").wait_for()
        shoot(page, "startup-failed")
    finally:
        page.context.close()
        server.stop()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        root = Path(tmp)
        review(browser.new_context(viewport=VIEWPORT).new_page())
        loading(browser.new_context(viewport=VIEWPORT).new_page(), root)
        failed(browser.new_context(viewport=VIEWPORT).new_page(), root)
        browser.close()


if __name__ == "__main__":
    main()
