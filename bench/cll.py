"""Column-level lineage figures on generated artifacts: the whole-project map, per-node /api/cll
answers cold and warm, change analysis, and the memory they take.

    python bench/make_artifacts.py --models 5000 --out /tmp/gen5000
    python bench/cll.py --project-dir /tmp/gen5000 [--sample 200]

Runs the pure core (recce_trio.core.cll) in this process, single-threaded, as the server's
worker thread would. "cold" clears the per-node cache before each request (the relation
index stays built, as in a running server); "warm" asks again with the cache full, each
sampled node once (each answer is made, none is kept). "sent" is the JSON the server sends
(``cll_json``: joined from pieces encoded after the map); "encoded" is ``cll_data`` encoded,
as it was sent before. Times are
wall-clock; the machine is shared, so compare figures within one run. RSS is read from /proc.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

import msgspec

from recce_trio.core.artifacts import read_catalog, read_manifest
from recce_trio.core.cll.api import CllProject, cll_data, impact_radius
from recce_trio.core.cll.project import count_known
from recce_trio.core.cll.wire import cll_json, prepare


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * 4096 / 1e6


class Timer:
    """Wall-clock and CPU seconds of each timed call (CPU shows the work itself when the
    shared machine is loaded)."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __enter__(self) -> Timer:
        self._t, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall.append(time.perf_counter() - self._t)
        self.cpu.append(time.process_time() - self._c)

    def line(self) -> str:
        return f"wall {percentiles(self.wall)}\n{'':25}CPU  {percentiles(self.cpu)}"


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"p50 {statistics.median(ordered) * 1000:7.2f} ms   p99 {p99 * 1000:7.2f} ms"
        f"   max {ordered[-1] * 1000:7.2f} ms   (n={len(ordered)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project-dir", type=Path, required=True)
    parser.add_argument("--sample", type=int, default=200, help="nodes timed per-node")
    parser.add_argument("--cold-api-sample", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    root: Path = args.project_dir

    t = time.perf_counter()
    base_m = read_manifest(root / "target-base" / "manifest.json")
    base_c = read_catalog(root / "target-base" / "catalog.json")
    cur_m = read_manifest(root / "target" / "manifest.json")
    cur_c = read_catalog(root / "target" / "catalog.json")
    print(f"artifacts read in {time.perf_counter() - t:.1f} s; RSS {rss_mb():.0f} MB")

    project = CllProject(base_m, base_c, cur_m, cur_c)
    t = time.perf_counter()
    changes = project.changes
    project.graph()
    project.current.index  # noqa: B018 - built once per artifact set
    print(f"lineage diff, graph and relation index: {time.perf_counter() - t:.2f} s")

    models = [u for u in project.graph()[0] if u.startswith(("model.", "snapshot."))]
    rng = random.Random(args.seed)
    sample = rng.sample(models, min(args.sample, len(models)))

    cold_node, cold_api = Timer(), Timer()
    for uid in sample:
        project.cache.clear()
        with cold_node:
            project.node(uid)
    # A cold /api/cll analyses every node up- and downstream of the one asked for: few samples.
    for uid in sample[: args.cold_api_sample]:
        project.cache.clear()
        with cold_api:
            cll_data(project, node_id=uid)
    project.cache.clear()

    before = rss_mb()
    t = time.perf_counter()
    cpu = time.process_time()
    full = project.full_map()
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    known, total = count_known(full)
    print(
        f"whole-project map: {len(full)} nodes ({len(models)} models) in {wall:.1f} s"
        f" (CPU {cpu:.1f} s, {cpu / max(len(models), 1) * 1000:.2f} ms per model);"
        f" RSS {before:.0f} -> {rss_mb():.0f} MB (+{rss_mb() - before:.0f} MB);"
        f" columns with a known lineage {known}/{total} ({known / max(total, 1):.1%})"
    )

    before = rss_mb()
    t = time.perf_counter()
    prepare(project)
    print(
        f"answer pieces (wire.prepare): {time.perf_counter() - t:.2f} s;"
        f" RSS {before:.0f} -> {rss_mb():.0f} MB (+{rss_mb() - before:.0f} MB)"
    )

    warm_node, warm_api, warm_col = Timer(), Timer(), Timer()
    sent_api, sent_col, encoded_api = Timer(), Timer(), Timer()
    for uid in sample:
        with warm_node:
            entry = project.node(uid)
        with sent_api:  # what the server sends: joined from the pieces
            cll_json(project, node_id=uid)
        with warm_api:
            data = cll_data(project, node_id=uid)
        with encoded_api:  # the same, as it was sent before the pieces
            msgspec.json.encode({"current": cll_data(project, node_id=uid)})
        if entry is not None and entry.columns:
            name = next(iter(entry.columns))
            with warm_col:  # what a click on a column asks
                cll_data(project, node_id=uid, column=name)
            with sent_col:
                cll_json(project, node_id=uid, column=name)
        del data
    print(f"per-node lineage, cold   {cold_node.line()}")
    print(f"per-node lineage, warm   {warm_node.line()}")
    print(f"/api/cll node_id, cold   {cold_api.line()}")
    print(f"/api/cll node_id, warm   {warm_api.line()}  (cll_data: the dicts)")
    print(f"  as JSON, encoded       {encoded_api.line()}  (cll_data + msgspec)")
    print(f"  as JSON, sent          {sent_api.line()}  (cll_json: the pieces)")
    print(f"/api/cll column, warm    {warm_col.line()}  (cll_data)")
    print(f"  as JSON, sent          {sent_col.line()}  (cll_json)")

    modified = [u for u, s in changes.items() if s == "modified"]
    t = time.perf_counter()
    categories: dict[str, int] = {}
    for uid in modified:
        result = project.change(uid)
        if result is not None:
            categories[result.category] = categories.get(result.category, 0) + 1
    print(
        f"change analysis of {len(modified)} modified nodes: {time.perf_counter() - t:.2f} s"
        f" {dict(sorted(categories.items()))}"
    )
    t = time.perf_counter()
    data = cll_data(project, change_analysis=True, no_upstream=True)
    print(
        f"/api/cll impact at startup (change_analysis, no_upstream), warm:"
        f" {time.perf_counter() - t:.2f} s, {len(data['nodes'])} nodes,"
        f" {len(data['columns'])} columns"
    )
    t = time.perf_counter()
    radius = impact_radius(project)
    print(
        f"impact radius: {time.perf_counter() - t:.2f} s, {len(radius['nodes'])} nodes,"
        f" {len(radius['columns'])} columns; cache entries {len(project.cache)};"
        f" RSS {rss_mb():.0f} MB"
    )


if __name__ == "__main__":
    main()
