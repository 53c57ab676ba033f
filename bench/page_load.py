"""Page-load benchmark of the own review page on a big project, in headless Chromium.

    python bench/page_load.py --project-dir /tmp/gen5000 [--runs 3] [--alone]
    (generate the project first: python bench/make_artifacts.py --models 5000 --out /tmp/gen5000)

The server is started as bench/startup.py starts it: the package's bytecode compiled first
(``--no-compile`` leaves it), ``--log-level warning --loader process``, the artifact watcher
on. For each run it starts Chromium, opens a blank page and waits until Chromium's processes are
idle (less than 20 ms of CPU in half a second: its start, ~1 s of CPU on the 2-core machine,
done), then spawns `recce-trio server` (the clock starts there), opens the page as soon as the
server prints its address, and prints:
- spawn -> the server is ready (the time its "ready in" line arrived: no extra request);
- spawn -> the page knows it is ready (health polled, or the review's data arrived);
- spawn -> changed-models list shown (names readable, sorted by downstream impact);
- spawn -> first readable view: the animation frame after the first frame that drew the lineage
  at a zoom where node names are legible (i.e. it is on screen);
- the page's steps after the server was ready (ms; negative: before it): the page's script ran,
  the review's modules loaded; /api/info asked, answered, received, parsed, indexed, impact
  counted, first view laid out, slimmed (in the data worker), on the page, unpacked; the other
  views' modules loaded; /api/select answered; list rendered; layout asked; graph set; the
  first legible frame's script done (the canvas drawn); on screen;
- whether the first view was drawn from the lineage before /api/select answered, and then
  kept (the server's set was the same) or replaced;
- the longest main-thread task (Chromium's Long Tasks API) during the load, and while panning
  and zooming the drawn graph for a few seconds (drags, wheel zooms in and out, a fit);
- the JS heap in use once drawn (CDP Performance.getMetrics);
- the CPU time Chromium's processes (by kind: browser, renderer, GPU, utility) and the server
  (with its decoder processes; its own process apart) used between spawn and ready, from
  /proc: what competed with the server's load for the cores; and the load average when the
  run started (the machine may be shared).

``--alone`` also spawns the server the same way beside the settled Chromium without opening
the page, once per round, between the page's runs: how much later the page makes the server
ready, and how much more CPU the server uses, at the same load.

Why Chromium settles first: a reviewer's browser is already running when they open the review,
so its start is no part of the page's load. `--browser cold` keeps the earlier definition
(Chromium launched, the server spawned at once: Chromium's start runs on the same cores as the
server's load and delays its ready by ~0.7 s on 2 cores); `--browser both` alternates the two,
one run each, and prints the medians of each.
Needs playwright and /usr/bin/chromium (see tests/browser/conftest.py).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import threading
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.conftest import load_bench_module  # noqa: E402
from tests.e2e.test_cli import Server  # noqa: E402

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


TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def cpu_by_kind(server_pid: int | None) -> dict[str, float]:
    """CPU seconds (user + system) used so far by this process's descendants (with their
    children that have ended), by kind:
    Chromium's by its `--type` (browser, renderer, gpu-process, utility, zygote...), `server`
    for the server's process tree, `driver` for Playwright's; from /proc (Linux)."""
    procs: dict[int, tuple[int, float]] = {}  # pid -> (parent, seconds)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        # utime, stime, and the same of its children that have ended (decoder processes)
        procs[int(entry)] = (int(fields[1]), sum(map(int, fields[11:15])) * TICK_S)
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in procs.items():
        children.setdefault(parent, []).append(pid)
    out: dict[str, float] = {}
    stack = [(pid, False) for pid in children.get(os.getpid(), [])]
    while stack:
        pid, in_server = stack.pop()
        in_server = in_server or pid == server_pid
        kind = "server" if in_server else process_kind(pid)
        out[kind] = out.get(kind, 0.0) + procs[pid][1]
        stack.extend((child, in_server) for child in children.get(pid, []))
    return out


def process_kind(pid: int) -> str:
    """A Chromium process's `--type` ("browser" without one), else "driver" (Playwright's).
    (Chromium's children rewrite their command line as one string.)"""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "driver"
    program = Path(cmdline.split(b"\0")[0].split(b" ")[0].decode(errors="replace")).name
    if "chrom" not in program:
        return "driver"
    if "crashpad" in program:
        return "crashpad"
    kind = re.search(rb"--type=([\w-]+)", cmdline)
    return kind.group(1).decode() if kind else "browser"


def own_cpu(pid: int) -> float:
    """CPU seconds of the process itself (without its children)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return float("nan")
    return sum(map(int, stat[stat.rfind(")") + 2 :].split()[11:13])) * TICK_S


def chromium_seconds(cpu: dict[str, float]) -> float:
    return sum(s for kind, s in cpu.items() if kind not in ("server", "driver"))


def settle(limit_s: float = 20.0) -> float:
    """Wait until Chromium's processes are idle (under 20 ms of CPU in 0.5 s); the seconds
    waited."""
    started = time.monotonic()
    last = chromium_seconds(cpu_by_kind(None))
    while time.monotonic() - started < limit_s:
        time.sleep(0.5)
        now = chromium_seconds(cpu_by_kind(None))
        if now - last < 0.02:
            break
        last = now
    return time.monotonic() - started


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


def report(runs: list[dict], label: str) -> None:
    for i, r in enumerate(runs, 1):
        steps = ", ".join(f"{name} {s * 1000:+.0f}" for name, s in r["steps"].items())
        cpu = ", ".join(
            f"{kind} {s:.2f}" for kind, s in sorted(r["load_cpu"].items(), key=lambda x: -x[1])
        )
        print(
            f"run {i} ({r['browser']} browser"
            + (f", settled in {r['settle_s']:.1f} s" if r["browser"] == "settled" else "")
            + f"): {r['nodes']} nodes drawn; /api/info {r['info_mb']:.1f} MB; server ready "
            f"{r['server_ready_s']:.2f} s; page saw ready "
            f"{r['ready_s']:.2f} s; list {r['list_s']:.2f} s; readable {r['readable_s']:.2f} s; "
            "longest task "
            f"{r['load_longest_ms']:.0f} ms loading, {r['pan_longest_ms']:.0f} ms panning/zooming "
            f"({r['pan_long_tasks']} over 50 ms); heap {r['heap_mb']:.1f} MB; first view drawn "
            f"before /api/select answered: {r['provisional']}\n"
            f"  CPU s from spawn to ready: {cpu} (the server's own process "
            f"{r['server_own_cpu_s']:.2f}); load average {r['load']:.2f} at the start\n"
            f"  after server ready (ms): {steps}"
        )
    med = lambda key: statistics.median(r[key] for r in runs)  # noqa: E731
    print(
        f"median of {len(runs)} ({label}): spawn -> server ready (its log) "
        f"{med('server_ready_s'):.2f} s, "
        f"-> the page saw it {med('ready_s'):.2f} s, -> changed list {med('list_s'):.2f} s, "
        f"spawn -> first readable view {med('readable_s'):.2f} s (server ready -> readable "
        f"{statistics.median(r['readable_s'] - r['server_ready_s'] for r in runs):.2f} s), "
        "longest main-thread task "
        f"while panning/zooming {med('pan_longest_ms'):.0f} ms (max "
        f"{max(r['pan_longest_ms'] for r in runs):.0f} ms), during load "
        f"{med('load_longest_ms'):.0f} ms, JS heap {med('heap_mb'):.1f} MB; CPU from spawn to "
        f"ready: Chromium {med('chromium_cpu_s'):.2f} s, the server {med('server_cpu_s'):.2f} s "
        f"(its own process {med('server_own_cpu_s'):.2f} s, the rest its decoders)"
    )


def report_alone(runs: list[dict]) -> None:
    for i, r in enumerate(runs, 1):
        print(
            f"alone {i}: server ready {r['server_ready_s']:.2f} s; CPU s from spawn to ready: "
            f"the server {r['server_cpu_s']:.2f} (its own process {r['server_own_cpu_s']:.2f}), "
            f"Chromium {r['chromium_cpu_s']:.2f}; load average {r['load']:.2f} at the start"
        )
    med = lambda key: statistics.median(r[key] for r in runs)  # noqa: E731
    print(
        f"median of {len(runs)} (the server alone, no page opened): spawn -> server ready "
        f"{med('server_ready_s'):.2f} s; CPU from spawn to ready: the server "
        f"{med('server_cpu_s'):.2f} s (its own process {med('server_own_cpu_s'):.2f} s), "
        f"Chromium {med('chromium_cpu_s'):.2f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--project-dir", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--browser",
        choices=["settled", "cold", "both"],
        default="settled",
        help="settled: Chromium started and idle before the server is spawned (the default: a "
        "reviewer's browser is already running); cold: spawned right after Chromium's launch; "
        "both: alternated, --runs of each",
    )
    ap.add_argument(
        "--alone",
        action="store_true",
        help="also spawn the server without opening the page (Chromium settled beside it), "
        "alternated with the page's runs: how much the page delays the server's load",
    )
    ap.add_argument(
        "--no-compile",
        action="store_true",
        help="do not compile the package's bytecode first (as bench/startup.py --no-compile)",
    )
    args = ap.parse_args()
    if not args.no_compile:
        load_bench_module("startup").compile_package()
    kinds = {"settled": [True], "cold": [False], "both": [False, True]}[args.browser]
    runs, alone = [], []
    for _ in range(args.runs):
        for settled in kinds:
            load = os.getloadavg()[0]
            runs.append({**one_run(CHROMIUM_ARGS, args.project_dir, settled), "load": load})
        if args.alone:
            load = os.getloadavg()[0]
            alone.append({**alone_run(CHROMIUM_ARGS, args.project_dir), "load": load})
    for settled in kinds:
        label = "settled browser" if settled else "cold browser"
        report([r for r in runs if (r["browser"] == "settled") == settled], label)
    if alone:
        report_alone(alone)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
