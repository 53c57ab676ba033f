"""/api/info, /api/select and /api/model(s) on generated, hand-written and real artifacts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import trio

from recce_trio.server.cll_work import progress_of
from tests.api.test_startup import get_json, running, wait_until_ready
from tests.conftest import CORPUS
from tests.unit.test_merged import assert_page_form_agrees


async def post_json(client: Any, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    response = await client.post(path, json=body)
    return response.status_code, json.loads(await response.get_data())


MERGED_KEYS = {
    "nodes",
    "edges",
    "metadata",
    "artifact_health",
    "schema_coverage",
}


async def analysed(client: Any) -> None:
    """Wait until the change analysis (after ready, in the background) is in /api/info."""
    with trio.fail_after(30):
        await progress_of(client.app.extensions["recce"]).finished.wait()


async def analysed_answers(project: Path, *paths: str) -> list[tuple[int, Any]]:
    """Each of ``paths`` (GET), asked once the change analysis is in /api/info."""
    async with running(project) as (_, client):
        await wait_until_ready(client)
        await analysed(client)
        return [await get_json(client, path) for path in paths]


async def test_info_has_recce_shape_and_the_merged_lineage(project: Path) -> None:
    [(status, info)] = await analysed_answers(project, "/api/info")
    assert status == 200
    assert info["adapter_type"] == "dbt"
    assert info["review_mode"] is False
    # The merged graph Recce's UI reads, and nothing heavier: no columns, no code.
    assert set(info["lineage"]) == MERGED_KEYS
    orders = info["lineage"]["nodes"]["model.shop.orders"]
    assert orders["change_status"] == "modified"
    # select 2 -> select 3: one output column replaced by another (change analysis, after ready)
    assert orders["change"]["category"] == "partial_breaking"
    assert set(orders["change"]["columns"]) <= {"2", "3"}
    assert orders["resource_type"] == "model"
    assert "columns" not in orders and "raw_code" not in orders
    assert orders["base_catalog_status"] == orders["current_catalog_status"] == "covered"
    assert orders["schema_comparison_status"] == "complete"
    assert {"source": "model.shop.stg_orders", "target": "model.shop.orders"} in info["lineage"][
        "edges"
    ]
    metadata = info["lineage"]["metadata"]["current"]["manifest_metadata"]
    assert metadata["project_name"] == "shop"
    assert info["lineage"]["artifact_health"]["current"]["status"] in ("complete", "partial")
    assert info["lineage"]["schema_coverage"]["status"] in ("complete", "partial")


async def test_info_page_form_is_the_drawn_subset_with_the_change_analysis(
    project: Path,
) -> None:
    (status, page), (_, info) = await analysed_answers(
        project, "/api/info?lineage=page", "/api/info"
    )
    assert status == 200
    # The same head as the default form; a lineage with what the own page draws.
    assert {k: v for k, v in page.items() if k != "lineage"} == {
        k: v for k, v in info.items() if k != "lineage"
    }
    lineage = page["lineage"]
    assert set(lineage) == {"nodes", "edges", "metadata", "folders", "folder_runs"}
    ids = list(lineage["nodes"])
    assert ids == ["model.shop.orders", "model.shop.stg_orders", "source.shop.raw.orders"]
    orders = lineage["nodes"]["model.shop.orders"]
    # The change analysis (after ready) reaches this form too.
    assert orders["change"]["category"] == "partial_breaking"
    assert orders["change_status"] == "modified"
    assert "schema" not in orders and "base_catalog_status" not in orders
    # stg_orders -> orders, and raw.orders -> stg_orders, as indexes into the nodes.
    pairs = list(zip(lineage["edges"][::2], lineage["edges"][1::2], strict=True))
    assert sorted(pairs) == [(1, 0), (2, 1)]
    # Each node's folder: all three files are in models/.
    assert lineage["folders"] == ["models"] and lineage["folder_runs"] == [0, 3]


async def test_info_full_form_on_request(project: Path) -> None:
    (status, info), (bad, error) = await analysed_answers(
        project, "/api/info?lineage=full", "/api/info?lineage=everything"
    )
    assert status == 200
    # The older form (Recce before 2026) with the merged graph beside it.
    assert set(info["lineage"]) == {"base", "current", "diff"} | MERGED_KEYS
    assert list(info["lineage"]["diff"]) == ["model.shop.orders"]
    entry = info["lineage"]["diff"]["model.shop.orders"]
    assert entry["change_status"] == "modified"
    assert entry["change"]["category"] == "partial_breaking"
    current = info["lineage"]["current"]
    assert current["manifest_metadata"]["project_name"] == "shop"
    orders = current["nodes"]["model.shop.orders"]
    assert list(orders["columns"]) == ["id", "amount"]
    assert current["parent_map"]["model.shop.orders"] == ["model.shop.stg_orders"]
    assert bad == 400 and "lineage" in error["detail"] and "page" in error["detail"]


async def test_select_modified_and_graph_operators(project: Path) -> None:
    async with running(project) as (_, client):
        await wait_until_ready(client)
        _, modified = await post_json(client, "/api/select", {"select": "state:modified"})
        _, upstream = await post_json(client, "/api/select", {"select": "+orders"})
        _, changed = await post_json(client, "/api/select", {"view_mode": "changed_models"})
        _, everything = await post_json(client, "/api/select", {})
    assert modified == {"nodes": ["model.shop.orders"]}
    assert upstream == {
        "nodes": ["model.shop.orders", "model.shop.stg_orders", "source.shop.raw.orders"]
    }
    # changed_models = 1+state:modified+: the modified model and its direct parent.
    assert changed == {"nodes": ["model.shop.orders", "model.shop.stg_orders"]}
    assert len(everything["nodes"]) == 3


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"select": "tagg:nightly"}, "tagg"),
        ({"select": "state:modified.bogus"}, "bogus"),
        ({"view_mode": "everything"}, "view_mode"),
    ],
)
async def test_bad_selector_is_400_naming_the_bad_part(
    project: Path, body: dict[str, Any], needle: str
) -> None:
    async with running(project) as (_, client):
        await wait_until_ready(client)
        status, error = await post_json(client, "/api/select", body)
    assert status == 400
    assert needle in error["detail"]


async def test_model_details_both_sides_and_unknown_ids(project: Path) -> None:
    async with running(project) as (_, client):
        await wait_until_ready(client)
        status, body = await get_json(client, "/api/model/model.shop.orders")
        status_new, body_new = await get_json(client, "/api/models/model.shop.orders")
        missing, nothing = await get_json(client, "/api/models/model.shop.nope")
        _, source = await get_json(client, "/api/models/source.shop.raw.orders")
    assert status == status_new == 200
    assert body == body_new
    current, base = body["model"]["current"], body["model"]["base"]
    assert current["columns"]["id"] == {"name": "id", "type": "integer"}
    assert list(base["columns"]) == ["id", "amount"]
    # The Code tab: each side's SQL as written.
    assert "raw_code" in current and "raw_code" in base
    assert current["raw_code"] != base["raw_code"]  # the modified model
    assert current["resource_type"] == "model"
    # Recce answers an id neither side knows with 200 and two empty sides.
    assert missing == 200
    assert nothing == {"model": {"base": {}, "current": {}}}
    assert source["model"]["current"]["resource_type"] == "source"


async def test_model_details_carry_each_sides_code_and_config(project: Path) -> None:
    # The own page's code and config diffs read these (recce-trio's addition to Recce's shape).
    async with running(project) as (_, client):
        await wait_until_ready(client)
        _, body = await get_json(client, "/api/models/model.shop.orders")
    base, current = body["model"]["base"], body["model"]["current"]
    assert base["raw_code"] != current["raw_code"]
    assert current["resource_type"] == "model"
    assert isinstance(current["unrendered_config"], dict)
    assert current["checksum"]["name"] == "sha256"


@pytest.mark.parametrize(
    "settings",
    [{}, {"target_path": Path("build/current"), "target_base_path": Path("/abs/prod-target")}],
    ids=["default-folders", "custom-folders"],
)
async def test_health_names_no_file_or_folder(project: Path, settings: dict[str, Any]) -> None:
    """Probes and load balancers read health: it reports each artifact's progress by its
    role and never a path, relative or absolute."""
    async with running(project, **settings) as (_, client):
        await wait_until_ready(client)
        _, health = await get_json(client, "/api/health")
    assert set(health["artifacts"]) == {
        "curr_manifest",
        "curr_catalog",
        "base_manifest",
        "base_catalog",
    }
    text = json.dumps(health)
    for leak in (str(project), "manifest.json", "catalog.json", "target", "build/current", "prod"):
        assert leak not in text, leak


async def test_generated_project_diff_matches_what_was_changed(
    generated: tuple[Path, dict[str, Any]],
) -> None:
    root, summary = generated
    async with running(root, loader="process") as (_, client):
        await wait_until_ready(client)
        _, info = await get_json(client, "/api/info")
        _, modified = await post_json(client, "/api/select", {"select": "state:modified.body"})
        _, configs = await post_json(client, "/api/select", {"select": "state:modified.configs"})
    nodes = info["lineage"]["nodes"]
    for uid in summary["added"]:
        assert nodes[uid]["change_status"] == "added"
        assert nodes[uid]["schema_comparison_status"] == "not_applicable"
    for uid in summary["removed"] + summary["removed_sources"]:
        assert nodes[uid]["change_status"] == "removed"
        assert "current_catalog_status" not in nodes[uid]
    for uid in summary["modified"]["raw_code"]:
        assert nodes[uid]["change_status"] == "modified"
        assert uid in modified["nodes"]
    for uid in summary["modified"]["config"]:
        assert uid in configs["nodes"]
    for uid, changes in summary["catalog_columns"].items():
        columns = nodes[uid]["change"]["columns"]
        for name in changes.get("added", []):
            assert columns[name] == "added"
        for name in changes.get("removed", []):
            assert columns[name] == "removed"
        for name in changes.get("type_changed", []):
            assert columns[name] == "modified"


CORPUS_PAIRS = sorted(p.parent.parent for p in CORPUS.glob("*/base/manifest.json"))


async def served_review(root: Path, loader: str) -> tuple[Any, ...]:
    """What a client reads of a review: /api/info's lineage, the older full form, the
    changed and state:modified selections."""
    async with running(root, loader=loader) as (_, client):
        health = await wait_until_ready(client)
        assert health["ready"], health
        _, info = await get_json(client, "/api/info")
        _, page = await get_json(client, "/api/info?lineage=page")
        _, full = await get_json(client, "/api/info?lineage=full")
        _, changed = await post_json(client, "/api/select", {"view_mode": "changed_models"})
        _, modified = await post_json(client, "/api/select", {"select": "state:modified+"})
    return info["lineage"], page["lineage"], full["lineage"], changed, modified


def link_pair(folder: Path, into: Path) -> Path:
    for env, source in (("target", folder), ("target-base", folder / "base")):
        (into / env).mkdir()
        for name in ("manifest.json", "catalog.json"):
            if (source / name).exists():
                (into / env / name).symlink_to(source / name)
    return into


async def test_both_loaders_serve_the_same_review(generated: tuple[Path, dict[str, Any]]) -> None:
    # The process loader works out each manifest's share of the review as its decoder's
    # records arrive; the thread loader after decoding it whole.
    root, _ = generated
    assert await served_review(root, "process") == await served_review(root, "thread")


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS}")
@pytest.mark.parametrize("folder", CORPUS_PAIRS, ids=lambda p: p.name)
async def test_both_loaders_serve_the_same_review_of_corpus_pairs(
    folder: Path, tmp_path: Path
) -> None:
    root = link_pair(folder, tmp_path)
    assert await served_review(root, "process") == await served_review(root, "thread")


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS}")
@pytest.mark.parametrize("folder", CORPUS_PAIRS, ids=lambda p: p.name)
async def test_corpus_pairs_serve_a_diff(folder: Path, tmp_path: Path) -> None:
    for env, source in (("target", folder), ("target-base", folder / "base")):
        (tmp_path / env).mkdir()
        for name in ("manifest.json", "catalog.json"):
            if (source / name).exists():
                (tmp_path / env / name).symlink_to(source / name)
    async with running(tmp_path) as (_, client):
        health = await wait_until_ready(client)
        assert health["ready"], health
        _, info = await get_json(client, "/api/info")
        _, page = await get_json(client, "/api/info?lineage=page")
        _, changed = await post_json(client, "/api/select", {"view_mode": "changed_models"})
        _, modified = await post_json(client, "/api/select", {"select": "state:modified"})
        models = [u for u in info["lineage"]["nodes"] if u.startswith("model.")][:5]
        details = [(await get_json(client, f"/api/models/{uid}"))[1]["model"] for uid in models]
    lineage = info["lineage"]
    # Each model's details carry its SQL as written (the Code tab) and its columns.
    for uid, detail in zip(models, details, strict=True):
        for side in ("base", "current"):
            if detail[side]:
                assert isinstance(detail[side]["raw_code"], str), uid
                assert isinstance(detail[side]["columns"], dict), uid
    assert set(lineage) == MERGED_KEYS
    assert_page_form_agrees(page["lineage"], lineage)
    # (Not always any change: AndrewStaus__data-platform's two states differ only in the
    # rendered schema, which dbt's state:modified ignores.)
    for node in lineage["nodes"].values():
        status = node.get("change_status")
        assert status in (None, "added", "removed", "modified")
        # Each side that has the node says whether its catalog covers it.
        assert ("base_catalog_status" in node) == (status != "added")
        assert ("current_catalog_status" in node) == (status != "removed")
        assert node["schema_comparison_status"] in ("complete", "unchecked", "not_applicable")
        if status in ("added", "removed"):
            assert node["schema_comparison_status"] == "not_applicable"
    for side in ("base", "current"):
        health = lineage["artifact_health"][side]
        assert health["covered_count"] + health["missing_node_count"] == health["expected_count"]
    coverage = lineage["schema_coverage"]
    unchecked = [
        u for u, n in lineage["nodes"].items() if n["schema_comparison_status"] == "unchecked"
    ]
    assert coverage["unchecked_node_count"] == len(unchecked)
    assert set(modified["nodes"]) <= set(changed["nodes"])
    assert all(not uid.startswith("test.") for uid in changed["nodes"])


def _with_not_null_test(manifest: dict[str, Any], *, severity: str) -> dict[str, Any]:
    uid = "test.shop.not_null_orders_id.abc123"
    manifest["nodes"][uid] = {
        "unique_id": uid,
        "resource_type": "test",
        "name": "not_null_orders_id",
        "package_name": "shop",
        "path": "not_null_orders_id.sql",
        "original_file_path": "models/schema.yml",
        "fqn": ["shop", "not_null_orders_id"],
        "config": {"enabled": True, "severity": severity},
        "unrendered_config": {"severity": severity},
        "raw_code": "{{ test_not_null(**_dbt_generic_test_kwargs) }}",
        "test_metadata": {"name": "not_null", "kwargs": {"column_name": "id"}, "namespace": None},
        "column_name": "id",
        "attached_node": "model.shop.orders",
        "depends_on": {"macros": ["macro.dbt.test_not_null"], "nodes": ["model.shop.orders"]},
    }
    return manifest


async def test_generic_test_config_change_is_state_modified_as_in_dbt(tmp_path: Path) -> None:
    from tests.artifact_json import manifest, write_project

    models = {"stg_orders": "select 1", "orders": "select 2"}
    project = write_project(
        tmp_path,
        base=_with_not_null_test(manifest(models), severity="error"),
        current=_with_not_null_test(manifest(models), severity="warn"),
    )
    async with running(project) as (_, client):
        await wait_until_ready(client)
        _, changed = await post_json(client, "/api/select", {"select": "1+state:modified"})
        _, details = await get_json(client, "/api/models/model.shop.orders")
    # dbt selects the test (dropped from the answer) and so its parent through 1+.
    assert changed == {"nodes": ["model.shop.orders"]}
    # The test marks the column in the node's details.
    assert details["model"]["current"]["columns"]["id"] == {
        "name": "id",
        "type": "integer",
        "not_null": True,
    }
