"""Recce's CllData (``/api/cll``): its shape for a node, a column, change analysis and the
no_upstream / no_downstream / no_cll options, and the impact radius."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from recce_trio.core.cll.api import CllProject, CllRequestError, cll_data, impact_radius
from recce_trio.core.cll.cache import CllCache
from tests.unit import factories as f

SRC = "source.shop.raw.orders"
STG, ORD, CUS, SEG, OLD = (
    "model.shop.stg_orders",
    "model.shop.orders",
    "model.shop.customers",
    "model.shop.segments",
    "model.shop.legacy",
)
NODE_KEYS = {
    "id",
    "name",
    "package_name",
    "resource_type",
    "source_name",
    "change_status",
    "change_category",
    "columns",
    "impacted",
}
COLUMN_KEYS = {
    "id",
    "table_id",
    "name",
    "type",
    "transformation_type",
    "change_status",
    "depends_on",
}


def _model(name: str, sql: str, parents: list[str]) -> Any:
    node = f.model(name, sql, parents=parents)
    return msgspec.structs.replace(node, compiled_code=sql)


def _project(cache: CllCache | None = None) -> CllProject:
    src = f.source("raw", "orders")
    stg = "select id as order_id, user_id as customer_id, amount, status from raw.orders"
    base_orders = "select order_id, customer_id, amount from main.stg_orders"
    # current: a new filter (breaking) and a rounded amount
    cur_orders = (
        "select order_id, customer_id, round(amount, 2) as amount from main.stg_orders"
        " where status <> 'returned'"
    )
    base_cus = (
        "select customer_id, sum(amount) as lifetime_value from main.orders group by customer_id"
    )
    cur_cus = (
        "select customer_id, sum(amount) as lifetime_value, count(*) as order_count"
        " from main.orders group by customer_id"
    )
    seg = "select customer_id, lifetime_value > 100 as is_big from main.customers"
    legacy = "select order_id from main.orders"
    base = f.manifest(
        src,
        _model("stg_orders", stg, [SRC]),
        _model("orders", base_orders, [STG]),
        _model("customers", base_cus, [ORD]),
        _model("legacy", legacy, [ORD]),
    )
    current = f.manifest(
        src,
        _model("stg_orders", stg, [SRC]),
        _model("orders", cur_orders, [STG]),
        _model("customers", cur_cus, [ORD]),
        _model("segments", seg, [CUS]),
    )
    raw = [("id", "INTEGER"), ("user_id", "INTEGER"), ("amount", "DOUBLE"), ("status", "VARCHAR")]
    stg_cols = [
        ("order_id", "INTEGER"),
        ("customer_id", "INTEGER"),
        ("amount", "DOUBLE"),
        ("status", "VARCHAR"),
    ]
    ord_cols = [("order_id", "INTEGER"), ("customer_id", "INTEGER"), ("amount", "DOUBLE")]
    base_cat = f.catalog(
        {
            STG: stg_cols,
            ORD: ord_cols,
            CUS: [("customer_id", "INTEGER"), ("lifetime_value", "DOUBLE")],
            OLD: [("order_id", "INTEGER")],
        },
        {SRC: raw},
    )
    cur_cat = f.catalog(
        {
            STG: stg_cols,
            ORD: ord_cols,
            CUS: [
                ("customer_id", "INTEGER"),
                ("lifetime_value", "DOUBLE"),
                ("order_count", "BIGINT"),
            ],
            SEG: [("customer_id", "INTEGER"), ("is_big", "BOOLEAN")],
        },
        {SRC: raw},
    )
    changes = {ORD: "modified", CUS: "modified", SEG: "added", OLD: "removed"}
    return CllProject(base, base_cat, current, cur_cat, changes=changes, cache=cache)


def test_a_node_with_its_lineage_up_and_down() -> None:
    data = cll_data(_project(), node_id=ORD)
    assert set(data) == {"nodes", "columns", "parent_map", "child_map"}
    json.dumps(data)  # plain JSON
    assert set(data["nodes"]) == {SRC, STG, ORD, CUS, SEG}
    node = data["nodes"][ORD]
    assert set(node) == NODE_KEYS
    assert (node["name"], node["resource_type"], node["impacted"], node["change_status"]) == (
        "orders",
        "model",
        None,
        None,
    )
    assert list(node["columns"]) == ["order_id", "customer_id", "amount"]
    amount = data["columns"][f"{ORD}_amount"]
    assert set(amount) == COLUMN_KEYS
    assert amount["transformation_type"] == "derived"
    assert amount["depends_on"] == [{"node": STG, "column": "amount"}]
    assert data["parent_map"][f"{ORD}_amount"] == [f"{STG}_amount"]
    assert data["parent_map"][f"{STG}_customer_id"] == [f"{SRC}_user_id"]
    assert data["columns"][f"{STG}_customer_id"]["transformation_type"] == "renamed"
    assert data["columns"][f"{SRC}_user_id"]["transformation_type"] == "source"
    # The WHERE on status makes the node (every row) depend on stg_orders.status.
    assert data["parent_map"][ORD] == [STG, f"{STG}_status"]
    assert f"{ORD}_amount" in data["child_map"][f"{STG}_amount"]
    assert data["child_map"][f"{ORD}_amount"] == [f"{CUS}_lifetime_value"]
    assert data["parent_map"][f"{SEG}_is_big"] == [f"{CUS}_lifetime_value"]


def test_no_upstream_and_no_downstream() -> None:
    project = _project()
    down = cll_data(project, node_id=ORD, no_upstream=True)
    assert set(down["nodes"]) == {ORD, CUS, SEG}
    assert all(not k.startswith(STG) for k in down["columns"])
    up = cll_data(project, node_id=ORD, no_downstream=True)
    assert set(up["nodes"]) == {SRC, STG, ORD}
    only = cll_data(project, node_id=ORD, no_upstream=True, no_downstream=True)
    assert set(only["nodes"]) == {ORD}
    assert set(only["columns"]) == {f"{ORD}_order_id", f"{ORD}_customer_id", f"{ORD}_amount"}


def test_a_column_follows_only_its_own_lineage() -> None:
    data = cll_data(_project(), node_id=CUS, column="lifetime_value")
    assert set(data["columns"]) == {
        f"{SRC}_amount",
        f"{STG}_amount",
        f"{ORD}_amount",
        f"{CUS}_lifetime_value",
        f"{SEG}_is_big",
    }
    # Unlike Recce, the owners of those columns come along (with only those columns).
    assert set(data["nodes"]) == {SRC, STG, ORD, CUS, SEG}
    assert list(data["nodes"][CUS]["columns"]) == ["lifetime_value"]


def test_change_analysis_impact_from_the_changes() -> None:
    data = cll_data(_project(), change_analysis=True, no_upstream=True)
    nodes = data["nodes"]
    assert nodes[ORD]["change_status"] == "modified"
    assert nodes[ORD]["change_category"] == "breaking"  # the new WHERE
    assert nodes[ORD]["impacted"] is True
    assert data["columns"][f"{ORD}_amount"]["change_status"] == "modified"
    # customers only gained a column: non_breaking, kept but not impacted by itself; it is
    # impacted here because orders (breaking) is its parent.
    assert nodes[CUS]["change_category"] == "non_breaking"
    assert nodes[CUS]["impacted"] is True
    assert data["columns"][f"{CUS}_order_count"]["change_status"] == "added"
    assert nodes[SEG]["change_status"] == "added" and nodes[SEG]["impacted"] is True
    assert data["columns"][f"{SEG}_is_big"]["change_status"] == "added"
    assert OLD not in nodes  # removed: not in the current lineage
    assert STG not in nodes and SRC not in nodes


def test_vocabulary_v2_names_the_categories_differently() -> None:
    data = cll_data(_project(), change_analysis=True, no_upstream=True, vocabulary="v2")
    assert data["nodes"][ORD]["change_category"] == "model_wide"
    assert data["nodes"][CUS]["change_category"] == "additive"


def test_change_analysis_for_one_non_breaking_node() -> None:
    data = cll_data(_project(), node_id=CUS, change_analysis=True, no_upstream=True)
    # Anchors are only the changed column; the node is kept but nothing else propagates.
    assert data["nodes"][CUS]["impacted"] is False
    assert list(data["nodes"][CUS]["columns"]) == ["order_count"]
    assert set(data["columns"]) == {f"{CUS}_order_count"}


def test_no_cll_keeps_catalog_columns_of_changed_nodes_only() -> None:
    data = cll_data(_project(), change_analysis=True, no_cll=True, no_upstream=True)
    assert data["nodes"][ORD]["columns"]["amount"]["transformation_type"] == "unknown"
    assert data["nodes"][SEG]["columns"] == {}
    assert data["parent_map"].get(ORD) in (None, [])  # its parent is not in the answer


def test_impact_radius() -> None:
    radius = impact_radius(_project())
    assert radius["whole_model"] == [CUS, ORD, SEG]
    assert set(radius["by_node"][ORD]) == {"amount"}
    assert f"{SEG}_is_big" in radius["columns"]
    assert STG not in radius["nodes"]


def test_bad_requests_are_client_errors() -> None:
    project = _project()
    with pytest.raises(CllRequestError, match="no node"):
        cll_data(project, node_id="model.shop.nope")
    with pytest.raises(CllRequestError, match="node_id"):
        cll_data(project, column="amount")


def test_the_cache_is_reused_by_the_next_project() -> None:
    cache = CllCache()
    first = cll_data(_project(cache), node_id=ORD)
    size, hits = len(cache), cache.hits
    assert size > 0
    again = cll_data(_project(cache), node_id=ORD)
    assert again == first
    assert len(cache) == size and cache.hits > hits


def test_threads_share_one_project_and_cache() -> None:
    # The server fills the cache from a worker thread while requests read it from others.
    import threading

    expected = cll_data(_project(), change_analysis=True)
    project = _project()
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            project.full_map()
            results.append(cll_data(project, change_analysis=True))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == [expected] * 4


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"change_analysis": True, "no_upstream": True},
        {"node_id": ORD},
        {"node_id": ORD, "no_downstream": True},
        {"node_id": CUS, "column": "lifetime_value"},
        {"node_id": ORD, "change_analysis": True},
        {"change_analysis": True, "no_cll": True},
    ],
)
def test_answers_are_the_same_before_and_after_the_whole_map(params: dict[str, Any]) -> None:
    # Before full_map, an answer analyses Recce's pool; after, it walks the project index.
    cold = cll_data(_project(), **params)
    warm_project = _project()
    warm_project.full_map()
    assert warm_project.index is not None
    assert cll_data(warm_project, **params) == cold


def test_impact_radius_names_a_node_that_only_owns_impacted_columns() -> None:
    # stg changes one column's expression (partial breaking: no node-level anchor); mart only
    # passes that column on, so mart itself is reached through its column alone.
    stg, mart = "model.shop.stg", "model.shop.mart"
    src = f.source("raw", "orders")
    cols = [("id", "INTEGER"), ("amount", "DOUBLE")]
    cat = f.catalog({stg: cols, mart: cols}, {SRC: cols})
    mart_sql = "select id, amount from main.stg"
    base = f.manifest(
        src,
        _model("stg", "select id, amount from raw.orders", [SRC]),
        _model("mart", mart_sql, [stg]),
    )
    current = f.manifest(
        src,
        _model("stg", "select id, amount * 2 as amount from raw.orders", [SRC]),
        _model("mart", mart_sql, [stg]),
    )
    project = CllProject(base, cat, current, cat, changes={stg: "modified"})
    assert project.change(stg) is not None and project.change(stg).category == "partial_breaking"
    radius = impact_radius(project)
    assert radius["by_node"] == {stg: ["amount"], mart: ["amount"]}
    assert radius["columns"] == [f"{mart}_amount", f"{stg}_amount"]
    assert radius["nodes"] == [mart, stg]
    assert radius["whole_model"] == []
