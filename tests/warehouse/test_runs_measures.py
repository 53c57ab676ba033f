"""The measuring runs against a real warehouse (DuckDB and PostgreSQL, and DuckDB through
dbt): row counts, profiles, value diffs, top-k and histograms, with results worked out by hand
from tests/warehouse/data.py: base = schema prod, current = schema dev."""

from __future__ import annotations

import pytest

from recce_trio.errors import ModelNotFoundError, RunParamsError, WarehouseError
from recce_trio.warehouse import run_models
from recce_trio.warehouse.context import RunContext
from tests.warehouse.run_helpers import DIFF_FLAGS, ORDER_COLUMNS, TYPES, columns, run


def test_row_count_diff_reports_each_model_and_why_not(ctx: RunContext) -> None:
    names = ["customers", "paid", "new_model", "legacy", "stale", "country_codes", "eph"]
    result = run(ctx, "row_count_diff", node_names=names)
    ok = {"status": "ok"}
    assert list(result) == names
    assert result["customers"] == {"base": 4, "curr": 4, "base_meta": ok, "curr_meta": ok}
    assert result["paid"] == {"base": 2, "curr": 3, "base_meta": ok, "curr_meta": ok}
    assert result["new_model"] == {
        "base": None,
        "curr": 3,
        "base_meta": {
            "status": "not_in_manifest",
            "message": "Model 'new_model' not found in base manifest",
        },
        "curr_meta": ok,
    }
    assert result["legacy"]["base"] == 2 and result["legacy"]["curr"] is None
    assert result["stale"]["base_meta"]["status"] == "table_not_found"
    assert '"prod"."stale"' in result["stale"]["base_meta"]["message"]
    assert result["country_codes"]["curr_meta"] == {
        "status": "unsupported_resource_type",
        "message": "Resource type 'seed' does not support row counts",
    }
    assert result["eph"]["curr_meta"]["status"] == "unsupported_materialization"
    progress = ctx.seen_progress  # type: ignore[attr-defined]
    assert progress[0] == ("Diff: customers [1/7]", 0.0)
    assert [m for m, _ in progress][-1] == "Diff: eph [7/7]"
    assert all(0 <= p < 1 for _, p in progress if p is not None)


def test_row_counts_taken_several_to_a_statement_still_report_each_model(
    ctx: RunContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two models (both sides) per statement: a statement that fails on a missing table is
    # taken again one model at a time, so only that model reports it, in order.
    monkeypatch.setattr(run_models, "COUNT_CHUNK", 2)
    names = ["customers", "paid", "stale", "events", "new_model", "legacy", "orders"]
    result = run(ctx, "row_count_diff", node_names=names)
    ok = {"status": "ok"}
    assert list(result) == names
    assert result["customers"] == {"base": 4, "curr": 4, "base_meta": ok, "curr_meta": ok}
    assert result["paid"] == {"base": 2, "curr": 3, "base_meta": ok, "curr_meta": ok}
    assert result["stale"]["base"] is None and result["stale"]["curr"] is None
    assert result["stale"]["base_meta"]["status"] == "table_not_found"
    assert '"dev"."stale"' in result["stale"]["curr_meta"]["message"]
    assert result["events"] == {"base": 2, "curr": 3, "base_meta": ok, "curr_meta": ok}
    assert result["new_model"]["base_meta"]["status"] == "not_in_manifest"
    assert result["new_model"]["curr"] == 3
    assert result["legacy"]["base"] == 2 and result["legacy"]["curr"] is None
    assert result["legacy"]["curr_meta"]["status"] == "not_in_manifest"
    assert result["orders"] == {"base": 5, "curr": 5, "base_meta": ok, "curr_meta": ok}
    progress = ctx.seen_progress  # type: ignore[attr-defined]
    assert progress == [(f"Diff: {n} [{i + 1}/7]", i / 7) for i, n in enumerate(names)]
    current_only = run(ctx, "row_count", node_names=["orders", "stale", "customers"])
    assert current_only["orders"] == {"curr": 5, "curr_meta": ok}
    assert current_only["stale"]["curr_meta"]["status"] == "table_not_found"
    assert current_only["customers"] == {"curr": 4, "curr_meta": ok}


def test_row_count_by_node_ids_and_selector(ctx: RunContext) -> None:
    result = run(ctx, "row_count", node_ids=["model.shop.orders", "model.shop.nothing"])
    assert result == {"orders": {"curr": 5, "curr_meta": {"status": "ok"}}}
    ctx.select_nodes = lambda params: ["model.shop.events", "test.shop.t", "seed.shop.x"]
    result = run(ctx, "row_count_diff", select="state:modified")
    assert result == {
        "events": {
            "base": 2,
            "curr": 3,
            "base_meta": {"status": "ok"},
            "curr_meta": {"status": "ok"},
        }
    }


def test_profile_diff(ctx: RunContext, engine_name: str) -> None:
    result = run(ctx, "profile_diff", model="customers")
    t = TYPES[engine_name]
    header = columns(
        [
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
    )
    assert result["base"]["columns"] == header == result["current"]["columns"]
    assert result["base"]["data"] == [
        ["customer_id", "integer", 4, "1.0", "1.0", 4, True, "1", "4", "2.5", "2.5"],
        ["name", t["varchar"], 4, "1.0", "1.0", 4, True, None, None, None, None],
        # 10.50, 20.00, NULL, 5.25: avg 35.75 / 3
        [
            "balance",
            t["decimal"],
            4,
            "0.75",
            "0.75",
            3,
            False,
            "5.25",
            "20.00",
            "11.916666666666666",
            "10.5",
        ],
        ["signup", "date", 4, "1.0", "1.0", 4, True, "2024-01-05", "2024-04-20", None, None],
        # TRUE, FALSE, TRUE, NULL: a NULL counts as false in the average, as in Recce
        ["active", "boolean", 4, "0.75", "0.5", 2, False, None, None, "0.5", None],
        [
            "updated_at",
            "timestamp with time zone",
            4,
            "0.75",
            "0.75",
            3,
            False,
            "2024-01-05 10:00:00+00",
            "2024-04-20 08:00:00+00",
            None,
            None,
        ],
    ]
    current = {row[0]: row for row in result["current"]["data"]}
    assert current["balance"][7:] == ["7.75", "25.00", "14.416666666666666", "10.5"]
    assert current["active"][3:5] == ["1.0", "0.5"]


def test_profile_of_some_columns_keeps_table_order(ctx: RunContext) -> None:
    result = run(ctx, "profile", model="customers", columns=["ACTIVE", "customer_id"])
    assert list(result) == ["current"]
    assert [row[0] for row in result["current"]["data"]] == ["customer_id", "active"]


def test_profile_diff_of_a_model_missing_on_one_side_fails(ctx: RunContext) -> None:
    with pytest.raises(ModelNotFoundError, match="'new_model' does not exist in base"):
        run(ctx, "profile_diff", model="new_model")
    # A name neither side has: base is named, as Recce names it.
    with pytest.raises(ModelNotFoundError, match="'no_such_model' does not exist in base"):
        run(ctx, "profile_diff", model="no_such_model")


def test_value_diff_single_key(ctx: RunContext) -> None:
    result = run(ctx, "value_diff", model="customers", primary_key="customer_id")
    assert result["summary"] == {"total": 5, "added": 1, "removed": 1}
    assert result["data"]["columns"] == columns(
        [("column", "text"), ("matched", "number"), ("matched_p", "number")]
    )
    # ids 1, 2, 3 are on both sides; only 2's balance changed (3's NULL = NULL matches)
    assert result["data"]["data"] == [
        ["customer_id", "3", "1.0"],
        ["name", "3", "1.0"],
        ["balance", "2", "0.6666666666666666"],
        ["signup", "3", "1.0"],
        ["active", "3", "1.0"],
        ["updated_at", "3", "1.0"],
    ]


def test_value_diff_composite_key_with_a_null_key(ctx: RunContext) -> None:
    result = run(
        ctx, "value_diff", model="orders", primary_key=["order_id", "line_no"], columns=["status"]
    )
    # common keys (1,1), (1,2), (2,1), (NULL,1); (3,1) removed; (4,1) added
    assert result["summary"] == {"total": 6, "added": 1, "removed": 1}
    assert result["data"]["data"] == [
        ["order_id", "4", "1.0"],
        ["line_no", "4", "1.0"],
        ["status", "3", "0.75"],
    ]


def test_value_diff_refuses_a_duplicated_key(ctx: RunContext) -> None:
    with pytest.raises(WarehouseError, match=r'Invalid primary key: "event_id"') as info:
        run(ctx, "value_diff", model="events", primary_key="event_id")
    assert info.value.relation is not None and '"dev"."events"' in info.value.relation
    with pytest.raises(RunParamsError, match="cannot be empty"):
        run(ctx, "value_diff", model="events", primary_key=[])


def test_value_diff_detail(ctx: RunContext) -> None:
    result = run(ctx, "value_diff_detail", model="orders", primary_key=["order_id", "line_no"])
    assert result["columns"] == columns(ORDER_COLUMNS + DIFF_FLAGS)
    assert result["data"][:2] == [
        [1, 2, "5.00", "placed", True, False],
        [1, 2, "6.00", "placed", False, True],
    ]
    assert len(result["data"]) == 6
    assert (result["limit"], result["more"]) == (1000, False)


def test_top_k_diff(ctx: RunContext) -> None:
    result = run(ctx, "top_k_diff", model="orders", column_name="STATUS", k=4)
    # current counts first, then base counts, then the value
    assert result == {
        "base": {
            "values": ["placed", "ghost", "completed", "returned"],
            "counts": [2, 1, 0, 1],
            "valids": 5,
            "total": 5,
        },
        "current": {
            "values": ["placed", "ghost", "completed", "returned"],
            "counts": [3, 1, 1, 0],
            "valids": 5,
            "total": 5,
        },
    }


def test_top_k_diff_counts_nulls_as_invalid(ctx: RunContext) -> None:
    result = run(ctx, "top_k_diff", model="orders", column_name="amount")
    assert result["base"]["valids"] == 4 and result["base"]["total"] == 5
    assert result["current"]["values"][0] == "1.00"


def test_histogram_diff_numeric(ctx: RunContext) -> None:
    result = run(
        ctx,
        "histogram_diff",
        model="customers",
        column_name="balance",
        column_type="DECIMAL(10,2)",
        num_bins=5,
    )
    # min 5.25, max 25.00: width 19.75 / 5 -> 5; edges 5..25; 25.00 falls in the last bin
    assert result == {
        "base": {"counts": [1, 1, 0, 1], "total": 3},
        "current": {"counts": [1, 1, 0, 1], "total": 3},
        "min": 5.25,
        "max": 25,
        "bin_edges": [5, 10, 15, 20, 25],
        "labels": ["5-10", "10-15", "15-20", "20-25", "25-30"],
    }


def test_histogram_diff_integer_starts_at_zero(ctx: RunContext) -> None:
    result = run(
        ctx, "histogram_diff", model="customers", column_name="customer_id", column_type="INTEGER"
    )
    # span 4 / 50 bins -> width 0.1, at least 1 for integers; min 1 <= one width -> starts at 0
    assert result["bin_edges"] == [0, 1, 2, 3, 4, 5]
    assert result["base"]["counts"] == [0, 1, 1, 1, 1]
    assert result["current"]["counts"] == [0, 1, 1, 1, 1]


def test_histogram_diff_dates_by_month(ctx: RunContext) -> None:
    result = run(ctx, "histogram_diff", model="customers", column_name="signup", column_type="DATE")
    assert result == {
        "base": {"counts": [1, 1, 1, 1, 0], "total": 4},
        "current": {"counts": [1, 1, 1, 0, 1], "total": 4},
        "min": "2024-01-05",
        "max": "2024-05-25",
        "bin_edges": [
            "2024-01-01",
            "2024-02-01",
            "2024-03-01",
            "2024-04-01",
            "2024-05-01",
            "2024-06-01",
        ],
        "labels": None,
    }


def test_histogram_refuses_text_columns_before_running(ctx: RunContext) -> None:
    with pytest.raises(RunParamsError, match="Column type VARCHAR is not supported"):
        run(ctx, "histogram_diff", model="orders", column_name="status", column_type="VARCHAR")
