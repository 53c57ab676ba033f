"""Compare ways to load the four artifacts: how long, and how much they stall the event loop.

    python bench/loop_lag.py --project-dir /tmp/gen5000 --runs 3

Each strategy loads target/ and target-base/ inside `trio.run` while a probe task sleeps 10 ms
in a loop; the probe's extra delay ("lag") is what a health request would wait. Strategies:
  thread, GC on        msgspec typed decode in 4 worker threads, the collector running
  thread, GC off       the same with the collector paused during the load
  thread x1, GC off    one decode at a time (CapacityLimiter(1))
  process, GC off      decoder child processes stream msgpack frames (what the server does)
Figures are medians over runs; compare them within one run.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from pathlib import Path

import trio

from recce_trio.core.artifacts.files import ArtifactPaths
from recce_trio.core.artifactset import LoadProgress
from recce_trio.server import loading
from recce_trio.server.perf import StartupPerfTracker

STRATEGIES = {
    "thread, GC on": ("thread", True, 4),
    "thread, GC off": ("thread", False, 4),
    "thread x1, GC off": ("thread", False, 1),
    "process, GC off": ("process", False, 4),
}


async def measure(paths: ArtifactPaths, decoder: str, gc_on: bool, tokens: int) -> dict[str, float]:
    lags: list[float] = []
    done = trio.Event()

    async def probe() -> None:
        while not done.is_set():
            start = trio.current_time()
            await trio.sleep(0.01)
            lags.append(trio.current_time() - start - 0.01)

    gc.collect()
    if not gc_on:
        gc.disable()
    wall = time.perf_counter()
    cpu = time.process_time()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(probe)
        # Keep the result until the probe stops: freeing it is not part of a load.
        loaded = await loading.load_artifacts(
            paths,
            progress=LoadProgress(),
            tracker=StartupPerfTracker(),
            decoder=decoder,
            limiter=trio.CapacityLimiter(tokens),
        )
        done.set()
    elapsed = time.perf_counter() - wall
    parent_cpu = time.process_time() - cpu
    del loaded
    gc.enable()
    lags.sort()
    return {
        "load_s": elapsed,
        "parent_cpu_s": parent_cpu,
        "lag_p50_ms": lags[len(lags) // 2] * 1000,
        "lag_p99_ms": lags[min(len(lags) - 1, int(len(lags) * 0.99))] * 1000,
        "lag_max_ms": lags[-1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project-dir", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    paths = ArtifactPaths.from_dirs(args.project_dir / "target", args.project_dir / "target-base")
    total = sum(
        paths.path(e, k).stat().st_size
        for e in ("current", "base")
        for k in ("manifest", "catalog")
        if paths.path(e, k).exists()
    )
    print(f"{args.project_dir}: {total / 1e6:.0f} MB in 4 files, {args.runs} runs, medians\n")
    print(
        f"{'strategy':<20} {'load s':>7} {'parent CPU s':>13} "
        f"{'lag p50':>8} {'p99':>8} {'max ms':>8}"
    )
    for name, (decoder, gc_on, tokens) in STRATEGIES.items():
        runs = [trio.run(measure, paths, decoder, gc_on, tokens) for _ in range(args.runs)]
        med = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        print(
            f"{name:<20} {med['load_s']:7.2f} {med['parent_cpu_s']:13.2f} "
            f"{med['lag_p50_ms']:8.1f} {med['lag_p99_ms']:8.1f} {med['lag_max_ms']:8.1f}"
        )


if __name__ == "__main__":
    main()
