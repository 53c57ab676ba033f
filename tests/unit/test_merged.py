"""The merged lineage of newer Recce UIs: one node per id with its change, edges with theirs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recce_trio.core.artifacts import read_catalog, read_manifest
from recce_trio.core.diff import build_lineage_diff
from recce_trio.core.merged import merged_lineage


def merged_of(root: Path) -> tuple[dict[str, Any], Any]:
    base_m, cur_m = (
        read_manifest(root / "target-base/manifest.json"),
        read_manifest(root / "target/manifest.json"),
    )
    diff = build_lineage_diff(
        base_m,
        read_catalog(root / "target-base/catalog.json"),
        cur_m,
        read_catalog(root / "target/catalog.json"),
    )
    merged = merged_lineage(
        diff.base, diff.current, diff.diff, base_manifest=base_m, current_manifest=cur_m
    )
    return merged, diff


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
    # The generator builds base and current in different schemas (prod vs CI).
    assert "base_schema" in node and node["base_schema"] != node["schema"]
    assert set(merged["metadata"]) == {"base", "current"}
    assert merged["metadata"]["current"]["manifest_metadata"]["dbt_schema_version"].endswith(
        "v12.json"
    )
