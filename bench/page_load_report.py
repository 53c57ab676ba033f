"""page_load.py's report: each run's line, and the medians of the runs."""

from __future__ import annotations

import statistics


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
