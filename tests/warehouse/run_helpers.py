"""What the run tests share: the columns' wire shape, a run's result, and the shop's columns as
tests/warehouse/data.py makes them (base = schema prod, current = schema dev)."""

from __future__ import annotations

from typing import Any

from recce_trio.warehouse.context import RunContext
from recce_trio.warehouse.runner import execute_run

# The warehouse's own spelling of the column types (profile's data_type).
TYPES = {
    "duckdb": {"varchar": "varchar", "decimal": "decimal(10,2)"},
    "dbt-duckdb": {"varchar": "varchar", "decimal": "decimal(10,2)"},
    "postgres": {"varchar": "character varying", "decimal": "numeric(10,2)"},
}
CUSTOMER_COLUMNS = [
    ("customer_id", "integer"),
    ("name", "text"),
    ("balance", "number"),
    ("signup", "date"),
    ("active", "boolean"),
    ("updated_at", "datetime"),
]
ORDER_COLUMNS = [("order_id", "integer"), ("line_no", "integer"), ("amount", "number")]
ORDER_COLUMNS += [("status", "text")]
DIFF_FLAGS = [("in_a", "boolean"), ("in_b", "boolean")]


def columns(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"key": n, "name": n, "type": t} for n, t in pairs]


def run(ctx: RunContext, run_type: str, **params: Any) -> Any:
    return execute_run(run_type, params, ctx).result
