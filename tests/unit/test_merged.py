"""The merged lineage of newer Recce UIs: one node per id with its change, edges with theirs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from recce_trio.core.artifacts import read_catalog, read_manifest
from recce_trio.core.artifacts.records import Catalog, Manifest
from recce_trio.core.artifactset import LoadedArtifacts
from recce_trio.core.review import build_review
from tests.unit import factories as f


def review_of(
    base: Manifest, base_catalog: Catalog | None, current: Manifest, current_catalog: Catalog | None
) -> tuple[dict[str, Any], Any]:
    artifacts = LoadedArtifacts(
        base_manifest=base,
        current_manifest=current,
        base_catalog=base_catalog,
        current_catalog=current_catalog,
        single_env=False,
    )
    review = build_review(artifacts)
    return msgspec.json.decode(review.lineage_json), review.diff


def page_of(root: Path) -> dict[str, Any]:
    """The own page's form of the merged lineage (``/api/info?lineage=page``)."""
    artifacts = LoadedArtifacts(
        base_manifest=read_manifest(root / "target-base/manifest.json"),
        current_manifest=read_manifest(root / "target/manifest.json"),
        base_catalog=read_catalog(root / "target-base/catalog.json"),
        current_catalog=read_catalog(root / "target/catalog.json"),
        single_env=False,
    )
    page: dict[str, Any] = msgspec.json.decode(build_review(artifacts).page_json)
    return page


def merged_of(root: Path) -> tuple[dict[str, Any], Any]:
    return review_of(
        read_manifest(root / "target-base/manifest.json"),
        read_catalog(root / "target-base/catalog.json"),
        read_manifest(root / "target/manifest.json"),
        read_catalog(root / "target/catalog.json"),
    )


def test_removed_and_added_nodes_and_edges_carry_their_change(
    generated: tuple[Path, dict[str, Any]],
) -> None:
    root, summary = generated
    merged, diff = merged_of(root)
    assert set(merged["nodes"]) == set(diff.base["nodes"]) | set(diff.current["nodes"])
    for uid in summary["removed"]:
        assert merged["nodes"][uid]["change_status"] == "removed"
        edges = [e for e in merged["edges"] if uid in (e["source"], e["target"])]
        assert edges and all(e["change_status"] == "removed" for e in edges)
    for uid in summary["added"]:
        assert merged["nodes"][uid]["change_status"] == "added"
        edges = [e for e in merged["edges"] if uid in (e["source"], e["target"])]
        assert edges and all(e["change_status"] == "added" for e in edges)
    modified = summary["modified"]["raw_code"][0]
    node = merged["nodes"][modified]
    assert node["change_status"] == "modified"
    assert node["materialized"] in ("view", "table", "incremental", "ephemeral")
    unchanged = next(uid for uid in merged["nodes"] if uid not in diff.diff)
    assert "change_status" not in merged["nodes"][unchanged]
    # Recce's form has exactly Recce's members: the own page's extras are in its own form.
    assert set(merged) == {"nodes", "edges", "metadata", "artifact_health", "schema_coverage"}
    recce_fields = {
        "name", "resource_type", "package_name", "schema", "base_schema", "materialized",
        "source_name", "change_status", "change", "schema_comparison_status",
        "base_catalog_status", "current_catalog_status",
    }  # fmt: skip
    assert set().union(*(n.keys() for n in merged["nodes"].values())) <= recce_fields
    # The generator builds base and current in different schemas (prod vs CI).
    assert "base_schema" in node and node["base_schema"] != node["schema"]
    assert set(merged["metadata"]) == {"base", "current"}
    assert merged["metadata"]["current"]["manifest_metadata"]["dbt_schema_version"].endswith(
        "v12.json"
    )


def test_the_page_form_is_recces_nodes_drawn_fields_and_edges_as_index_pairs(
    generated: tuple[Path, dict[str, Any]],
) -> None:
    root, summary = generated
    merged, _ = merged_of(root)
    page = page_of(root)
    assert set(page) == {"nodes", "edges", "metadata", "folders", "folder_runs"}
    assert page["metadata"] == merged["metadata"]
    assert list(page["nodes"]) == sorted(page["nodes"])
    assert_page_form_agrees(page, merged)
    ids = list(page["nodes"])
    # Where each node is defined (the own page groups by folder); a removed node's is base's.
    # Each folder is listed once; folder_runs gives each node's index into the list, in the
    # order the nodes are sent (sorted by id), run-length encoded.
    folders = page["folders"]
    assert len(folders) == len(set(folders))
    folder_of = dict(zip(ids, decode_runs(page["folder_runs"]), strict=True))
    modified = summary["modified"]["raw_code"][0]
    current = read_manifest(root / "target/manifest.json").all_nodes()
    path = current[modified].original_file_path
    assert folders[folder_of[modified]] == path.rsplit("/", 1)[0]
    assert folders[folder_of[modified]].startswith("models/")
    base = read_manifest(root / "target-base/manifest.json").all_nodes()
    gone = summary["removed"][0]
    gone_folder = base[gone].original_file_path.rsplit("/", 1)[0]
    assert folders[folder_of[gone]] == gone_folder


DRAWN = ("name", "resource_type", "package_name", "materialized", "change_status", "change")


def assert_page_form_agrees(page: dict[str, Any], merged: dict[str, Any]) -> None:
    """The own page's form says what Recce's form says of what the page draws: the same
    nodes in the same order, their drawn fields, every edge as a pair of node indexes, and
    each node's folder."""
    ids = list(page["nodes"])
    assert ids == list(merged["nodes"])
    for uid, node in merged["nodes"].items():
        assert page["nodes"][uid] == {k: node[k] for k in DRAWN if k in node}, uid
    pairs = page["edges"]
    sent = {(ids[s], ids[t]) for s, t in zip(pairs[::2], pairs[1::2], strict=True)}
    assert sent == {(e["source"], e["target"]) for e in merged["edges"]} - {
        (e["source"], e["source"]) for e in merged["edges"]
    }
    runs = page["folder_runs"]
    assert sum(runs[1::2]) == len(ids)
    assert all(-1 <= at < len(page["folders"]) for at in runs[::2])


def decode_runs(runs: list[int]) -> list[int]:
    return [value for value, count in zip(runs[::2], runs[1::2], strict=True) for _ in range(count)]


def test_folder_runs_are_run_length_encoded() -> None:
    from recce_trio.core.merged import runs

    assert runs([]) == []
    assert runs([3, 3, 3, -1, 0, 0, 3]) == [3, 3, -1, 1, 0, 2, 3, 1]
    assert decode_runs(runs([3, 3, 3, -1, 0, 0, 3])) == [3, 3, 3, -1, 0, 0, 3]


def test_catalog_statuses_say_which_schemas_can_be_compared() -> None:
    orders = f.model("orders", parents=["source.shop.raw.orders"])
    customers = f.model("customers")
    ephemeral = f.model("helper", config={"materialized": "ephemeral"})
    added = f.model("added")
    raw = f.source("raw", "orders")
    dash = f.exposure("dash", [orders.unique_id])
    base = f.manifest(orders, customers, ephemeral, raw, dash)
    current = f.manifest(orders, customers, ephemeral, raw, dash, added)
    cols = [("id", "integer")]
    base_catalog = f.catalog(
        {orders.unique_id: cols, customers.unique_id: cols}, {raw.unique_id: cols}
    )
    # The current catalog misses customers (dbt docs generate ran before it was built).
    current_catalog = f.catalog({orders.unique_id: cols, added.unique_id: cols})
    merged, _ = review_of(base, base_catalog, current, current_catalog)
    nodes = merged["nodes"]

    assert nodes[orders.unique_id]["base_catalog_status"] == "covered"
    assert nodes[orders.unique_id]["current_catalog_status"] == "covered"
    assert nodes[orders.unique_id]["schema_comparison_status"] == "complete"
    assert nodes[customers.unique_id]["current_catalog_status"] == "unchecked"
    assert nodes[customers.unique_id]["schema_comparison_status"] == "unchecked"
    assert nodes[ephemeral.unique_id]["base_catalog_status"] == "not_applicable"
    assert nodes[ephemeral.unique_id]["schema_comparison_status"] == "not_applicable"
    assert nodes[dash.unique_id]["current_catalog_status"] == "not_applicable"
    # Sources are covered by the catalog's sources.
    assert nodes[raw.unique_id]["base_catalog_status"] == "covered"
    assert nodes[raw.unique_id]["current_catalog_status"] == "unchecked"
    assert "schema" not in nodes[raw.unique_id]
    # A node on one side only has no status for the other, and nothing to compare.
    assert "base_catalog_status" not in nodes[added.unique_id]
    assert nodes[added.unique_id]["schema_comparison_status"] == "not_applicable"

    coverage = merged["schema_coverage"]
    assert coverage["status"] == "partial"
    assert coverage["unchecked_nodes"] == sorted([customers.unique_id, raw.unique_id])
    assert coverage["unchecked_node_count"] == 2 and coverage["more"] is False

    health = merged["artifact_health"]
    assert health["base"]["status"] == "complete"
    assert health["base"]["expected_count"] == 2  # the ephemeral model has no relation
    assert health["current"]["status"] == "partial"
    assert health["current"]["missing_nodes"] == [customers.unique_id]
    assert health["current"]["covered_count"] == 2
    assert health["current"]["orphan_node_count"] == 0


def test_without_catalogs_the_health_says_absent_and_coverage_unchecked() -> None:
    orders = f.model("orders")
    manifest = f.manifest(orders)
    merged, _ = review_of(manifest, None, manifest, None)
    assert merged["artifact_health"]["base"]["status"] == "absent"
    assert merged["artifact_health"]["current"]["missing_nodes"] == [orders.unique_id]
    assert merged["nodes"][orders.unique_id]["schema_comparison_status"] == "unchecked"
    assert merged["schema_coverage"]["status"] == "partial"
    assert merged["metadata"]["base"]["catalog_metadata"] == {}


def test_orphans_and_long_lists_are_cut_at_fifty() -> None:
    models = [f.model(f"m{i:03}") for i in range(60)]
    manifest = f.manifest(*models)
    catalog = f.catalog({"model.shop.gone": [("id", "int")]})
    merged, _ = review_of(manifest, catalog, manifest, catalog)
    health = merged["artifact_health"]["current"]
    assert health["status"] == "empty"
    assert health["missing_node_count"] == 60 and len(health["missing_nodes"]) == 50
    assert health["missing_more"] is True
    assert health["orphan_nodes"] == ["model.shop.gone"]
    coverage = merged["schema_coverage"]
    assert coverage["unchecked_node_count"] == 60 and coverage["more"] is True
