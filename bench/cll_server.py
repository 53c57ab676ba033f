"""/api/cll through a real server, and health while the whole-project CLL map is computed.

    python bench/make_artifacts.py --models 5000 --out /tmp/gen5000
    python bench/cll_server.py --project-dir /tmp/gen5000 [--sample 40]

Two runs of ``recce-trio server`` (subprocesses, 127.0.0.1):
1. The map alone: from ready, ``/api/health`` is probed every 20 ms until the background map
   is done (from the server log), with no other request. Reported: the map's wall time, the
   CPU seconds it took in the server process and in its child process(es) (from
   /proc/PID/stat: the server's utime+stime, and the reaped children's cutime+cstime), the
   server's RSS growth, health during the map and then for 10 s on the idle server (the
   machine's own noise, for comparison). Then ``/api/cll {node_id}`` for ``--sample`` models,
   one at a time ("warm").
2. Cold: a fresh server; right after ready, the same requests while the map runs (a node
   may or may not be in the cache yet), with health probed meanwhile.
"warm" asks each sampled node once (a first request for that node, after the map); "asked
again" asks the same nodes a second time (a server that keeps answers sends them again).
Times are wall-clock on a shared machine; the CPU figures (the server's CPU per request too)
and the idle-server line put them in proportion. To measure another build, run this script
from that build's checkout (``recce-trio`` runs from the current directory). Compare figures
within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import brotli
import httpx
import zstandard

TICK = os.sysconf("SC_CLK_TCK")
# httpx sends "Accept-Encoding: gzip, deflate, br, zstd"; the bench decodes as httpx would.
DECODERS = {
    "identity": lambda data: data,
    "gzip": lambda data: zlib.decompress(data, 16 + zlib.MAX_WBITS),
    "br": brotli.decompress,
    "zstd": lambda data: _zstd_frames(data),
}


def _zstd_frames(data: bytes) -> bytes:
    """zstd data of one or more frames (RFC 8878), decoded as httpx decodes it: every
    frame, one after the other."""
    out = []
    while data:
        stream = zstandard.ZstdDecompressor().decompressobj()
        out.append(stream.decompress(data))
        data = stream.unused_data
    return b"".join(out)


def pct(samples: list[float]) -> str:
    if not samples:
        return "(no samples)"
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


def cpu_s(pid: int) -> tuple[float, float]:
    """(the process's own CPU seconds, its reaped children's CPU seconds)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime) / TICK, (cutime + cstime) / TICK


class Server:
    """A ``recce-trio server`` of this checkout, or of ``checkout`` (its ``PYTHONPATH`` and
    working directory), ready when made; ``map_done`` is set by the map's log line."""

    def __init__(self, project_dir: Path, checkout: Path | None = None) -> None:
        cmd = [sys.executable, "-m", "recce_trio", "server", "--port", "0", "--no-watch"]
        cmd += ["--project-dir", str(project_dir), "--startup-timeout", "600"]
        env = None if checkout is None else dict(os.environ, PYTHONPATH=str(checkout))
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=checkout
        )
        self.url: list[str] = []
        self.map_done = threading.Event()
        self.map_line: list[str] = []
        threading.Thread(target=self._read_log, daemon=True).start()
        while not self.url:
            time.sleep(0.05)
            if self.proc.poll() is not None:
                sys.exit("the server exited")
        self.client = httpx.Client(base_url=self.url[0], timeout=600)
        while not self.client.get("/api/health").json()["ready"]:
            time.sleep(0.05)
        self.ready_at = time.perf_counter()

    def _read_log(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            found = re.search(r"http://127\.0\.0\.1:\d+", line)
            if found and not self.url:
                self.url.append(found.group(0))
            if "column lineage map:" in line or "column lineage map failed" in line:
                self.map_line.append(line.strip())
                self.map_done.set()

    def probe_until(self, done: threading.Event, out: list[float]) -> threading.Thread:
        def probe() -> None:
            client = httpx.Client(base_url=self.url[0], timeout=60)
            while not done.is_set():
                t = time.perf_counter()
                client.get("/api/health")
                out.append(time.perf_counter() - t)
                time.sleep(0.02)

        thread = threading.Thread(target=probe)
        thread.start()
        return thread

    def ask(self, sample: list[str], parts: dict[str, list[float]] | None = None) -> list[float]:
        """The wall time of each ``/api/cll {node_id}`` (the request sent, the answer received
        and decoded as httpx decodes it). ``parts`` gets its share in: ``headers`` (until the
        response headers arrived: the server's work), ``body`` (the rest of the bytes),
        ``decode`` (decompressing them), and ``wire_kb``/``json_kb`` (the sizes)."""
        times = []
        for uid in sample:
            t = time.perf_counter()
            with self.client.stream("POST", "/api/cll", json={"node_id": uid}) as response:
                t_headers = time.perf_counter()
                raw = b"".join(response.iter_raw())
                t_body = time.perf_counter()
                coding = response.headers.get("Content-Encoding", "identity")
                data = DECODERS[coding](raw)
            t_end = time.perf_counter()
            times.append(t_end - t)
            assert response.status_code == 200, data[:200]
            if parts is not None:
                for name, value in (
                    ("headers", t_headers - t),
                    ("body", t_body - t_headers),
                    ("decode", t_end - t_body),
                    ("wire_kb", len(raw) / 1e3 / 1e3),  # reported by pct() as if ms
                    ("json_kb", len(data) / 1e3 / 1e3),
                ):
                    parts.setdefault(name, []).append(value)
                parts.setdefault("coding", []).append(coding)  # type: ignore[arg-type]
        return times

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project-dir", type=Path, required=True)
    parser.add_argument("--sample", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    server = Server(args.project_dir)
    try:
        pid = server.proc.pid
        rss_ready = rss_mb(pid)
        own0, children0 = cpu_s(pid)
        print(f"run 1: ready; server RSS {rss_ready:.0f} MB")
        health: list[float] = []
        server.probe_until(server.map_done, health).join()
        wall = time.perf_counter() - server.ready_at
        own1, children1 = cpu_s(pid)
        print(server.map_line[0] if server.map_line else "(no map line in the log)")
        print(
            f"whole map: {wall:.1f} s wall after ready; CPU: server {own1 - own0:.1f} s "
            f"(health probes included), child processes {children1 - children0:.1f} s"
        )
        print(f"server RSS {rss_ready:.0f} -> {rss_mb(pid):.0f} MB after the map")
        print(f"health while the map ran       {pct(health)}")
        idle: list[float] = []
        end = threading.Event()
        threading.Timer(10, end.set).start()
        server.probe_until(end, idle).join()
        print(f"health after it (idle server)  {pct(idle)}")
        models = server.client.post("/api/select", json={"select": "resource_type:model"}).json()[
            "nodes"
        ]
        sample = random.Random(args.seed).sample(models, min(args.sample, len(models)))
        parts: dict[str, list[float]] = {}
        cpu0 = cpu_s(pid)[0]
        print(f"/api/cll node, warm            {pct(server.ask(sample, parts))}")
        cpu1 = cpu_s(pid)[0]
        codings = sorted(set(parts.pop("coding")))  # type: ignore[arg-type]
        wire, size = parts.pop("wire_kb"), parts.pop("json_kb")
        for name, values in parts.items():
            print(f"  of which {name:8}            {pct(values)}")
        print(
            f"  answers: JSON {statistics.median(size) * 1e3:.0f} KB at p50 "
            f"(max {max(size) * 1e3:.0f} KB), sent as {', '.join(codings)} "
            f"{statistics.median(wire) * 1e3:.0f} KB at p50"
        )
        print(
            f"  server CPU per request        {(cpu1 - cpu0) / len(sample) * 1000:.1f} ms "
            "(its process's CPU over those requests / n: the work, whatever the load)"
        )
        print(f"/api/cll node, asked again     {pct(server.ask(sample))}")
        cpu2 = cpu_s(pid)[0]
        print(f"  server CPU per request        {(cpu2 - cpu1) / len(sample) * 1000:.1f} ms")
        print(f"server RSS after those requests {rss_mb(pid):.0f} MB")
        t = time.perf_counter()
        body = server.client.post("/api/cll", json={"change_analysis": True, "no_upstream": True})
        data = body.json()["current"]
        print(
            f"/api/cll impact (change_analysis, no_upstream), warm: "
            f"{(time.perf_counter() - t) * 1000:.0f} ms, {len(data['nodes'])} nodes, "
            f"{len(json.dumps(data)) / 1e6:.1f} MB"
        )
    finally:
        server.stop()

    server = Server(args.project_dir)
    try:
        health = []
        asked = threading.Event()
        prober = server.probe_until(asked, health)
        cold = server.ask(sample)
        asked.set()
        prober.join()
        print(f"run 2: /api/cll node, cold     {pct(cold)}  (while the map runs)")
        print(f"health meanwhile               {pct(health)}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
