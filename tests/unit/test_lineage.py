"""Per-environment lineage in Recce's shape."""

from __future__ import annotations

from recce_trio.core.lineage import build_lineage, column_flags
from tests.unit.factories import (
    catalog,
    exposure,
    generic_test,
    manifest,
    metric,
    model,
    replace,
    seed,
    semantic_model,
    singular_test,
    source,
)

RAW = source("raw", "orders")
COUNTRIES = seed("countries")
STG = model("stg_orders", parents=[RAW.unique_id])
ORDERS = model("orders", "select 2", parents=[STG.unique_id, COUNTRIES.unique_id])
DASH = exposure("weekly", [ORDERS.unique_id])
REVENUE = metric("revenue")
SM = semantic_model("orders_sm", ORDERS)
TESTS = (
    generic_test("unique", ORDERS, "order_id"),
    generic_test("not_null", ORDERS, "order_id"),
    generic_test("not_null", ORDERS, "amount"),
    generic_test("unique", ORDERS, "code"),
    generic_test("accepted_values", ORDERS, "status"),
    singular_test("assert_positive", "select 1", [ORDERS.unique_id]),
)
MANIFEST = manifest(RAW, COUNTRIES, STG, ORDERS, DASH, REVENUE, SM, *TESTS)
CATALOG = catalog(
    nodes={
        ORDERS.unique_id: [
            ("code", "text"),
            ("order_id", "int"),
            ("amount", "int"),
            ("status", "t"),
        ]
    },
    sources={RAW.unique_id: [("id", "int"), ("payload", "json")]},
)


def test_node_shapes():
    nodes = build_lineage(MANIFEST, CATALOG)["nodes"]
    assert set(nodes) == {
        RAW.unique_id,
        COUNTRIES.unique_id,
        STG.unique_id,
        ORDERS.unique_id,
        DASH.unique_id,
        REVENUE.unique_id,
        SM.unique_id,
    }
    stg = nodes[STG.unique_id]
    assert stg == {
        "id": STG.unique_id,
        "name": "stg_orders",
        "resource_type": "model",
        "package_name": "shop",
        "schema": "main",
        "config": STG.config,
        "checksum": {"name": "sha256", "checksum": STG.checksum.checksum},
        "raw_code": STG.raw_code,
    }
    assert nodes[RAW.unique_id] == {
        "id": RAW.unique_id,
        "name": "orders",
        "source_name": "raw",
        "resource_type": "source",
        "package_name": "shop",
        "config": RAW.config,
        "columns": {
            "id": {"name": "id", "type": "int"},
            "payload": {"name": "payload", "type": "json"},
        },
    }
    for other in (DASH, REVENUE, SM):
        assert set(nodes[other.unique_id]) == {
            "id",
            "name",
            "resource_type",
            "package_name",
            "config",
        }


def test_columns_follow_catalog_index_with_test_flags():
    orders = build_lineage(MANIFEST, CATALOG)["nodes"][ORDERS.unique_id]
    assert list(orders["columns"]) == ["code", "order_id", "amount", "status"]
    assert orders["columns"] == {
        "code": {"name": "code", "type": "text", "unique": True},
        "order_id": {"name": "order_id", "type": "int", "not_null": True, "unique": True},
        "amount": {"name": "amount", "type": "int", "not_null": True},
        "status": {"name": "status", "type": "t"},
    }
    # the first unique column in catalog order, as Recce picks it
    assert orders["primary_key"] == "code"


def test_flags_survive_hashed_test_names_and_upper_case_catalogs():
    hashed = generic_test(
        "unique", ORDERS, "order_id", unique_id="test.shop.dbt_utils_long_name_5f1e.0a1b2c"
    )
    snowflake = catalog(nodes={ORDERS.unique_id: [("ORDER_ID", "NUMBER")]})
    orders = build_lineage(manifest(ORDERS, hashed), snowflake)["nodes"][ORDERS.unique_id]
    assert orders["columns"] == {"ORDER_ID": {"name": "ORDER_ID", "type": "NUMBER", "unique": True}}
    assert orders["primary_key"] == "ORDER_ID"


def test_flags_only_from_builtin_tests():
    other_pkg = replace(
        generic_test("unique", ORDERS, "order_id"),
        test_metadata=replace(TESTS[0].test_metadata, namespace="dbt_utils"),
    )
    assert column_flags(manifest(ORDERS, other_pkg)) == {}


def test_flags_without_attached_node_use_the_single_parent():
    old_style = replace(TESTS[1], attached_node=None)
    assert column_flags(manifest(ORDERS, old_style)) == {
        ORDERS.unique_id: (frozenset({"order_id"}), frozenset())
    }


def test_no_catalog_means_no_columns():
    nodes = build_lineage(MANIFEST, None)["nodes"]
    assert "columns" not in nodes[ORDERS.unique_id]
    assert "primary_key" not in nodes[ORDERS.unique_id]
    assert "columns" not in nodes[RAW.unique_id]


def test_parent_map_restricted_to_lineage_nodes():
    lineage = build_lineage(MANIFEST, CATALOG)
    parent_map = lineage["parent_map"]
    assert set(parent_map) == set(lineage["nodes"])
    assert parent_map[ORDERS.unique_id] == sorted([COUNTRIES.unique_id, STG.unique_id])
    assert parent_map[STG.unique_id] == [RAW.unique_id]
    assert parent_map[DASH.unique_id] == [ORDERS.unique_id]
    assert parent_map[RAW.unique_id] == []
    assert parent_map[COUNTRIES.unique_id] == []


def test_metadata():
    lineage = build_lineage(MANIFEST, CATALOG)
    assert lineage["manifest_metadata"]["project_name"] == "shop"
    assert lineage["manifest_metadata"]["adapter_type"] == "duckdb"
    assert set(lineage["catalog_metadata"]) >= {"generated_at", "dbt_version"}
    assert build_lineage(MANIFEST, None)["catalog_metadata"] is None
