"""/api/cll through a real server, and health while the whole-project CLL map is computed.

    python bench/make_artifacts.py --models 5000 --out /tmp/gen5000
    python bench/cll_server.py --project-dir /tmp/gen5000 [--sample 40]

Starts ``recce-trio server`` (a subprocess, 127.0.0.1), waits for ready, then at once:
- probes ``/api/health`` every 20 ms until the background map is done (from the server log);
- asks ``/api/cll`` for ``--sample`` models, one at a time ("cold": the map is still running,
  so a node may or may not be computed yet, and the request shares the CPU with it).
After the map: health for 10 s on the idle server (the machine's own noise, for comparison),
the same requests again ("warm"), and the server's RSS before and after.
Times are wall-clock on a shared machine; compare figures within one run.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx


def pct(samples: list[float]) -> str:
    s = sorted(samples)
    p99 = s[min(len(s) - 1, int(len(s) * 0.99))]
    return (
        f"p50 {statistics.median(s) * 1000:7.1f} ms  p99 {p99 * 1000:7.1f} ms"
        f"  max {s[-1] * 1000:7.1f} ms  (n={len(s)})"
    )


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project-dir", type=Path, required=True)
    parser.add_argument("--sample", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    cmd = [sys.executable, "-m", "recce_trio", "server", "--port", "0", "--no-watch"]
    cmd += ["--project-dir", str(args.project_dir), "--startup-timeout", "600"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url: list[str] = []
    map_done = threading.Event()
    map_line: list[str] = []

    def read_log() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            found = re.search(r"http://127\.0\.0\.1:\d+", line)
            if found and not url:
                url.append(found.group(0))
            if "column lineage map:" in line or "column lineage map failed" in line:
                map_line.append(line.strip())
                map_done.set()

    threading.Thread(target=read_log, daemon=True).start()
    try:
        while not url:
            time.sleep(0.1)
            if proc.poll() is not None:
                sys.exit("the server exited")
        client = httpx.Client(base_url=url[0], timeout=600)
        started = time.perf_counter()
        while not client.get("/api/health").json()["ready"]:
            time.sleep(0.1)
        ready_at = time.perf_counter()
        print(f"ready after {ready_at - started:.1f} s; server RSS {rss_mb(proc.pid):.0f} MB")
        rss_ready = rss_mb(proc.pid)

        health: list[float] = []

        def probe() -> None:
            probe_client = httpx.Client(base_url=url[0], timeout=60)
            while not map_done.is_set():
                t = time.perf_counter()
                probe_client.get("/api/health")
                health.append(time.perf_counter() - t)
                time.sleep(0.02)

        prober = threading.Thread(target=probe)
        prober.start()
        models = client.post("/api/select", json={"select": "resource_type:model"}).json()["nodes"]
        sample = random.Random(args.seed).sample(models, min(args.sample, len(models)))
        cold: list[float] = []
        for uid in sample:
            t = time.perf_counter()
            response = client.post("/api/cll", json={"node_id": uid})
            cold.append(time.perf_counter() - t)
            assert response.status_code == 200, response.text
        cold_done = time.perf_counter()
        map_done.wait()
        prober.join()
        print(map_line[0] if map_line else "(no map line in the log)")
        print(f"whole map done {time.perf_counter() - ready_at:.1f} s after ready")
        print(f"server RSS {rss_ready:.0f} -> {rss_mb(proc.pid):.0f} MB after the map")
        print(f"health while the map ran       {pct(health)}")
        idle: list[float] = []  # the same probe on the idle server: the machine's own noise
        end = time.perf_counter() + 10
        while time.perf_counter() < end:
            t = time.perf_counter()
            client.get("/api/health")
            idle.append(time.perf_counter() - t)
            time.sleep(0.02)
        print(f"health after it (idle server)  {pct(idle)}")
        print(f"/api/cll node, cold (map runs) {pct(cold)}  [{cold_done - ready_at:.1f} s]")
        warm: list[float] = []
        for uid in sample:
            t = time.perf_counter()
            client.post("/api/cll", json={"node_id": uid})
            warm.append(time.perf_counter() - t)
        print(f"/api/cll node, warm            {pct(warm)}")
        t = time.perf_counter()
        body = client.post("/api/cll", json={"change_analysis": True, "no_upstream": True})
        data = body.json()["current"]
        print(
            f"/api/cll impact (change_analysis, no_upstream), warm: "
            f"{(time.perf_counter() - t) * 1000:.0f} ms, {len(data['nodes'])} nodes, "
            f"{len(json.dumps(data)) / 1e6:.1f} MB"
        )
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    main()
