"""How long a warehouse run or an export keeps the interpreter from the event loop's thread,
in one process, apart from the machine's own scheduling.

    python bench/make_warehouse.py --out /tmp/recce_whbench      # once
    python bench/gil_lag.py --project /tmp/recce_whbench [--work row_count_diff|export]
                            [--engine native|dbt] [--switch 0.0005] [--reps 3]

The work runs in a worker thread, as the server runs it: ``row_count_diff`` over the 200
models ``m0``..``m199``, or ``export``: the CSV export of 500,000 rows x 21 columns of ``big``
into a temporary file. Meanwhile the main thread (the event loop's stand-in) sleeps 1 ms in a
loop; each wake-up's delay, less the time the thread spent waiting for a CPU (Linux
schedstat: a shared machine's load), is its wait for the interpreter. ``--switch`` sets the
interpreter's switch interval, as the server does while runs and exports work (0.5 ms);
``--engine dbt`` needs dbt-core and dbt-duckdb. Compare figures within one machine and minute.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from typing import Any

# bench/ is on sys.path when a script here runs.
from warehouse_runs import manifest

from recce_trio.warehouse.connect import open_engine
from recce_trio.warehouse.context import RunContext
from recce_trio.warehouse.export import write_export
from recce_trio.warehouse.profiles import load_target
from recce_trio.warehouse.runner import execute_run


def cpu_wait_s() -> float:
    with open("/proc/thread-self/schedstat") as f:
        return int(f.read().split()[1]) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default="/tmp/recce_whbench")
    parser.add_argument("--work", choices=("row_count_diff", "export"), default="row_count_diff")
    parser.add_argument("--engine", choices=("native", "dbt"), default="native")
    parser.add_argument("--switch", type=float, default=None)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    engine = open_engine(load_target(project_dir=args.project), use_dbt=args.engine == "dbt")
    models = 200
    ctx = RunContext(
        base=manifest("prod", models, "whbench"),
        current=manifest("dev", models, "whbench"),
        engine=engine,
    )
    execute_run("query", {"sql_template": "select 1 as one"}, ctx)  # opens dbt's connection
    if args.switch:
        sys.setswitchinterval(args.switch)
    big = "select * from {{ ref('big') }} order by id limit 500000"

    def work() -> Any:
        if args.work == "export":
            with tempfile.TemporaryFile() as out:
                return write_export(ctx, "query", {"sql_template": big}, "csv", out.write)
        names = [f"m{m}" for m in range(models)]
        return execute_run("row_count_diff", {"node_names": names}, ctx)

    print(f"{args.work} via {engine.describe()}, switch interval {sys.getswitchinterval()} s")
    for _ in range(args.reps):
        worker = threading.Thread(target=work)
        waits: list[float] = []
        started = time.perf_counter()
        worker.start()
        while worker.is_alive():
            cpu, slept = cpu_wait_s(), time.perf_counter()
            time.sleep(0.001)
            late = time.perf_counter() - slept - 0.001
            waits.append(max(0.0, late - (cpu_wait_s() - cpu)))
        wall = time.perf_counter() - started
        waits.sort()
        p99 = waits[min(len(waits) - 1, int(len(waits) * 0.99))] * 1000
        over = sum(w > 0.02 for w in waits)
        p50, top = waits[len(waits) // 2] * 1000, waits[-1] * 1000
        print(f"  {wall:6.2f} s; wait for the interpreter p50 {p50:.1f} p99 {p99:.1f} "
              f"max {top:.1f} ms; {over} of {len(waits)} over 20 ms")  # fmt: skip
    engine.close()


if __name__ == "__main__":
    main()
