"""Warehouse runs through a real `recce-trio server`: wall time, server RSS growth and
/api/health p99 while each run goes, and how long a cancel takes.

    python bench/make_warehouse.py --out /tmp/recce_whbench      # once
    python bench/runs.py --project /tmp/recce_whbench [--models 200] [--engine dbt]
                         [--only row_count_diff] [--repeat 5] [--fresh]

The server is a child process (`python -m recce_trio server`, the project's profiles.yml);
``--engine dbt`` starts it with ``--dbt-adapter``, so the profile is opened through dbt's
adapter (recce_trio/warehouse/dbt_engine.py, the path of every warehouse but DuckDB and
PostgreSQL): run it with a Python that has dbt-core and dbt-duckdb. Before the runs,
/api/health is probed for 2 s with nothing running: the p99 of an idle server on this
machine now, to read the others against. For
each run: POST /api/runs (nowait), then GET /api/runs/{id}/wait until it ends, while another
thread asks /api/health every 20 ms on its own connection. RSS growth is the server's VmHWM
(peak resident) during the run minus its VmRSS before it; each server's idle RSS, with its
warehouse connected, is printed when it has settled (what a build moves from the runs to the
connection shows there). The project's ``wide<COLUMNS>`` models (``make_warehouse.py
--wide``) get a value_diff, keyed query_diff, value_diff_detail, profile_diff, query
(``select *``, its first 2,000 rows; again ``order by id``) and query_diff without keys
(both sides' first rows) each. The machine is shared: compare figures within one
invocation. ``--only`` keeps the runs whose label contains that text, ``--repeat`` runs
each that many times (more health samples: the p99 of one short run is close to its
maximum); ``--dump DIR`` writes each run's result into DIR as JSON (to compare two builds':
run this script with PYTHONPATH at each checkout).
"less CPU waits" is each probe's time less what the server's event loop thread and the
probe's thread spent waiting for a CPU meanwhile (Linux schedstat): on a loaded machine what
is left is mostly the loop waiting for the interpreter. ``--fresh`` runs each in a server of
its own, so that what one run left resident (DuckDB's cache, the allocator's free pages)
does not hide the next run's RSS growth.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(port: int, method: str, path: str, body: Any = None) -> Any:
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    data = None if body is None else json.dumps(body)
    con.request(method, path, body=data, headers={"Content-Type": "application/json"})
    response = con.getresponse()
    text = response.read()
    con.close()
    return json.loads(text) if text else None


def status_kb(pid: int, field: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    return int(match.group(1)) if match else 0


def reset_peak(pid: int) -> None:
    # Linux >= 4.0: writing 5 to clear_refs resets VmHWM to the current RSS.
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def cpu_wait_s(path: str) -> float:
    """How long a thread has been runnable but waiting for a CPU, in s (Linux schedstat)."""
    try:
        with open(path) as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


class HealthProbe(threading.Thread):
    """/api/health every 20 ms on its own connection. Given the server's pid, each sample is
    also kept less the time the server's event-loop thread and this probe's thread spent
    waiting for a CPU meanwhile: on a loaded shared machine that wait swamps the rest, and
    what is left is mostly the loop's wait for the interpreter (a thread of the server
    holding the GIL), the part the server's own code decides."""

    def __init__(self, port: int, server_pid: int | None = None) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.server_pid = server_pid
        self.samples: list[float] = []
        self.less_waits: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        pid = self.server_pid
        paths = ["/proc/thread-self/schedstat", f"/proc/{pid}/task/{pid}/schedstat"]
        con = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self.stop.is_set():
            waits = sum(map(cpu_wait_s, paths)) if pid else 0.0
            started = time.perf_counter()
            con.request("GET", "/api/health")
            con.getresponse().read()
            took = time.perf_counter() - started
            self.samples.append(took)
            if pid:
                self.less_waits.append(max(0.0, took - (sum(map(cpu_wait_s, paths)) - waits)))
            time.sleep(0.02)
        con.close()

    def p99_ms(self, *, less_cpu_waits: bool = False) -> float:
        samples = self.less_waits if less_cpu_waits else self.samples
        if not samples:
            return float("nan")
        ordered = sorted(samples)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000

    def figures(self) -> str:
        """The p99, and the p99 less CPU waits where known."""
        text = f"{self.p99_ms():.1f} ms"
        if self.less_waits:
            text += f" ({self.p99_ms(less_cpu_waits=True):.1f} ms less CPU waits)"
        return text


def probe_idle(port: int, seconds: float = 2.0, server_pid: int | None = None) -> HealthProbe:
    probe = HealthProbe(port, server_pid)
    probe.start()
    time.sleep(seconds)
    probe.stop.set()
    probe.join()
    return probe


def submit(port: int, run_type: str, params: dict[str, Any]) -> str:
    body = call(port, "POST", "/api/runs", {"type": run_type, "params": params, "nowait": True})
    return str(body["run_id"])


def wait(port: int, run_id: str) -> dict[str, Any]:
    while True:
        run = call(port, "GET", f"/api/runs/{run_id}/wait?timeout=30")
        if run["status"] != "Running":
            return dict(run)


def wait_settled(port: int, timeout_s: float = 120) -> dict[str, Any]:
    """/api/health once the server is ready and its warehouse is ready or failed."""
    deadline = time.monotonic() + timeout_s
    health: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            health = call(port, "GET", "/api/health")
            if health["ready"] and health["warehouse"]["state"] in ("ready", "failed"):
                break
        except OSError:
            pass
        time.sleep(0.2)
    return health


def start_server(args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], int]:
    """A server on the bench project, its warehouse settled (through dbt: opened)."""
    port = free_port()
    env = {**os.environ, "DBT_PROFILES_DIR": str(args.project)}
    dbt = ["--dbt-adapter"] if args.engine == "dbt" else []
    server = subprocess.Popen(
        [sys.executable, "-m", "recce_trio", "server", "--port", str(port), "--no-watch",
         "--project-dir", str(args.project), "--log-level", "warning", *dbt],
        env=env, cwd=args.project,
    )  # fmt: skip
    health = wait_settled(port)
    if args.engine == "dbt":  # the first statement through dbt opens its connection
        wait(port, submit(port, "query", {"sql_template": "select 1 as one"}))
    rss = status_kb(server.pid, "VmRSS") / 1024
    print(f"engine: {args.engine}; warehouse: {health['warehouse']}; idle RSS {rss:.1f} MB")
    return server, port


def wide_models(project: Path) -> list[str]:
    """The project's ``wide<COLUMNS>`` models (bench/make_warehouse.py ``--wide``)."""
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    names = [n["name"] for n in manifest["nodes"].values()]
    return sorted((n for n in names if re.fullmatch(r"wide\d+", n)), key=lambda n: int(n[4:]))


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path("/tmp/recce_whbench"))
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--engine", choices=("native", "dbt"), default="native")
    parser.add_argument("--only", default="", help="only the runs whose label contains this")
    parser.add_argument("--repeat", type=int, default=1, help="run each this many times")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="each run in a server of its own (else one for all: a run's RSS growth then "
        "depends on what the runs before it left resident)",
    )
    parser.add_argument(
        "--dump",
        type=Path,
        help="write each run's result as JSON into this folder (<label>.json), to compare "
        "two builds' results",
    )
    args = parser.parse_args()
    server, port = start_server(args)
    try:
        print(f"health p99 with no run: {probe_idle(port, server_pid=server.pid).figures()}")
        key_sql = "select * from {{ ref('big') }}"
        # Both environments' rows joined on the key, then grouped: a query's heavier work.
        join_sql = (
            "select c.label, count(*) as n, sum(c.amount - b.amount) as moved "
            'from {{ ref(\'big\') }} c join "whbench"."prod"."big" b using (id) '
            "group by c.label order by c.label"
        )
        runs: list[tuple[str, str, dict[str, Any]]] = [
            (f"row_count_diff, {args.models} models", "row_count_diff",
             {"node_names": [f"m{m}" for m in range(args.models)]}),
            ("query_diff keyed, big", "query_diff",
             {"sql_template": key_sql, "primary_keys": ["id"]}),
            ("value_diff, big x 20 columns", "value_diff", {"model": "big", "primary_key": "id"}),
            ("profile_diff, 50 columns", "profile_diff", {"model": "wide"}),
            ("top_k_diff", "top_k_diff", {"model": "big", "column_name": "label"}),
            ("histogram_diff", "histogram_diff",
             {"model": "big", "column_name": "amount", "column_type": "DOUBLE"}),
            ("query, big", "query", {"sql_template": key_sql}),
            ("query_diff no keys, big", "query_diff", {"sql_template": key_sql}),
            ("query join and aggregate, big", "query", {"sql_template": join_sql}),
        ]  # fmt: skip
        for model in wide_models(args.project):  # bench/make_warehouse.py --wide
            wide_sql = f"select * from {{{{ ref('{model}') }}}}"
            runs += [
                (f"value_diff, {model}", "value_diff", {"model": model, "primary_key": "id"}),
                (f"query_diff keyed, {model}", "query_diff",
                 {"sql_template": wide_sql, "primary_keys": ["id"]}),
                (f"value_diff_detail, {model}", "value_diff_detail",
                 {"model": model, "primary_key": "id"}),
                (f"profile_diff, {model}", "profile_diff", {"model": model}),
                (f"query, {model}", "query", {"sql_template": wide_sql}),
                (f"query ordered, {model}", "query", {"sql_template": f"{wide_sql} order by id"}),
                (f"query_diff no keys, {model}", "query_diff", {"sql_template": wide_sql}),
            ]  # fmt: skip
        runs = [r for r in runs if args.only in r[0] for _ in range(args.repeat)]
        print(f"{'run':36} {'status':9} {'wall s':>7} {'RSS +MB':>8} {'health p99 ms':>14} "
              f"{'less CPU waits':>15}")  # fmt: skip
        pooled: dict[str, HealthProbe] = {}  # every probe of each label's runs
        for i, (label, run_type, params) in enumerate(runs):
            if args.fresh and i:
                stop(server)
                server, port = start_server(args)
            reset_peak(server.pid)
            before = status_kb(server.pid, "VmRSS")
            probe = HealthProbe(port, server.pid)
            probe.start()
            started = time.perf_counter()
            run = wait(port, submit(port, run_type, params))
            wall = time.perf_counter() - started
            probe.stop.set()
            probe.join()
            growth = (status_kb(server.pid, "VmHWM") - before) / 1024
            if args.dump is not None:
                args.dump.mkdir(parents=True, exist_ok=True)
                name = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
                (args.dump / f"{name}.json").write_text(json.dumps(run.get("result")))
            print(f"{label:36} {run['status']:9} {wall:7.2f} {growth:8.1f} {probe.p99_ms():14.1f} "
                  f"{probe.p99_ms(less_cpu_waits=True):15.1f}")  # fmt: skip
            all_probes = pooled.setdefault(label, HealthProbe(port))
            all_probes.samples.extend(probe.samples)
            all_probes.less_waits.extend(probe.less_waits)
        if args.repeat > 1:
            for label, probe in pooled.items():
                print(f"{label}: health p99 {probe.figures()} over all {args.repeat} runs "
                      f"({len(probe.samples)} probes)")  # fmt: skip
        endless = "select count(*) from range(1000000000) a, range(1000) b where a.range <> b.range"
        run_id = submit(port, "query", {"sql_template": endless})
        time.sleep(0.5)
        started = time.perf_counter()
        call(port, "POST", f"/api/runs/{run_id}/cancel")
        run = wait(port, run_id)
        cancel_ms = (time.perf_counter() - started) * 1000
        after = wait(port, submit(port, "query", {"sql_template": "select 1 as one"}))
        print(f"cancel: {run['status']} in {cancel_ms:.0f} ms; next run {after['status']}")
    finally:
        stop(server)


if __name__ == "__main__":
    main()
