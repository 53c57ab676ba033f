"""dbt's selector grammar and methods over the merged (current + base-only) graph."""

from __future__ import annotations

import pytest

from recce_trio.core.selector import SelectionGraph, SelectorError, parse_criterion
from recce_trio.errors import RecceTrioError
from tests.unit.factories import (
    column,
    exposure,
    generic_test,
    manifest,
    metric,
    model,
    replace,
    seed,
    semantic_model,
    snapshot,
    source,
    unit_test,
)

RAW = source("raw", "orders", tags=["landing"])
EVENTS = source("events", "clicks")
COUNTRIES = seed("countries")
STG = model(
    "stg_orders",
    "select * from {{ source('raw', 'orders') }}",
    parents=[RAW.unique_id],
    tags=["staging", "nightly"],
    config={"materialized": "view", "meta": {"owner": "ann"}, "grants": {"select": ["r"]},
            "tags": ["staging", "nightly"], "persist_docs": {"relation": True}},
    patch_path="shop://models/staging/schema.yml",
)  # fmt: skip
STG_PAY = model("stg_payments", parents=[EVENTS.unique_id], tags=["staging"])
ORDERS = model(
    "orders",
    "select * from {{ ref('stg_orders') }}",
    parents=[STG.unique_id, COUNTRIES.unique_id],
    folder="marts",
    config={"materialized": "table", "contract": {"enforced": False}},
    access="public",
)
CUSTOMERS = model("customers", parents=[STG_PAY.unique_id], folder="marts")
REPORT = model("report", parents=[ORDERS.unique_id], folder="marts/finance")
PKG_UTIL = model("util", package="pkg", fqn=["pkg", "util"])
SNAP = snapshot("orders_snapshot", parents=[STG.unique_id])
REL_TEST = generic_test("relationships", ORDERS, "customer_id", extra_parents=[CUSTOMERS.unique_id])
NOT_NULL = generic_test("not_null", STG, "id")
UNIT = unit_test("t_orders", ORDERS)
DASH = exposure("weekly", [REPORT.unique_id])
REVENUE = metric("revenue", [])
SM = semantic_model("orders_sm", ORDERS)
GONE = model("gone", parents=[STG.unique_id])
GONE_SOURCE = source("raw", "legacy")

BASE = manifest(
    RAW, EVENTS, GONE_SOURCE, COUNTRIES, STG, STG_PAY, ORDERS, CUSTOMERS, REPORT, PKG_UTIL, SNAP,
    REL_TEST, NOT_NULL, UNIT, DASH, REVENUE, SM, GONE,
)  # fmt: skip
CHANGED_STG = replace(STG, raw_code=STG.raw_code + " where 1=1")
CURRENT = manifest(
    RAW, EVENTS, COUNTRIES, CHANGED_STG, STG_PAY, ORDERS, CUSTOMERS, REPORT, PKG_UTIL, SNAP,
    REL_TEST, NOT_NULL, UNIT, DASH, REVENUE, SM,
)  # fmt: skip
GRAPH = SelectionGraph(BASE, CURRENT)


def sel(select=None, **kwargs):
    result = GRAPH.select(select=select, **kwargs)
    assert result == SelectionGraph(BASE, CURRENT).select(select=select, **kwargs)  # cache: same
    return result


def ids(*nodes):
    return {n.unique_id for n in nodes}


TESTS = ids(REL_TEST, NOT_NULL, UNIT)


def test_default_selects_everything_enabled():
    everything = ids(*BASE.all_nodes().values())
    assert sel() == everything


def test_fqn_by_name_and_path_forms():
    assert sel("orders") - TESTS == ids(ORDERS)
    assert sel("shop.marts") - TESTS == ids(ORDERS, CUSTOMERS, REPORT)
    assert sel("marts.finance.report") == ids(REPORT)  # unscoped: without the package
    assert sel("shop") - TESTS == sel("package:shop") - TESTS - ids(RAW, EVENTS, GONE_SOURCE)
    assert sel("nope") == set()


def test_fqn_wildcards():
    assert sel("stg_*") - TESTS == ids(STG, STG_PAY)
    assert sel("shop.marts.*") - TESTS == ids(ORDERS, CUSTOMERS, REPORT)
    assert sel("*orders") - TESTS == ids(STG, ORDERS)


def test_default_method_path_and_file():
    assert sel("models/marts") - TESTS == ids(ORDERS, CUSTOMERS, REPORT)
    assert sel("stg_orders.sql") - TESTS == ids(STG)


def test_tag_and_package():
    assert sel("tag:staging") - TESTS == ids(STG, STG_PAY)
    assert sel("tag:land*") == ids(RAW)
    assert sel("package:pkg") == ids(PKG_UTIL)
    assert sel("package:this") == sel("package:shop")


def test_path_and_file_methods():
    assert sel("path:models/marts/finance") == ids(REPORT)
    assert sel("path:models/marts/") == ids(ORDERS, CUSTOMERS, REPORT) | ids(REL_TEST, UNIT)
    assert sel("path:models/**/orders.sql") - TESTS == ids(ORDERS)
    # the YAML that documents a node selects it too
    assert ids(STG) <= sel("path:models/staging/schema.yml")
    assert sel("file:report.sql") == ids(REPORT)
    assert sel("file:report") == ids(REPORT)


def test_config_method():
    assert sel("config.materialized:table") - TESTS == ids(ORDERS)
    assert sel("config.meta.owner:ann") - TESTS == ids(STG)
    assert sel("config.grants.select:r") - TESTS == ids(STG)  # list value: membership
    assert sel("config.tags:nightly") - TESTS == ids(STG)
    assert sel("config.persist_docs.relation:true") - TESTS == ids(STG)
    assert sel("config.contract.enforced:false") - TESTS == ids(ORDERS)
    assert sel("config.severity:error") == ids(REL_TEST, NOT_NULL)  # case-insensitive
    # exposures are not configurable nodes
    assert sel("config.enabled:true") & ids(DASH) == set()


def test_resource_type_source_exposure_metric():
    assert sel("resource_type:seed") - TESTS == ids(COUNTRIES)
    assert sel("resource_type:snapshot") == ids(SNAP)
    assert sel("source:raw") - TESTS == ids(RAW, GONE_SOURCE)
    assert sel("source:raw.orders") == ids(RAW)
    assert sel("source:shop.raw.orders") == ids(RAW)
    assert sel("exposure:weekly") == ids(DASH)
    assert sel("metric:*") == ids(REVENUE)
    assert sel("semantic_model:orders_sm") == ids(SM)
    assert sel("access:public") - TESTS == ids(ORDERS)
    assert sel("test_name:not_null") == ids(NOT_NULL)
    assert sel("test_type:unit") == ids(UNIT)
    assert sel("test_type:generic") == ids(REL_TEST, NOT_NULL)


def test_graph_operators():
    assert sel("+orders") - TESTS == ids(ORDERS, STG, RAW, COUNTRIES)
    assert sel("1+orders") - TESTS == ids(ORDERS, STG, COUNTRIES)
    assert sel("orders+") - TESTS == ids(ORDERS, REPORT, DASH, SM)
    assert sel("orders+1") - TESTS == ids(ORDERS, REPORT, SM)
    assert sel("0+orders") - TESTS == ids(ORDERS)


def test_at_operator_reaches_other_parents_of_tests():
    # orders' relationships test also depends on customers: @orders brings customers (and its
    # ancestors) in, exactly as dbt's graph does.
    selected = sel("@orders")
    assert ids(CUSTOMERS, STG_PAY, EVENTS) <= selected
    assert ids(ORDERS, REPORT, DASH, STG, RAW, COUNTRIES) <= selected


def test_indirect_test_selection_is_eager():
    assert sel("customers") == ids(CUSTOMERS, REL_TEST)
    assert sel("orders") == ids(ORDERS, REL_TEST, UNIT)


def test_union_intersection_exclude():
    assert sel("tag:staging orders") - TESTS == ids(STG, STG_PAY, ORDERS)
    assert sel("tag:staging,stg_orders") - TESTS == ids(STG)
    assert sel("+orders", exclude="source:*") - TESTS == ids(ORDERS, STG, COUNTRIES)
    assert sel("tag:staging", exclude="stg_payments") - TESTS == ids(STG)


def test_state_modified_and_sub_selectors_with_removed_nodes():
    removed = ids(GONE, GONE_SOURCE)
    assert sel("state:modified") - TESTS == ids(STG) | removed
    assert sel("state:modified.body") == ids(STG, GONE) | ids(NOT_NULL)
    assert sel("state:modified.configs") == set()
    assert sel("state:new") == set()
    assert sel("state:modified+") - TESTS == ids(STG, ORDERS, REPORT, SNAP, DASH, SM) | removed
    assert GONE.unique_id in sel("+state:modified")


def test_packages_and_view_mode():
    assert sel("util", packages=None) == ids(PKG_UTIL)
    assert sel("util", packages=["shop"]) == set()
    assert sel("util", packages=["shop", "pkg"]) == ids(PKG_UTIL)
    assert sel(packages=[]) == set()
    changed = sel(view_mode="changed_models") - TESTS
    assert changed == ids(STG, RAW, ORDERS, REPORT, SNAP, DASH, SM, GONE, GONE_SOURCE)
    # the relationships test on orders is downstream of a change, customers itself is not
    assert sel("customers", view_mode="changed_models") == ids(REL_TEST)
    assert sel("customers", view_mode="all") == ids(CUSTOMERS, REL_TEST)


def test_disabled_and_empty_nodes_are_never_selected():
    disabled = model("off", config={"enabled": False})
    empty = model("blank", "  \n")
    graph = SelectionGraph(manifest(ORDERS), manifest(ORDERS, disabled, empty, seed("s", "x")))
    assert graph.select() == ids(ORDERS) | {"seed.shop.s"}


def test_results_are_fresh_sets():
    first = GRAPH.select(select="orders")
    first.add("junk")
    assert "junk" not in GRAPH.select(select="orders")


def test_columns_field_is_not_needed_for_selection():
    # description-only change on a persisted-docs model is state:modified
    base = manifest(STG)
    current = manifest(replace(STG, description="new", columns={"id": column("id")}))
    selected = SelectionGraph(base, current).select(select="state:modified.persisted_descriptions")
    assert selected == ids(STG)


@pytest.mark.parametrize(
    "select, fragment",
    [
        ("tagg:nightly", "'tagg:'"),
        ("state:modified.bogus", "state:modified.bogus"),
        ("state:bogus+", "state:bogus"),
        ("@orders+", "bad graph operator"),
        ("++orders", "bad graph operator"),
        ("orders++", "bad graph operator"),
        ("tag:", "no value"),
        ("+", "no value"),
        ("orders,,customers", "empty selector"),
        ("   ", "empty"),
        ("resource_type:modle", "unknown resource type 'modle'"),
        ("source:a.b.c.d", "source:a.b.c.d"),
        ("exposure:a.b.c", "exposure:a.b.c"),
        ("result:error", "run results"),
        ("version:newest", "version:newest"),
    ],
)
def test_bad_selectors_raise_naming_the_bad_part(select, fragment):
    with pytest.raises(SelectorError) as info:
        GRAPH.select(select=select)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, RecceTrioError)


def test_bad_exclude_raises_too():
    with pytest.raises(SelectorError, match="'tagg:'"):
        GRAPH.select(select="orders", exclude="tagg:x")


def test_parse_criterion_fields():
    c = parse_criterion("2+config.materialized:table+3")
    assert (c.method, c.arguments, c.value) == ("config", ("materialized",), "table")
    assert (c.parents, c.parents_depth, c.children, c.children_depth) == (True, 2, True, 3)
    assert parse_criterion("@x").childrens_parents
