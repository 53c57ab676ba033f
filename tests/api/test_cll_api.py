"""``POST /api/cll`` on the bundled demo: a node, a column, change analysis, the
no_upstream / no_downstream / no_cll options, Recce's v2 vocabulary, and client mistakes."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trio

from recce_trio.config import DEMO_DIR
from recce_trio.server.cll_work import MAP_SWITCH_INTERVAL_S, progress_of, run_cll
from tests.api.helpers import call, ready_app

P = "model.oracle_shop."
ORDERS, CUSTOMERS, SEGMENTS = P + "orders", P + "customers", P + "customer_segments"
STG_ORDERS, REVENUE = P + "stg_orders", P + "order_revenue"
PAYMENTS = P + "int_order_payments"


@pytest.fixture
async def client() -> AsyncIterator[Any]:
    async with ready_app(DEMO_DIR, demo=True) as (_, test_client):
        yield test_client


async def cll(client: Any, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    response = await client.post("/api/cll", json=body, headers=headers)
    assert response.status_code == 200, await response.get_data()
    data: dict[str, Any] = (await response.get_json())["current"]
    assert set(data) == {"nodes", "columns", "parent_map", "child_map"}
    return data


async def test_a_node_has_its_columns_and_lineage_both_ways(client: Any) -> None:
    data = await cll(client, {"node_id": ORDERS})
    node = data["nodes"][ORDERS]
    assert node["resource_type"] == "model" and node["name"] == "orders"
    assert node["change_status"] is None and node["impacted"] is None  # no change_analysis
    assert "amount" in node["columns"]
    amount = data["columns"][f"{ORDERS}_amount"]
    assert amount["table_id"] == ORDERS
    assert amount["transformation_type"] in ("derived", "passthrough", "renamed")
    # upstream: orders.amount comes from the payments; downstream: order_revenue reads it
    assert STG_ORDERS in data["nodes"] and REVENUE in data["nodes"]
    assert data["parent_map"][f"{ORDERS}_amount"] == [f"{PAYMENTS}_amount"]
    assert f"{STG_ORDERS}_order_id" in data["parent_map"][ORDERS]  # the join key
    assert any(c.startswith(REVENUE + "_") for c in data["child_map"][f"{ORDERS}_amount"])


async def test_a_column_follows_only_that_column(client: Any) -> None:
    data = await cll(client, {"node_id": ORDERS, "column": "amount"})
    ids = set(data["columns"])
    assert f"{ORDERS}_amount" in ids
    assert f"{ORDERS}_order_id" not in ids  # a sibling column that does not feed it
    assert f"{REVENUE}_revenue" in ids  # downstream of amount
    assert f"{PAYMENTS}_amount" in ids  # upstream of amount
    assert f"{P}stg_payments_amount" in ids  # and further up
    # every edge stays inside the answer
    for edges in (data["parent_map"], data["child_map"]):
        for key, targets in edges.items():
            assert key in ids | set(data["nodes"])
            assert set(targets) <= ids | set(data["nodes"])


async def test_no_upstream_and_no_downstream(client: Any) -> None:
    down = await cll(client, {"node_id": ORDERS, "column": "amount", "no_upstream": True})
    up = await cll(client, {"node_id": ORDERS, "column": "amount", "no_downstream": True})
    assert f"{REVENUE}_revenue" in down["columns"]
    assert f"{PAYMENTS}_amount" not in down["columns"]
    assert f"{PAYMENTS}_amount" in up["columns"]
    assert f"{REVENUE}_revenue" not in up["columns"]
    alone = await cll(
        client, {"node_id": ORDERS, "column": "amount", "no_upstream": True, "no_downstream": True}
    )
    assert set(alone["columns"]) == {f"{ORDERS}_amount"}


async def test_change_analysis_gives_categories_and_the_impact(client: Any) -> None:
    data = await cll(client, {"change_analysis": True, "no_upstream": True})
    orders = data["nodes"][ORDERS]
    assert orders["change_status"] == "modified"
    assert orders["change_category"] == "partial_breaking"
    assert orders["columns"]["amount"]["change_status"] == "modified"
    assert orders["columns"]["is_returned"]["change_status"] == "added"
    assert data["nodes"][SEGMENTS]["change_status"] == "added"
    assert data["nodes"][SEGMENTS]["impacted"] is True
    # the modified amount reaches order_revenue.revenue downstream
    assert f"{ORDERS}_amount" in data["parent_map"][f"{REVENUE}_revenue"]
    assert not any(c.startswith(PAYMENTS + "_") for c in data["columns"])  # no_upstream


async def test_change_analysis_of_one_node_and_the_v2_vocabulary(client: Any) -> None:
    body = {"node_id": CUSTOMERS, "change_analysis": True, "no_upstream": True}
    v1 = await cll(client, body)
    assert v1["nodes"][CUSTOMERS]["change_category"] == "partial_breaking"
    assert v1["nodes"][CUSTOMERS]["columns"]["lifetime_value"]["change_status"] == "modified"
    v2 = await cll(client, body, **{"Accept-Vocabulary": "v2"})
    assert v2["nodes"][CUSTOMERS]["change_category"] == "column"


async def test_no_cll_skips_the_sql(client: Any) -> None:
    data = await cll(client, {"node_id": ORDERS, "no_cll": True, "change_analysis": True})
    for column in data["columns"].values():
        assert column["transformation_type"] == "unknown"
    assert STG_ORDERS in data["parent_map"][ORDERS]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"node_id": "model.oracle_shop.nope"}, 400, "no node"),
        ({"column": "amount"}, 400, "node_id"),
        ({"node_id": 3}, 422, "valid str"),
        ({"node_id": ORDERS, "no_upstream": "yes"}, 422, "valid bool"),
        ({"full_map": True}, 400, "full_map"),
    ],
)
async def test_mistakes_are_4xx_with_a_reason(
    client: Any, body: dict[str, Any], status: int, words: str
) -> None:
    got, answer = await call(client, "post", "/api/cll", body)
    assert got == status
    assert words in str(answer["detail"])


async def test_info_turns_change_analysis_on(client: Any) -> None:
    _, info = await call(client, "get", "/api/info")
    assert info["support_tasks"]["change_analysis"] is True


async def test_the_whole_map_is_computed_after_ready(client: Any) -> None:
    state = client.app.extensions["recce"]
    progress = progress_of(state)
    with trio.fail_after(30):
        await progress.finished.wait()
    assert progress.state == "done"
    assert progress.done == progress.total == len(state.review.cll.graph()[0])
    # the map filled the cache: a node's lineage is now a hit
    hits = state.cll_cache.hits
    state.review.cll.node(ORDERS)
    assert state.cll_cache.hits > hits
    # and built the project-wide edge index: a request computes nothing more
    assert state.review.cll.index is not None
    misses = state.cll_cache.misses
    await cll(client, {"node_id": ORDERS})
    assert state.cll_cache.misses == misses


async def test_info_gets_the_categories_after_ready(client: Any) -> None:
    state = client.app.extensions["recce"]
    with trio.fail_after(30):
        await progress_of(state).finished.wait()
    _, info = await call(client, "get", "/api/info")
    nodes = info["lineage"]["nodes"]
    assert nodes[ORDERS]["change"] == {
        "category": "partial_breaking",
        "columns": {"amount": "modified", "is_returned": "added"},
    }
    assert nodes[CUSTOMERS]["change"]["category"] == "partial_breaking"
    assert nodes[SEGMENTS]["change_status"] == "added" and "change" not in nodes[SEGMENTS]
    # the full form carries the same change
    _, full = await call(client, "get", "/api/info?lineage=full")
    assert full["lineage"]["diff"][ORDERS]["change"]["category"] == "partial_breaking"


async def test_a_big_change_set_is_analysed_after_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    # Above the inline limit, the review opens with "unknown" and is analysed in the background.
    monkeypatch.setattr("recce_trio.server.cll_review.INLINE_CHANGE_ANALYSIS_MAX", 0)
    async with ready_app(DEMO_DIR, demo=True) as (app, client):
        state = app.extensions["recce"]
        with trio.fail_after(30):
            await progress_of(state).finished.wait()
        _, info = await call(client, "get", "/api/info")
    assert info["lineage"]["nodes"][ORDERS]["change"]["category"] == "partial_breaking"


async def test_a_reload_starts_the_map_again_for_the_new_review(tmp_path: Path) -> None:
    from tests.artifact_json import manifest, write_project

    project = write_project(tmp_path)
    async with ready_app(project) as (app, client):
        state = app.extensions["recce"]
        progress = progress_of(state)
        with trio.fail_after(30):
            await progress.finished.wait()
        first_total, first_event = progress.total, progress.finished
        before = await cll(client, {"node_id": "model.shop.orders"})  # an answer kept
        assert "model.shop.new_model" not in before["nodes"]
        models = {"stg_orders": "select 1", "orders": "select 3", "new_model": "select 4"}
        (project / "target" / "manifest.json").write_text(json.dumps(manifest(models)))
        with trio.fail_after(30):
            while progress.finished is first_event or not progress.finished.is_set():  # noqa: ASYNC110
                await trio.sleep(0.05)
        assert progress.state == "done"
        assert progress.total == first_total + 1
        data = await cll(client, {"node_id": "model.shop.new_model"})
        after = await cll(client, {"node_id": "model.shop.orders"})  # not the kept answer
    assert "model.shop.new_model" in data["nodes"]
    assert "model.shop.new_model" in after["nodes"]
    assert after["child_map"]["model.shop.orders"] == ["model.shop.new_model"]


async def test_the_switch_interval_is_lowered_only_while_lineage_work_runs() -> None:
    default = sys.getswitchinterval()
    async with ready_app(DEMO_DIR, demo=True) as (app, client):
        state = app.extensions["recce"]
        with trio.fail_after(30):
            await progress_of(state).finished.wait()
        assert sys.getswitchinterval() == default  # the map is over

        seen: list[float] = []

        def work() -> bytes:
            seen.append(sys.getswitchinterval())
            return b"{}"

        await run_cll(state, work)
        await cll(client, {"node_id": ORDERS})
        assert seen == [MAP_SWITCH_INTERVAL_S] and default > MAP_SWITCH_INTERVAL_S
        assert sys.getswitchinterval() == default
