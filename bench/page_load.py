"""Page-load benchmark of the own review page on a big project, in headless Chromium.

    python bench/page_load.py --project-dir /tmp/gen5000 [--runs 3]
    (generate the project first: python bench/make_artifacts.py --models 5000 --out /tmp/gen5000)

For each run it spawns `recce-trio server`, opens the page and prints:
- spawn -> the page sees the server ready (health polled every 250 ms);
- spawn -> changed-models list shown (names readable, sorted by downstream impact);
- spawn -> first readable view: the lineage drawn at a zoom where node names are legible;
- the longest main-thread task (Chromium's Long Tasks API) during the load, and while panning
  and zooming the drawn graph for a few seconds (drags, wheel zooms in and out, a fit);
- the JS heap in use once drawn (CDP Performance.getMetrics).
Needs playwright and /usr/bin/chromium (see tests/browser/conftest.py).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.e2e.test_cli import Server  # noqa: E402

LONG_TASKS = """
window.__longTasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__longTasks.push({start: e.startTime, ms: e.duration});
}).observe({type: "longtask", buffered: true});
"""


def pan_and_zoom(page: Page) -> None:
    box = page.locator("#graph").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for _ in range(3):
        page.mouse.move(cx, cy)
        page.mouse.down()
        for step in range(20):
            page.mouse.move(cx - step * 15, cy - step * 8)
        page.mouse.up()
        for _ in range(8):
            page.mouse.wheel(0, 240)  # out, down to the whole graph
            page.wait_for_timeout(30)
        for _ in range(8):
            page.mouse.wheel(0, -240)
            page.wait_for_timeout(30)
    page.click("#zoom-fit")
    page.wait_for_timeout(300)


def one_run(browser_args: list[str], project: Path) -> dict[str, float]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=browser_args)
        page = browser.new_page(viewport={"width": 1400, "height": 800})
        page.add_init_script(LONG_TASKS)
        spawned = time.time()
        server = Server(["server", "--port", "0", "--project-dir", str(project), "--no-watch"])
        try:
            page.goto(server.url)
            page.wait_for_function("window.recce?.app?.metrics?.drawnAt > 0", timeout=300_000)
            m = page.evaluate(
                """() => ({origin: performance.timeOrigin, ...window.recce.app.metrics,
                          tasks: window.__longTasks})"""
            )
            load_longest = max((t["ms"] for t in m["tasks"]), default=0.0)
            mark = page.evaluate("performance.now()")
            pan_and_zoom(page)
            tasks = page.evaluate("(t0) => window.__longTasks.filter((t) => t.start >= t0)", mark)
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            metrics = {x["name"]: x["value"] for x in cdp.send("Performance.getMetrics")["metrics"]}
            to_spawn = lambda at: m["origin"] / 1000 + at / 1000 - spawned  # noqa: E731
            return {
                "ready_s": to_spawn(m["readyAt"]),
                "list_s": to_spawn(m["listAt"]),
                "readable_s": to_spawn(m["drawnAt"]) if m["legible"] else float("nan"),
                "nodes": m["nodes"],
                "info_mb": m["info"]["bytes"] / 1e6,
                "load_longest_ms": load_longest,
                "pan_longest_ms": max((t["ms"] for t in tasks), default=0.0),
                "pan_long_tasks": len(tasks),
                "heap_mb": metrics["JSHeapUsedSize"] / 1e6,
            }
        finally:
            page.context.close()
            browser.close()
            server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--project-dir", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    runs = [one_run(CHROMIUM_ARGS, args.project_dir) for _ in range(args.runs)]
    for i, r in enumerate(runs, 1):
        print(
            f"run {i}: {r['nodes']} nodes drawn; /api/info {r['info_mb']:.1f} MB; page saw ready "
            f"{r['ready_s']:.2f} s; list {r['list_s']:.2f} s; readable {r['readable_s']:.2f} s; "
            "longest task "
            f"{r['load_longest_ms']:.0f} ms loading, {r['pan_longest_ms']:.0f} ms panning/zooming "
            f"({r['pan_long_tasks']} over 50 ms); heap {r['heap_mb']:.1f} MB"
        )
    med = lambda key: statistics.median(r[key] for r in runs)  # noqa: E731
    print(
        f"median of {len(runs)}: spawn -> server ready (as the page saw it) "
        f"{med('ready_s'):.2f} s, -> changed list {med('list_s'):.2f} s, "
        f"spawn -> first readable view {med('readable_s'):.2f} s, longest main-thread task "
        f"while panning/zooming {med('pan_longest_ms'):.0f} ms (max "
        f"{max(r['pan_longest_ms'] for r in runs):.0f} ms), during load "
        f"{med('load_longest_ms'):.0f} ms, JS heap {med('heap_mb'):.1f} MB"
    )


if __name__ == "__main__":
    main()
