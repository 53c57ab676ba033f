"""Start the real `recce-trio server` several times and print how fast it is up, and how it answers.

    python bench/make_artifacts.py --models 5000 --out /tmp/gen5000
    python bench/startup.py --project-dir /tmp/gen5000 --runs 5

Per run: time to port open, to the first /api/health 200, and to ready (the first 200 of a
gated endpoint, /api/info by default, asked for uncompressed), and the CPU time the server
and its decoder processes had used by then (Linux: /proc); then when the same body arrived
br-compressed, as a browser asks for it; /api/health latency (p50/p99/max) while loading,
probed every 20 ms from a separate thread over a keep-alive connection; peak RSS of the server
and of its decoder processes (from /api/startup-perf); the /api/info body's size, raw and on
the wire in each content coding, and of the own page's form (``?lineage=page``); the server's
own per-step timings (/api/startup-perf: the last run's, and each step's median over the
runs). Also the floors measured in the same run: interpreter start plus the server's imports,
and the fastest single-threaded decode of the four files. Compare figures as ratios within
one run: machines are shared and noisy.

Before the runs the package's bytecode is compiled (``compileall``), as installing it does: a
server started with ``PYTHONDONTWRITEBYTECODE=1`` and no ``__pycache__`` (a fresh checkout
run that way) compiles every module it imports from source at each start, in the server and
in each decoder process (~0.1 s of CPU here). ``--no-compile`` leaves the folders as they are.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

PROBE_INTERVAL_S = 0.02


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def request(
    conn: http.client.HTTPConnection, path: str, encoding: str = "identity"
) -> tuple[int, bytes]:
    conn.request("GET", path, headers={"Accept-Encoding": encoding})
    response = conn.getresponse()
    body = response.read()
    return response.status, body


ENCODINGS = ("gzip", "br", "zstd")
# The own page's form of /api/info (its data worker asks for it).
PAGE_FORM = "/api/info?lineage=page"


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time of a process, and of its children it has reaped (its decoder processes)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(x) for x in fields[11:13]) / ticks, sum(int(x) for x in fields[13:15]) / ticks


def one_run(project: Path, ready_path: str, loader: str) -> dict[str, object]:
    port = free_port()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "recce_trio",
            "server",
            "--port",
            str(port),
            "--project-dir",
            str(project),
            "--log-level",
            "warning",
            "--loader",
            loader,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    port_open = time.perf_counter() - start
                    break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("server exited before listening") from None
                time.sleep(0.002)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            try:
                status, _ = request(conn, "/api/health")
            except (ConnectionError, http.client.HTTPException):
                conn.close()
                time.sleep(0.002)
                continue
            if status == 200:
                health_ok = time.perf_counter() - start
                break

        latencies: list[float] = []
        stop = threading.Event()

        def probe() -> None:
            probe_conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            while not stop.is_set():
                t0 = time.perf_counter()
                request(probe_conn, "/api/health")
                latencies.append(time.perf_counter() - t0)
                time.sleep(PROBE_INTERVAL_S)
            probe_conn.close()

        prober = threading.Thread(target=probe)
        prober.start()
        ready_conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        status, body = request(ready_conn, ready_path)
        ready = time.perf_counter() - start
        server_cpu, children_cpu = cpu_seconds(proc.pid)
        _, _ = request(ready_conn, ready_path, "br")
        ready_br = time.perf_counter() - start
        stop.set()
        prober.join()
        if status != 200:
            raise RuntimeError(f"{ready_path} answered {status}: {body[:300]!r}")
        wire = {"identity": len(body)}
        for encoding in ENCODINGS:
            wire[encoding] = len(request(ready_conn, ready_path, encoding)[1])
        page_wire = {}  # the own page's form of /api/info
        if ready_path == "/api/info":
            for encoding in ("identity", *ENCODINGS):
                page_wire[encoding] = len(request(ready_conn, PAGE_FORM, encoding)[1])
        _, perf_body = request(ready_conn, "/api/startup-perf")  # conn idled out meanwhile
        perf = json.loads(perf_body)
        server_rss = peak_rss_kb(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    worker_rss = max(
        (perf.get("counts") or {}).get(k, 0)
        for k in (
            "curr_manifest_worker_rss_kb",
            "base_manifest_worker_rss_kb",
            "curr_catalog_worker_rss_kb",
            "base_catalog_worker_rss_kb",
        )
    )
    return {
        "port_open": port_open,
        "health_200": health_ok,
        "ready": ready,
        "cpu_to_ready": server_cpu + children_cpu,
        "server_cpu": server_cpu,
        "decoders_cpu": children_cpu,
        "ready_br": ready_br,
        "wire": wire,
        "page_wire": page_wire,
        "latencies": latencies,
        "server_rss_mb": server_rss / 1024,
        "worker_rss_mb": worker_rss / 1024,
        "timings": perf.get("timings"),
    }


def compile_package() -> None:
    """Compile the bytecode of the recce_trio that the server will import, as installing does."""
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, recce_trio; print(os.path.dirname(recce_trio.__file__))",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    done = subprocess.run([sys.executable, "-m", "compileall", "-q", where]).returncode == 0
    if done:
        print(f"bytecode of {where} compiled (--no-compile: compiled from source at each start)\n")
    else:  # a read-only install, say: it has its bytecode already, or runs without
        print(f"could not compile the bytecode of {where}: measured as it is\n")


def import_floor(runs: int) -> list[float]:
    code = "import recce_trio.cli, recce_trio.server.app, recce_trio.server.serve"
    code += ", recce_trio.server.loading"
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - t0)
    return times


DECODE_FLOOR = r"""
import gc, sys, time, msgspec
from pathlib import Path
from recce_trio.core.artifacts.records import Catalog, Manifest
paths = [Path(p) for p in sys.argv[1:]]
kinds = [Manifest if p.name == "manifest.json" else Catalog for p in paths]
results = {}
def run(name, fn):
    gc.disable()
    t0 = time.perf_counter()
    for p, k in zip(paths, kinds):
        fn(p.read_bytes(), k)
    results[name] = time.perf_counter() - t0
    gc.enable(); gc.collect()
run("msgspec typed structs, GC off", lambda b, k: msgspec.json.decode(b, type=k))
run("msgspec untyped, GC off", lambda b, k: msgspec.json.decode(b))
try:
    import orjson
    run("orjson, GC off", lambda b, k: orjson.loads(b))
except ImportError:
    pass
print(repr(results))
"""


def decode_floor(project: Path) -> dict[str, float]:
    files = [
        str(project / d / f"{k}.json")
        for d in ("target", "target-base")
        for k in ("manifest", "catalog")
        if (project / d / f"{k}.json").exists()
    ]
    out = subprocess.run(
        [sys.executable, "-c", DECODE_FLOOR, *files], check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, float] = eval(out)  # our own repr of a dict of floats
    return result


def spread(values: list[float], scale: float = 1000.0) -> str:
    return (
        f"min {min(values) * scale:8.1f}  median {statistics.median(values) * scale:8.1f}"
        f"  max {max(values) * scale:8.1f}"
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project-dir", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ready-path", default="/api/info")
    parser.add_argument("--loader", choices=["process", "thread"], default="process")
    parser.add_argument(
        "--no-compile",
        action="store_true",
        help="do not compile the package's bytecode first (time compiling from source too)",
    )
    args = parser.parse_args()
    project: Path = args.project_dir
    sizes = {
        f"{d}/{k}": (project / d / k).stat().st_size
        for d in ("target", "target-base")
        for k in ("manifest.json", "catalog.json")
        if (project / d / k).exists()
    }
    total_mb = sum(sizes.values()) / 1e6
    print(f"project {project}: " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sizes.items()))
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, loader={args.loader}, "
        f"{args.runs} runs\n"
    )

    if not args.no_compile:
        compile_package()
    imports = import_floor(args.runs)
    floors = decode_floor(project)
    runs = [one_run(project, args.ready_path, args.loader) for _ in range(args.runs)]

    latencies = [lat for run in runs for lat in run["latencies"]]  # type: ignore[attr-defined]
    print("times from process start, ms:")
    for key in ("port_open", "health_200", "ready", "ready_br"):
        print(f"  {key:<12} {spread([run[key] for run in runs])}")  # type: ignore[misc]
    print(
        "\nCPU time to ready (server and its decoder processes; a shared machine inflates it "
        f"less than wall time), ms:\n  {spread([run['cpu_to_ready'] for run in runs])}"  # type: ignore[misc]
    )
    print(f"  of which the server   {spread([run['server_cpu'] for run in runs])}")  # type: ignore[misc]
    print(f"  and the decoders      {spread([run['decoders_cpu'] for run in runs])}")  # type: ignore[misc]
    print(
        f"\n/api/health while loading ({len(latencies)} probes, "
        f"every {PROBE_INTERVAL_S * 1000:.0f} ms), ms:"
    )
    if latencies:
        print(
            f"  p50 {percentile(latencies, 0.5) * 1000:.1f}"
            f"  p99 {percentile(latencies, 0.99) * 1000:.1f}"
            f"  max {max(latencies) * 1000:.1f}"
        )
    server_rss = [run["server_rss_mb"] for run in runs]
    worker_rss = [run["worker_rss_mb"] for run in runs]
    print(
        f"\npeak RSS, MB: server {spread(server_rss, 1)}; largest decoder process "  # type: ignore[arg-type]
        f"{max(worker_rss):.0f}; artifacts total {total_mb:.0f} MB "  # type: ignore[type-var]
        f"(server peak / artifacts = {statistics.median(server_rss) / total_mb:.2f}x)"
    )  # type: ignore[arg-type]
    wire: dict[str, int] = runs[-1]["wire"]  # type: ignore[assignment]
    print(f"\n{args.ready_path} body of the last run, MB:")
    print("  " + ", ".join(f"{name} {size / 1e6:.2f}" for name, size in wire.items()))
    print("\nfloors, ms:")
    print(f"  interpreter + imports   {spread(imports)}")
    for name, seconds in sorted(floors.items(), key=lambda kv: kv[1]):
        print(f"  decode 4 files: {name:<30} {seconds * 1000:8.1f}")
    decode_min = min(floors.values())
    health = statistics.median([run["health_200"] for run in runs])  # type: ignore[misc]
    ready = statistics.median([run["ready"] for run in runs])  # type: ignore[misc]
    p99 = percentile(latencies, 0.99) if latencies else 0.0
    print("\ntargets:")
    print(f"  health 200 - import floor = {(health - min(imports)) * 1000:.0f} ms (target <= 150)")
    print(f"  health p99 while loading  = {p99 * 1000:.1f} ms (target <= 50)")
    print(f"  ready / decode floor      = {ready / decode_min:.2f}x (target <= 1.5)")
    if args.ready_path == "/api/info":
        smallest = min(size for name, size in wire.items() if name != "identity")
        print(f"  /api/info raw             = {wire['identity'] / 1e6:.2f} MB (target <= 3)")
        print(f"  /api/info on the wire     = {smallest / 1e6:.2f} MB (target <= 1)")
        page: dict[str, int] = runs[-1]["page_wire"]  # type: ignore[assignment]
        page_smallest = min(size for name, size in page.items() if name != "identity")
        print(
            f"  the own page's form ({PAGE_FORM}): raw {page['identity'] / 1e6:.2f} MB,"
            f" on the wire {page_smallest / 1e6:.2f} MB"
        )
    print("\nper-step server timings of the last run, ms:", json.dumps(runs[-1]["timings"]))
    steps: dict[str, list[float]] = {}
    for run in runs:
        for name, ms in (run["timings"] or {}).items():  # type: ignore[attr-defined]
            steps.setdefault(name, []).append(ms)
    print(
        "per-step server timings, median of the runs, ms:",
        json.dumps({name: round(statistics.median(v), 1) for name, v in steps.items()}),
    )


if __name__ == "__main__":
    main()
