"""page_load.py's runs: Chromium driven by Playwright against a spawned ``recce-trio server``.

``one_run`` opens the review page and reads the page's own metrics, the long tasks while it
loads and while the graph is panned and zoomed, the JS heap, and the CPU used until the server
was ready; ``alone_run`` spawns the server beside an idle Chromium without opening the page.
(page_load.py puts the repository on ``sys.path`` for the ``tests`` imports.)
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from page_load_cpu import chromium_seconds, cpu_by_kind, own_cpu, settle
from playwright.sync_api import Page, sync_playwright

from tests.browser.conftest import CHROMIUM
from tests.e2e.test_cli import Server

# The server is started as bench/startup.py starts it (the same flags; its bytecode compiled
# first), so that the two benchmarks' times to ready can be compared.
SERVER_FLAGS = ["--log-level", "warning", "--loader", "process"]

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


def watch_for_ready(server: Server) -> list:
    """When the server said that it is ready (its "ready in" line on stderr, printed at any
    log level), as time.time(), then the CPU seconds used by kind (cpu_by_kind); read from its
    output, so that finding out adds no request to the server."""
    found: list = []

    def watch() -> None:
        seen = 0
        while server.proc.poll() is None and not found:
            lines = server.lines[seen:]
            seen += len(lines)
            if any(line.startswith("ready in ") for line in lines):
                at = time.time()
                found.extend((at, cpu_by_kind(server.proc.pid), own_cpu(server.proc.pid)))
            time.sleep(0.005)

    threading.Thread(target=watch, daemon=True).start()
    return found


def spawn_watched(project: Path) -> tuple[dict[str, float], float, Server, list]:
    """The CPU used so far by kind, the spawn time, and the server spawned with the benches'
    flags, whose ready line is watched for (``watch_for_ready``)."""
    before = cpu_by_kind(None)
    spawned = time.time()
    server = Server(["server", "--port", "0", "--project-dir", str(project), *SERVER_FLAGS])
    return before, spawned, server, watch_for_ready(server)


def alone_run(browser_args: list[str], project: Path) -> dict:
    """The server spawned as one_run spawns it, beside a settled Chromium, no page opened."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=browser_args)
        page = browser.new_page(viewport={"width": 1400, "height": 800})
        page.goto("about:blank")
        settle_s = settle()
        before, spawned, server, ready_at = spawn_watched(project)
        try:
            deadline = time.monotonic() + 300
            while not ready_at and time.monotonic() < deadline and server.proc.poll() is None:
                time.sleep(0.01)
            if not ready_at:
                raise RuntimeError("the server never said it was ready:\n" + server.output)
            load_cpu = {k: v - before.get(k, 0.0) for k, v in ready_at[1].items()}
            return {
                "settle_s": settle_s,
                "server_ready_s": ready_at[0] - spawned,
                "load_cpu": load_cpu,
                "server_cpu_s": load_cpu.get("server", float("nan")),
                "server_own_cpu_s": ready_at[2],
                "chromium_cpu_s": chromium_seconds(load_cpu),
            }
        finally:
            page.context.close()
            browser.close()
            server.stop()


def one_run(browser_args: list[str], project: Path, settled: bool) -> dict:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=browser_args)
        page = browser.new_page(viewport={"width": 1400, "height": 800})
        page.add_init_script(LONG_TASKS)
        settle_s = 0.0
        if settled:
            page.goto("about:blank")
            settle_s = settle()
        before, spawned, server, ready_at = spawn_watched(project)
        try:
            page.goto(server.url)
            # The first legible frame on screen and the changed list (a page older than the
            # paintedAt metric: the moment the graph was set).
            page.wait_for_function(
                """(() => {
                  const m = window.recce?.app?.metrics;
                  return m?.listAt > 0
                    && (m?.paintedAt > 0 || (m?.drawnAt > 0 && !("paintedAt" in m)));
                })()""",
                timeout=300_000,
            )
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
            server_ready = ready_at[0] - spawned if ready_at else float("nan")
            at_ready = ready_at[1] if ready_at else {}
            load_cpu = {k: v - before.get(k, 0.0) for k, v in at_ready.items()}
            # The page's steps, each as seconds after the server said it was ready.
            steps = {
                name: to_spawn(at) - server_ready
                for name, at in [
                    ("page script", m["start"]),
                    ("page saw ready", m["readyAt"]),
                    ("review loaded", m.get("modulesAt")),
                    *[
                        (f"info {step}", m["info"].get(key))
                        for step, key in [
                            ("asked", "asked"),
                            ("answered", "answered"),
                            ("body", "received"),
                            ("parsed", "parsed"),
                            ("indexed", "indexed"),
                            ("impact", "impact"),
                            ("laid out", "laidOut"),
                            ("slimmed", "slimmed"),
                        ]
                    ],
                    ("info on page", m.get("infoReceivedAt")),
                    ("unpacked", m.get("infoUnpackedAt")),
                    ("select", m.get("selectAt")),
                    ("other views loaded", m.get("panelsAt")),
                    ("list", m["listAt"]),
                    ("layout asked", m.get("layoutStart")),
                    ("graph set", m["drawnAt"]),
                    ("frame drawn", m["frameAt"] + m["frameMs"] if m.get("frameAt") else None),
                    ("on screen", m.get("paintedAt")),
                ]
                if at is not None
            }
            return {
                "browser": "settled" if settled else "cold",
                "settle_s": settle_s,
                "load_cpu": load_cpu,
                "chromium_cpu_s": chromium_seconds(load_cpu) if load_cpu else float("nan"),
                "server_cpu_s": load_cpu.get("server", float("nan")),
                "server_own_cpu_s": ready_at[2] if ready_at else float("nan"),
                "server_ready_s": server_ready,
                "steps": steps,
                "ready_s": to_spawn(m["readyAt"]),
                "list_s": to_spawn(m["listAt"]),
                "readable_s": to_spawn(m.get("paintedAt") or m["drawnAt"])
                if m["legible"]
                else float("nan"),
                "nodes": m["nodes"],
                "provisional": m.get("provisional", "none"),
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
