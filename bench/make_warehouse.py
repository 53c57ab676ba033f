"""A project for the warehouse benchmarks: a DuckDB with base (schema ``prod``) and current
(``dev``) plus matching dbt artifacts and a profiles.yml, so `recce-trio server` serves it.

    python bench/make_warehouse.py --out /tmp/whbench [--models 200] [--rows 1000000]

``big`` has ``--rows`` rows x 20 columns (about 3 % of rows changed in one column, 1 % removed,
1 % added), ``wide`` has 50 columns (rows / 10), ``m0``..``mN`` are small models for the row
counts (every tenth one row longer in current). Each ``--wide COLUMNSxROWS`` (default
``200x300000``; ``--wide none`` for none) adds a model ``wide<COLUMNS>``: an ``id`` key and
COLUMNS - 1 columns of integers, doubles, text and dates with NULLs, a few columns changed
in some rows (values, and values turned NULL), 1 % of rows removed and 1 % added.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path
from typing import Any

MANIFEST_V12 = "https://schemas.getdbt.com/dbt/manifest/v12.json"
CATALOG_V1 = "https://schemas.getdbt.com/dbt/catalog/v1.json"
DATABASE = "whbench"  # the DuckDB file's stem: its catalog name
SCHEMAS = {"base": "prod", "current": "dev"}


def _wide_value(i: int, x: str) -> str:
    """Column ``w<i>`` of a wide table, computed from the row number ``x`` (NULL in about
    one row in 17)."""
    kind = i % 4
    if kind == 0:
        value = f"({x} * {i + 7}) % {1000 + i}"
    elif kind == 1:
        value = f"CAST(({x} * {i + 3}) % 9973 AS DOUBLE) / {i + 2}"
    elif kind == 2:
        value = f"'v' || (({x} * {i}) % 313)"
    else:
        value = f"DATE '2020-01-01' + CAST(({x} * {i}) % 2000 AS INTEGER)"
    return f"CASE WHEN ({x} + {i}) % 17 = 0 THEN NULL ELSE {value} END"


def wide_columns(columns: int) -> dict[str, str]:
    kinds = ("BIGINT", "DOUBLE", "VARCHAR", "DATE")
    return {"id": "BIGINT", **{f"w{i}": kinds[i % 4] for i in range(1, columns)}}


def build_wide(con: Any, columns: int, rows: int) -> None:
    """``prod.wide<columns>`` and ``dev.wide<columns>`` (see the module's doc)."""
    name = f"wide{columns}"
    base = ", ".join(f"{_wide_value(i, 'range')} AS w{i}" for i in range(1, columns))
    con.execute(f"CREATE TABLE prod.{name} AS SELECT range AS id, {base} FROM range({rows})")

    def current(i: int) -> str:
        if i % 25 == 3:  # a changed value in one row in 37
            return _wide_value(i, "(CASE WHEN range % 37 = 0 THEN range + 1 ELSE range END)")
        if i % 25 == 4:  # NULL in one row in 53
            return f"CASE WHEN range % 53 = 0 THEN NULL ELSE {_wide_value(i, 'range')} END"
        return _wide_value(i, "range")

    changed = ", ".join(f"{current(i)} AS w{i}" for i in range(1, columns))
    added = ", ".join(f"{_wide_value(i, 'range + 5')} AS w{i}" for i in range(1, columns))
    con.execute(
        f"CREATE TABLE dev.{name} AS SELECT range AS id, {changed} FROM range({rows}) "
        f"WHERE range % 100 <> 7 UNION ALL SELECT range + {rows} AS id, {added} "
        f"FROM range({rows // 100})"
    )


def build_db(
    path: Path, rows: int, models: int, wider: list[tuple[int, int]] | None = None
) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    cols = ", ".join(f"(range * {7 + i}) % {1000 + i} AS c{i}" for i in range(1, 19))
    names = [f"c{i}" for i in range(1, 19)]
    con.execute("CREATE SCHEMA prod; CREATE SCHEMA dev")
    con.execute(
        f"CREATE TABLE prod.big AS SELECT range AS id, {cols}, "
        f"'label ' || (range % 97) AS label, range / 3.0 AS amount FROM range({rows})"
    )
    changed = ", ".join(
        "CASE WHEN id % 33 = 0 THEN c1 + 1 ELSE c1 END AS c1" if c == "c1" else c for c in names
    )
    con.execute(
        f"CREATE TABLE dev.big AS SELECT id, {changed}, label, amount FROM prod.big "
        f"WHERE id % 100 <> 7 UNION ALL SELECT range + {rows} AS id, "
        f"{cols.replace('range', '(range + 1)')}, 'new', 0.5 FROM range({rows // 100})"
    )
    wide = ", ".join(f"(range * {i + 3}) % {50 + i} AS w{i}" for i in range(50))
    for schema in ("prod", "dev"):
        con.execute(f"CREATE TABLE {schema}.wide AS SELECT {wide} FROM range({rows // 10})")
        for m in range(models):
            n = 100 + m + (1 if schema == "dev" and m % 10 == 0 else 0)
            con.execute(f"CREATE TABLE {schema}.m{m} AS SELECT range AS id FROM range({n})")
    for columns, wide_rows in wider or []:
        build_wide(con, columns, wide_rows)
    con.close()


def _columns(name: str) -> dict[str, str]:
    if name == "big":
        return {"id": "BIGINT", **{f"c{i}": "BIGINT" for i in range(1, 19)},
                "label": "VARCHAR", "amount": "DOUBLE"}  # fmt: skip
    if name == "wide":
        return {f"w{i}": "BIGINT" for i in range(50)}
    if re.fullmatch(r"wide\d+", name):
        return wide_columns(int(name[4:]))
    return {"id": "BIGINT"}


def artifacts(
    env: str, models: int, wide: list[tuple[int, int]] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    schema = SCHEMAS[env]
    wide_names = [f"wide{columns}" for columns, _ in wide or []]
    names = ["big", "wide", *wide_names, *(f"m{m}" for m in range(models))]
    nodes: dict[str, Any] = {}
    catalog: dict[str, Any] = {}
    for name in names:
        uid = f"model.whbench.{name}"
        # big's SQL differs between the environments, so it shows as modified.
        changed = " -- changed" if env == "current" and name == "big" else ""
        sql = f"select * from source_{name}{changed}"
        nodes[uid] = {
            "database": DATABASE, "schema": schema, "name": name, "resource_type": "model",
            "package_name": "whbench", "path": f"{name}.sql",
            "original_file_path": f"models/{name}.sql", "unique_id": uid,
            "fqn": ["whbench", name], "alias": name,
            "relation_name": f'"{DATABASE}"."{schema}"."{name}"',
            "checksum": {"name": "sha256", "checksum": str(abs(hash(sql)))},
            "config": {"enabled": True, "materialized": "table", "tags": []}, "tags": [],
            "description": "", "columns": {}, "unrendered_config": {"materialized": "table"},
            "raw_code": sql, "language": "sql", "depends_on": {"macros": [], "nodes": []},
            "contract": {"enforced": False, "alias_types": True, "checksum": None},
            "access": "protected", "version": None, "latest_version": None,
            "deprecation_date": None,
        }  # fmt: skip
        catalog[uid] = {
            "metadata": {"type": "BASE TABLE", "schema": schema, "name": name,
                         "database": DATABASE, "comment": None, "owner": None},
            "columns": {c: {"type": t, "index": i + 1, "name": c, "comment": None}
                        for i, (c, t) in enumerate(_columns(name).items())},
            "stats": {}, "unique_id": uid,
        }  # fmt: skip
    at = "2026-01-01T00:00:00Z" if env == "base" else "2026-01-02T00:00:00Z"
    manifest = {
        "metadata": {"dbt_schema_version": MANIFEST_V12, "dbt_version": "1.11.0",
                     "generated_at": at, "adapter_type": "duckdb", "project_name": "whbench"},
        "nodes": nodes, "sources": {}, "macros": {}, "docs": {}, "exposures": {},
        "metrics": {}, "groups": {}, "selectors": {}, "disabled": {},
        "parent_map": {u: [] for u in nodes}, "child_map": {u: [] for u in nodes},
        "group_map": {}, "saved_queries": {}, "semantic_models": {}, "unit_tests": {},
    }  # fmt: skip
    cat = {
        "metadata": {"dbt_schema_version": CATALOG_V1, "dbt_version": "1.11.0",
                     "generated_at": at},
        "nodes": catalog, "sources": {}, "errors": None,
    }  # fmt: skip
    return manifest, cat


def make(out: Path, rows: int, models: int, wide: list[tuple[int, int]] | None = None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    db = out / f"{DATABASE}.duckdb"
    if db.exists():
        db.unlink()
    build_db(db, rows, models, wide)
    for env, folder in (("base", "target-base"), ("current", "target")):
        manifest, catalog = artifacts(env, models, wide)
        (out / folder).mkdir(exist_ok=True)
        (out / folder / "manifest.json").write_text(json.dumps(manifest))
        (out / folder / "catalog.json").write_text(json.dumps(catalog))
    (out / "dbt_project.yml").write_text("name: whbench\nprofile: whbench\n")
    (out / "profiles.yml").write_text(
        "whbench:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: {db}\n      threads: 4\n"
        # for the dbt engine (bench/runs.py --engine dbt); the native one is read-only anyway
        "      config_options: {access_mode: READ_ONLY}\n"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/recce_whbench"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument(
        "--wide",
        action="append",
        help="a wide model: COLUMNSxROWS (repeatable; default 200x300000; 'none' for none)",
    )
    args = parser.parse_args()
    wide = [
        (int(c), int(r))
        for spec in (args.wide or ["200x300000"])
        if spec != "none"
        for c, r in [spec.lower().split("x")]
    ]
    started = time.perf_counter()
    make(args.out, args.rows, args.models, wide)
    print(f"built {args.out} ({args.rows:,} rows) in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
