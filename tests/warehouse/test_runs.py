"""Query runs against a real warehouse (DuckDB and PostgreSQL, and DuckDB through dbt):
query, query_base, query_diff in its three modes, and template and SQL errors, with results
worked out by hand from tests/warehouse/data.py: base = schema prod, current = schema dev."""

from __future__ import annotations

import pytest

from recce_trio.errors import (
    MacroNotAvailableError,
    RunParamsError,
    TemplateError,
    WarehouseError,
)
from recce_trio.warehouse.context import RunContext
from recce_trio.warehouse.runner import execute_run
from tests.warehouse.run_helpers import (
    CUSTOMER_COLUMNS,
    DIFF_FLAGS,
    ORDER_COLUMNS,
    columns,
    run,
)


def test_query_current_with_every_type(ctx: RunContext) -> None:
    result = run(ctx, "query", sql_template="select * from {{ ref('customers') }} order by 1")
    assert result == {
        "columns": columns(CUSTOMER_COLUMNS),
        "data": [
            [1, "Ana", "10.50", "2024-01-05", True, "2024-01-05T10:00:00Z"],
            [2, "Björn", "25.00", "2024-02-10", False, "2024-02-10T12:30:00Z"],
            [3, "山田", None, "2024-03-15", True, None],
            # written as 09:15+02: sent in UTC
            [5, "Émile", "7.75", "2024-05-25", True, "2024-05-25T07:15:00Z"],
        ],
        "limit": 2000,
        "more": False,
        "total_row_count": 4,
    }


def test_query_base_reads_the_base_schema_and_vars(ctx: RunContext) -> None:
    sql = (
        "select order_id, amount from {{ ref('shop', 'orders') }} "
        "where amount > {{ var('min_amount') }} and status <> '{{ env_var('NOPE', 'x') }}' "
        "order by order_id"
    )
    result = run(ctx, "query_base", sql_template=sql)
    assert result["data"] == [[1, "10.00"], [2, "7.50"]]
    assert result["columns"] == columns([("order_id", "integer"), ("amount", "number")])


def test_query_over_the_row_limit_says_more_and_counts_all(ctx: RunContext) -> None:
    sql = (
        "select 1 as n from {{ ref('orders') }} a cross join {{ ref('orders') }} b "
        "cross join {{ ref('orders') }} c cross join {{ ref('orders') }} d "
        "cross join {{ ref('orders') }} e"
    )  # 5^5 = 3125 rows
    result = run(ctx, "query", sql_template=sql + ";")
    assert len(result["data"]) == 2000
    assert (result["limit"], result["more"], result["total_row_count"]) == (2000, True, 3125)


def test_query_diff_without_keys_returns_both_sides(ctx: RunContext) -> None:
    result = run(
        ctx,
        "query_diff",
        sql_template="select event_id, kind from {{ ref('events') }} order by 1, 2",
    )
    assert result["diff"] is None
    assert result["base"]["data"] == [[1, "a"], [2, "b"]]
    assert result["current"]["data"] == [[1, "a"], [2, "again"], [2, "b"]]
    assert result["current"]["total_row_count"] == 3


def test_query_diff_keyed_brings_back_only_changed_rows(ctx: RunContext) -> None:
    output = execute_run(
        "query_diff",
        {"sql_template": "select * from {{ ref('customers') }}", "primary_keys": ["CUSTOMER_ID"]},
        ctx,
    )
    assert output.params["primary_keys"] == ["customer_id"]  # spelt as the column is
    assert output.result["base"] is None and output.result["current"] is None
    assert output.result["diff"] == {
        "columns": columns(CUSTOMER_COLUMNS + DIFF_FLAGS),
        "data": [
            [2, "Björn", "20.00", "2024-02-10", False, "2024-02-10T12:30:00Z", True, False],
            [2, "Björn", "25.00", "2024-02-10", False, "2024-02-10T12:30:00Z", False, True],
            [4, "Zoë", "5.25", "2024-04-20", None, "2024-04-20T08:00:00Z", True, False],
            [5, "Émile", "7.75", "2024-05-25", True, "2024-05-25T07:15:00Z", False, True],
        ],
        "limit": 2000,
        "more": False,
        "total_row_count": None,
    }


def test_query_diff_composite_key_with_null_key_rows(ctx: RunContext) -> None:
    result = run(
        ctx,
        "query_diff",
        sql_template="select * from {{ ref('orders') }}",
        primary_keys=["order_id", "line_no"],
    )
    assert result["diff"]["columns"] == columns(ORDER_COLUMNS + DIFF_FLAGS)
    # the identical (NULL, 1) row is not a difference
    assert result["diff"]["data"] == [
        [1, 2, "5.00", "placed", True, False],
        [1, 2, "6.00", "placed", False, True],
        [2, 1, "7.50", "shipped", True, False],
        [2, 1, "7.50", "completed", False, True],
        [3, 1, None, "returned", True, False],
        [4, 1, "3.00", "placed", False, True],
    ]


def test_query_diff_preview_compares_the_editor_with_the_current_model(ctx: RunContext) -> None:
    sql = "select order_id, line_no, amount * 2 as amount, status from {{ ref('orders') }}"
    result = run(
        ctx, "query_diff", sql_template=sql, current_model="orders", primary_keys=["order_id"]
    )
    assert [row[-2:] for row in result["diff"]["data"]].count([True, False]) == 5
    assert [row[-2:] for row in result["diff"]["data"]].count([False, True]) == 5


def test_query_diff_unknown_key_is_refused(ctx: RunContext) -> None:
    with pytest.raises(RunParamsError, match="'nope' is not a column"):
        run(ctx, "query_diff", sql_template="select 1 as a", primary_keys=["nope"])


def test_query_diff_keyed_of_sides_with_other_columns_says_which(ctx: RunContext) -> None:
    # A model whose columns changed, diffed with `select *` and a key: the rows cannot be
    # compared column by column, and the error says why and what to do.
    with pytest.raises(RunParamsError) as refused:
        run(
            ctx,
            "query_diff",
            base_sql_template="select 1 as id, 'x' as legacy",
            sql_template="select 1 as id, 'x' as name, true as active",
            primary_keys=["id"],
        )
    message = str(refused.value)
    assert "base query has 2 columns and the current one 3" in message
    assert "only in base: legacy; only in current: name, active" in message
    assert "without primary keys" in message


@pytest.mark.parametrize(
    ("template", "error", "text"),
    [
        ("select * from {{ ref('nothing') }}", TemplateError, "'nothing' not found in the current"),
        ("select {{ dbt_utils.star(ref('orders')) }}", MacroNotAvailableError, "dbt_utils.star"),
        ("select * from {{ source('raw', 'nope') }}", TemplateError, "'raw.nope' not found"),
        ("select {{ var('undefined_var') }}", TemplateError, "var 'undefined_var'"),
        ("select {{ ref('orders') ", TemplateError, "Jinja syntax error"),
    ],
)
def test_template_errors_name_the_culprit(
    ctx: RunContext, template: str, error: type[Exception], text: str
) -> None:
    with pytest.raises(error, match=text.replace("(", r"\(").replace(".", r"\.")):
        run(ctx, "query", sql_template=template)


def test_sql_errors_carry_the_warehouse_message(ctx: RunContext) -> None:
    with pytest.raises(WarehouseError) as info:
        run(ctx, "query", sql_template="selec 1")
    assert "syntax" in str(info.value).lower()
    with pytest.raises(WarehouseError, match="stale"):
        run(ctx, "query", sql_template="select * from {{ ref('stale') }}")


def test_source_resolves_per_environment(ctx: RunContext) -> None:
    sql = "select count(*) as n from {{ source('raw', 'customers') }} where name = 'Zoë'"
    assert run(ctx, "query_base", sql_template=sql)["data"] == [[1]]
    assert run(ctx, "query", sql_template=sql)["data"] == [[0]]
