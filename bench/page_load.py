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

The runs (Chromium driven, the server spawned) are in page_load_runs.py, the CPU accounting
from /proc in page_load_cpu.py, the report in page_load_report.py.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# bench/ is on sys.path when a script here runs.
from page_load_report import report, report_alone  # noqa: E402
from page_load_runs import alone_run, one_run  # noqa: E402

from tests.browser.conftest import CHROMIUM_ARGS  # noqa: E402
from tests.conftest import load_bench_module  # noqa: E402


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
