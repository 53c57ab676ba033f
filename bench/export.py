"""Run exports through a real `recce-trio server`: wall time, bytes, server RSS growth and
/api/health p99 while each export streams.

    python bench/make_warehouse.py --out /tmp/recce_whbench      # once (1M-row model `big`)
    python bench/export.py --project /tmp/recce_whbench [--rows 500000] [--only csv] [--repeat 3]

The server is a child process (`python -m recce_trio server`, the project's profiles.yml).
For each case a query run is submitted (its result keeps 2,000 rows), then
GET /api/runs/{id}/export?format=... is read to its end by this process, while another thread
asks /api/health every 20 ms on its own connection. RSS growth is the server's VmHWM (peak
resident) during the export minus its VmRSS before it. A last case reads the export slowly
(64 KiB every 10 ms) to show the server does not buffer ahead of a slow client. The machine is
shared: compare figures within one invocation; "less CPU waits" is the health p99 less the
time the server's event loop and the probe waited for a CPU (see runs.HealthProbe).
``--only`` keeps the cases whose label contains that text, ``--repeat`` runs each that often.
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# bench/ is on sys.path when a script here runs.
from runs import (
    HealthProbe,
    free_port,
    probe_idle,
    reset_peak,
    status_kb,
    submit,
    wait,
    wait_settled,
)


def download(port: int, path: str, *, slow: bool = False) -> tuple[int, int, str]:
    """Read an answer to its end: (status, bytes, content type)."""
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    con.request("GET", path)
    response = con.getresponse()
    size = 0
    while chunk := response.read(64 * 1024):
        size += len(chunk)
        if slow:
            time.sleep(0.01)
    con.close()
    return response.status, size, response.getheader("Content-Type") or ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path("/tmp/recce_whbench"))
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--only", default="", help="only the cases whose label contains this")
    parser.add_argument("--repeat", type=int, default=1, help="run each case this many times")
    args = parser.parse_args()
    port = free_port()
    env = {**os.environ, "DBT_PROFILES_DIR": str(args.project)}
    server = subprocess.Popen(
        [sys.executable, "-m", "recce_trio", "server", "--port", str(port), "--no-watch",
         "--project-dir", str(args.project), "--log-level", "warning"],
        env=env, cwd=args.project,
    )  # fmt: skip
    try:
        health = wait_settled(port)
        print(f"warehouse: {health.get('warehouse')}")
        idle = probe_idle(port, server_pid=server.pid)
        print(f"health p99 with nothing running: {idle.figures()}")
        n = args.rows
        big = f"select * from {{{{ ref('big') }}}} order by id limit {n}"
        narrow = f"select id, c1, label, amount from {{{{ ref('big') }}}} order by id limit {n}"
        cases: list[tuple[str, str, dict[str, Any], str, bool]] = [
            (f"query csv, {n:,} x 21 cols", "query", {"sql_template": big}, "csv", False),
            (f"query tsv, {n:,} x 4 cols", "query", {"sql_template": narrow}, "tsv", False),
            (f"query_diff csv, 2 x {n:,} x 4", "query_diff", {"sql_template": narrow}, "csv",
             False),
            ("query xlsx, 100,000 x 21 cols", "query",
             {"sql_template": big.replace(f"limit {n}", "limit 100000")}, "xlsx", False),
            (f"query csv, {n:,} x 21, slow client", "query", {"sql_template": big}, "csv", True),
        ]  # fmt: skip
        cases = [c for c in cases if args.only in c[0] for _ in range(args.repeat)]
        print(
            f"{'export':36} {'HTTP':>4} {'MB':>7} {'wall s':>7} {'RSS +MB':>8} "
            f"{'health p99 ms':>14} {'less CPU waits':>15}"
        )
        for label, run_type, params, fmt, slow in cases:
            run = wait(port, submit(port, run_type, params))
            assert run["status"] == "Finished", run["error"]
            reset_peak(server.pid)
            before = status_kb(server.pid, "VmRSS")
            probe = HealthProbe(port, server.pid)
            probe.start()
            started = time.perf_counter()
            status, size, _ = download(port, f"/api/runs/{run['run_id']}/export?format={fmt}",
                                       slow=slow)  # fmt: skip
            wall = time.perf_counter() - started
            probe.stop.set()
            probe.join()
            growth = (status_kb(server.pid, "VmHWM") - before) / 1024
            print(
                f"{label:36} {status:4} {size / 1e6:7.1f} {wall:7.2f} {growth:8.1f} "
                f"{probe.p99_ms():14.1f} {probe.p99_ms(less_cpu_waits=True):15.1f}"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
