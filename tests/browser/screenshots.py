"""Regenerate docs/screenshots/*.png from live servers: python -m tests.browser.screenshots

Not a test: it writes the pictures that docs/ui.md shows. Needs /usr/bin/chromium and playwright.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import Page, ViewportSize, sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, review_project
from tests.browser.recce_results import built_state
from tests.conftest import load_bench_module
from tests.e2e.test_cli import Server
from tests.held import HeldFile

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
                && window.recce.app.lineage.nodes[id].change_status)"""
        )
        position = page.evaluate("(id) => window.recce.screenPosition(id)", other)
        page.keyboard.down("Shift")
        page.mouse.click(position["x"], position["y"])
        page.keyboard.up("Shift")
        page.evaluate("window.recce.select('model.oracle_shop.orders')")
        page.locator(".node-panel input.pick").check()
        shoot(page, "node-schema-diff")
        page.locator('.node-panel .tab[data-tab="code"]').click()
        page.locator(".diff-tools label", has_text="Side by side").first.click()
        shoot(page, "node-code-diff")
        page.click("#pick-add")
        page.locator(".check-panel .run-result").wait_for()
        page.locator(".check-panel input.approve").check()
        page.click("#add-lineage-check")
        page.locator("#checks-list .check-item").first.click()
        page.get_by_role("button", name="Add a description").click()
        page.locator("textarea.check-description").fill(
            "Both models keep their grain. **discount** is new on purpose; see the `orders` diff."
        )
        page.get_by_role("button", name="Save").click()
        shoot(page, "checks")
        page.click("#tab-runs")
        page.locator("#runs-list .run-item").first.click()
        page.locator(".run-panel .run-result").wait_for()
        shoot(page, "runs")
    finally:
        page.goto("about:blank")
        page.context.close()
        server.stop()


def folded_chains(page: Page) -> None:
    server = Server(["server", "--demo", "--port", "0", "--no-watch"])
    try:
        page.goto(f"{server.url}/?mode=all&group=chains")
        page.wait_for_function("() => window.recce?.graph?.nodes.some((n) => n.group)")
        shoot(page, "lineage-chains-folded")
    finally:
        page.context.close()
        server.stop()


def big(page: Page, root: Path) -> None:
    make_artifacts = load_bench_module("make_artifacts")
    make_artifacts.make_project(root / "gen5000", 5000, seed=0, check=False)
    server = Server(["server", "--port", "0", "--project-dir", str(root / "gen5000"), "--no-watch"])
    try:
        page.goto(server.url)
        page.wait_for_function("window.recce?.app?.metrics?.nodes > 0", timeout=120_000)
        shoot(page, "lineage-5000-models")
        page.click("#group-folders")
        page.wait_for_function("() => window.recce.graph.nodes.every((n) => n.group)")
        page.wait_for_timeout(300)
        shoot(page, "lineage-grouped-by-folder")
    finally:
        page.context.close()
        server.stop()


def loading(page: Page, root: Path) -> None:
    project = review_project(root / "slow")
    held = HeldFile(project / "target" / "manifest.json")
    server = Server(["server", "--port", "0", "--project-dir", str(project), "--no-watch"])
    try:
        page.goto(server.url)
        page.locator('tr[data-artifact="base_catalog"][data-state="loaded"]').wait_for()
        shoot(page, "loading")
    finally:
        held.release()
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


def data_results(page: Page, root: Path) -> None:
    """The warehouse result views and the Query view, on a real Recce state file's copy."""
    state, ids = built_state(root)
    server = Server(["server", str(state), "--review", "--port", "0", "--no-watch"])
    try:
        for run_type, name in [
            ("query_diff", "result-query-diff"),
            ("profile_diff", "result-profile-diff"),
            ("histogram_diff", "result-histogram-diff"),
            ("top_k_diff", "result-top-k-diff"),
        ]:
            page.goto(f"{server.url}/?check={ids[run_type]}")
            page.locator(f'.run-result[data-type="{run_type}"]').wait_for()
            shoot(page, name)
        page.click("#open-query")
        page.locator("textarea.query-sql").press_sequentially(
            "select customer_tier, count(*) as n\nfrom {{ ref('dim_c"
        )
        page.locator(".ref-suggestions li").first.wait_for()
        shoot(page, "query-view")
    finally:
        page.context.close()
        server.stop()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        root = Path(tmp)
        review(browser.new_context(viewport=VIEWPORT).new_page())
        folded_chains(browser.new_context(viewport=VIEWPORT).new_page())
        loading(browser.new_context(viewport=VIEWPORT).new_page(), root)
        failed(browser.new_context(viewport=VIEWPORT).new_page(), root)
        data_results(browser.new_context(viewport=VIEWPORT).new_page(), root)
        big(browser.new_context(viewport=VIEWPORT).new_page(), root)
        browser.close()


if __name__ == "__main__":
    main()
