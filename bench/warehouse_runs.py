"""Warehouse run figures on a generated DuckDB: every heavy run type through the warehouse
layer (recce_trio.warehouse), as the server's worker thread would call it.

    python bench/warehouse_runs.py [--rows 1000000] [--models 200] [--db /tmp/bench.duckdb]
                                   [--memory-limit 128MB] [--reuse]

The database holds base (schema ``prod``) and current (``dev``): ``big`` has ``--rows`` rows
and 20 columns, of which about 3 % of rows changed in one column, 1 % removed and 1 % added;
``wide`` has 50 columns; ``m0``..``mN`` are small models for the row counts. Times are
wall-clock; the machine is shared, so compare figures within one run. RSS growth is this
process's resident memory after the run minus before it (read from /proc), and its peak.
``--memory-limit`` sets DuckDB's (as a profile's ``settings: {memory_limit: ...}`` would;
recce-trio's default is 512MB); ``--reuse`` keeps a database built by an earlier run.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path
from typing import Any

# The same database as bench/make_warehouse.py (bench/ is on sys.path when a script here runs).
from make_warehouse import build_db

from recce_trio.core.artifacts.records import Manifest, ManifestMetadata, Node
from recce_trio.warehouse.connect import open_engine
from recce_trio.warehouse.context import RunContext
from recce_trio.warehouse.profiles import WarehouseTarget
from recce_trio.warehouse.runner import execute_run


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 1e6


def manifest(schema: str, models: int, database: str) -> Manifest:
    names = ["big", "wide", *(f"m{m}" for m in range(models))]
    nodes = {
        f"model.bench.{n}": Node(
            unique_id=f"model.bench.{n}",
            resource_type="model",
            name=n,
            package_name="bench",
            database=database,
            schema=schema,
            alias=n,
            config={"materialized": "table"},
        )
        for n in names
    }
    return Manifest(metadata=ManifestMetadata(project_name="bench"), nodes=nodes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--db", type=Path, default=Path("/tmp/recce_bench_warehouse.duckdb"))
    parser.add_argument("--memory-limit", default=None)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    if not (args.reuse and args.db.exists()):
        if args.db.exists():
            args.db.unlink()
        started = time.perf_counter()
        build_db(args.db, args.rows, args.models)
        print(f"built {args.db} ({args.rows:,} rows) in {time.perf_counter() - started:.1f} s")
    settings: dict[str, Any] = {"path": str(args.db)}
    if args.memory_limit:
        settings["settings"] = {"memory_limit": args.memory_limit}
    target = WarehouseTarget(
        profile="bench",
        target="dev",
        type="duckdb",
        threads=1,
        settings=settings,
        profiles_path=args.db.parent / "profiles.yml",
    )
    engine = open_engine(target)
    database = args.db.stem
    ctx = RunContext(
        base=manifest("prod", args.models, database),
        current=manifest("dev", args.models, database),
        engine=engine,
    )
    key_sql = "select * from {{ ref('big') }}"
    runs: list[tuple[str, str, dict[str, Any]]] = [
        (f"row_count_diff, {args.models} models", "row_count_diff",
         {"node_names": [f"m{m}" for m in range(args.models)]}),
        (f"query_diff keyed, {args.rows:,} rows", "query_diff",
         {"sql_template": key_sql, "primary_keys": ["id"]}),
        (f"value_diff, {args.rows:,} rows x 20 columns", "value_diff",
         {"model": "big", "primary_key": "id"}),
        ("value_diff_detail", "value_diff_detail", {"model": "big", "primary_key": "id"}),
        ("profile_diff, 50 columns", "profile_diff", {"model": "wide"}),
        ("top_k_diff", "top_k_diff", {"model": "big", "column_name": "label"}),
        ("histogram_diff (numeric)", "histogram_diff",
         {"model": "big", "column_name": "amount", "column_type": "DOUBLE"}),
        (f"query, {args.rows:,} rows (2,000 fetched)", "query", {"sql_template": key_sql}),
    ]  # fmt: skip
    print(f"{'run':45} {'wall s':>8} {'RSS +MB':>8} {'peak MB':>8}")
    for label, run_type, params in runs:
        before = rss_mb()
        started = time.perf_counter()
        execute_run(run_type, params, ctx)
        wall = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{label:45} {wall:8.2f} {rss_mb() - before:8.1f} {peak:8.0f}")
    engine.close()


if __name__ == "__main__":
    main()
