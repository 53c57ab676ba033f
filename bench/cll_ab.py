"""Two builds' warm ``/api/cll {node_id}`` answers side by side, request by request.

    python bench/cll_ab.py --project-dir /tmp/gen5000 --old /path/to/old/checkout \
        --new /path/to/new/checkout [--rounds 4] [--sample 40]

Starts ``recce-trio server`` from each checkout (``PYTHONPATH`` and working directory set to
it), waits for both whole-project maps, then asks each sampled model of both servers in
turn (the order flipped every node) and checks that the two answers are the same JSON. Per
round: each build's wall time through HTTP (p50/p99), the time until the response headers
(p50), and its server process's CPU per request. Both builds run in the same minutes on
the same machine, so the load on a shared machine weighs on both alike; compare within a
round.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.cll_server import DECODERS, Server, cpu_s, pct


class Build(Server):
    """One build's server (from its checkout), named ``label``."""

    def __init__(self, label: str, checkout: Path, project_dir: Path) -> None:
        super().__init__(project_dir, checkout)
        self.label = label
        self.mapped = self.map_done

    def ask(self, uid: str) -> tuple[float, float, float, bytes]:
        """(wall, until the headers, server CPU) of one request, and its decoded body."""
        cpu = cpu_s(self.proc.pid)[0]
        t = time.perf_counter()
        with self.client.stream("POST", "/api/cll", json={"node_id": uid}) as response:
            t_headers = time.perf_counter()
            raw = b"".join(response.iter_raw())
            data = DECODERS[response.headers.get("Content-Encoding", "identity")](raw)
        wall = time.perf_counter() - t
        assert response.status_code == 200, data[:200]
        return wall, t_headers - t, cpu_s(self.proc.pid)[0] - cpu, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project-dir", type=Path, required=True)
    parser.add_argument("--old", type=Path, required=True, help="the old build's checkout")
    parser.add_argument("--new", type=Path, required=True, help="the new build's checkout")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--sample", type=int, default=40)
    args = parser.parse_args()
    builds = [Build("old", args.old, args.project_dir), Build("new", args.new, args.project_dir)]
    try:
        for build in builds:
            build.mapped.wait(900)
        models = builds[1].client.post("/api/select", json={"select": "resource_type:model"})
        nodes = models.json()["nodes"]
        for round_ in range(args.rounds):
            sample = random.Random(round_).sample(nodes, min(args.sample, len(nodes)))
            walls: dict[str, list[float]] = {"old": [], "new": []}
            heads: dict[str, list[float]] = {"old": [], "new": []}
            cpu = {"old": 0.0, "new": 0.0}
            load = os.getloadavg()[0]
            for i, uid in enumerate(sample):
                answers = []
                for build in builds if i % 2 == 0 else builds[::-1]:
                    wall, head, used, data = build.ask(uid)
                    walls[build.label].append(wall)
                    heads[build.label].append(head)
                    cpu[build.label] += used
                    answers.append(json.loads(data))
                assert answers[0] == answers[1], f"the builds answer {uid} differently"
            for label in ("old", "new"):
                print(
                    f"round {round_} (load {load:.1f}) {label}: {pct(walls[label])}; "
                    f"headers p50 {statistics.median(heads[label]) * 1000:.1f} ms; "
                    f"server CPU per request {cpu[label] / len(sample) * 1000:.1f} ms"
                )
    finally:
        for build in builds:
            build.proc.terminate()
            build.proc.wait(30)


if __name__ == "__main__":
    main()
