"""Run results in Recce's wire shapes (recce-runs-spec.md §2-3), one per warehouse run type,
added with a check each to a copy of a real Recce state file for the browser tests."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

REAL_STATE = (
    Path(__file__).resolve().parents[3]
    / "shared/corpus/recce-state/doriwilson__dbt-ci-cd/recce_state.json"
)


def frame(columns: list[tuple[str, str]], data: list[list[Any]], **extra: Any) -> dict[str, Any]:
    cols = [{"key": n, "name": n, "type": t} for n, t in columns]
    return {
        "columns": cols,
        "data": data,
        "limit": None,
        "more": None,
        "total_row_count": None,
    } | extra


MISSING = "Model 'customer_segments' not found in base manifest"
PROFILE_COLS = [
    ("column_name", "text"),
    ("data_type", "text"),
    ("row_count", "integer"),
    ("not_null_proportion", "float"),
    ("distinct_proportion", "float"),
    ("distinct_count", "integer"),
    ("is_unique", "boolean"),
    ("min", "text"),
    ("max", "text"),
    ("avg", "float"),
    ("median", "float"),
]

# One run per type, each result in Recce's wire shape, with values as Recce sends them.
RESULTS: dict[str, tuple[dict[str, Any], Any]] = {
    "query": (
        {"sql_template": "select * from {{ ref('dim_customers') }}"},
        frame(
            [("customer_id", "integer"), ("total_spent", "number"), ("note", "text")],
            [[1, "10.00", None], [2, "0.30000000000000004", "ünïcode"]],
            limit=2000,
            more=True,
            total_row_count=2500,
        ),
    ),
    "query_diff": (
        {
            "sql_template": "select * from {{ ref('dim_customers') }}",
            "primary_keys": ["customer_id"],
        },
        {
            "base": None,
            "current": None,
            "diff": frame(
                [
                    ("customer_id", "integer"),
                    ("tier", "text"),
                    ("in_a", "boolean"),
                    ("in_b", "boolean"),
                ],
                [
                    [1, "New", True, False],
                    [1, "VIP", False, True],
                    [2, "Old", True, False],
                    [3, None, False, True],
                ],
            ),
        },
    ),
    "row_count_diff": (
        {"node_names": ["dim_customers", "fct_orders", "customer_segments"]},
        {
            "dim_customers": {
                "base": 500,
                "curr": 393,
                "base_meta": {"status": "ok"},
                "curr_meta": {"status": "ok"},
            },
            "fct_orders": {
                "base": 14,
                "curr": 14,
                "base_meta": {"status": "ok"},
                "curr_meta": {"status": "ok"},
            },
            "customer_segments": {
                "base": None,
                "curr": 100,
                "base_meta": {"status": "not_in_manifest", "message": MISSING},
                "curr_meta": {"status": "ok"},
            },
        },
    ),
    "profile_diff": (
        {"model": "dim_customers"},
        {
            "base": frame(
                PROFILE_COLS,
                [
                    ["customer_id", "integer", 10, "1.0", "1.0", 10, True, "1", "10", "5.5", "5.5"],
                    [
                        "total_spent",
                        "double",
                        10,
                        "0.97",
                        "0.97",
                        97,
                        False,
                        "1.98",
                        "301.61",
                        "95.1981443298969",
                        "92.59",
                    ],
                ],
            ),
            "current": frame(
                PROFILE_COLS,
                [
                    ["customer_id", "integer", 10, "1.0", "1.0", 10, True, "1", "10", "5.5", "5.5"],
                    [
                        "total_spent",
                        "double",
                        10,
                        "0.9",
                        "0.9",
                        90,
                        False,
                        "1.98",
                        "401.61",
                        "105.2",
                        None,
                    ],
                ],
            ),
        },
    ),
    "value_diff": (
        {"model": "dim_customers", "primary_key": "customer_id"},
        {
            "summary": {"total": 500, "added": 0, "removed": 107},
            "data": {
                "columns": [
                    {"key": "column", "name": "column", "type": "text"},
                    {"key": "matched", "name": "matched", "type": "number"},
                    {"key": "matched_p", "name": "matched_p", "type": "number"},
                ],
                "data": [["customer_id", "393", "1.0"], ["amount", "366", "0.9312977099236641"]],
                "limit": None,
                "more": None,
                "total_row_count": None,
            },
        },
    ),
    "value_diff_detail": (
        {"model": "dim_customers", "primary_key": "customer_id"},
        frame(
            [
                ("customer_id", "integer"),
                ("amount", "number"),
                ("in_a", "boolean"),
                ("in_b", "boolean"),
            ],
            [
                [7, "26.520000000000003", True, False],
                [7, "26.52", False, True],
                [9, "1.5", True, False],
            ],
        ),
    ),
    "top_k_diff": (
        {"model": "dim_customers", "column_name": "tier", "k": 10},
        {
            "base": {"values": ["VIP", "New", None], "counts": [2, 6, 1], "valids": 9, "total": 10},
            "current": {
                "values": ["VIP", "New", None],
                "counts": [5, 6, 0],
                "valids": 11,
                "total": 11,
            },
        },
    ),
    "histogram_diff": (
        {"model": "dim_customers", "column_name": "total_spent", "column_type": "DOUBLE"},
        {
            "base": {"counts": [70, 80, 0], "total": 150},
            "current": {"counts": [56, 60, 9], "total": 125},
            "min": 0.14,
            "max": 28.62,
            "bin_edges": [0, 10, 20, 30],
            "labels": ["0-10", "10-20", "20-30", "30-40"],
        },
    ),
}


def built_state(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the real state file with one check and run per type; returns check ids."""
    doc = json.loads(REAL_STATE.read_text())
    ids: dict[str, str] = {}
    for run_type, (params, result) in RESULTS.items():
        check_id, run_id = str(uuid.uuid4()), str(uuid.uuid4())
        ids[run_type] = check_id
        doc["checks"].append(
            {
                "check_id": check_id,
                "name": f"built {run_type}",
                "description": "",
                "type": run_type,
                "params": params,
                "view_options": {},
                "is_checked": False,
                "is_preset": False,
                "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z",
            }
        )
        doc["runs"].append(
            {
                "run_id": run_id,
                "type": run_type,
                "name": f"built {run_type}",
                "params": params,
                "check_id": check_id,
                "result": result,
                "error": None,
                "status": "Finished",
                "progress": None,
                "run_at": "2026-01-01T00:00:00Z",
            }
        )
    path = tmp_path / "recce_state.json"
    path.write_text(json.dumps(doc))
    return path, ids
