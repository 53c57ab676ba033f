"""Lineage, LineageDiff and selectors over the real artifacts of the shared corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from recce_trio.core.artifacts import read_catalog, read_manifest
from recce_trio.core.artifacts.records import LINEAGE_NODE_TYPES, Catalog, Manifest
from recce_trio.core.diff import build_lineage_diff
from recce_trio.core.lineage import build_lineage
from recce_trio.core.state_rules import StateComparison

DBT_ARTIFACTS = Path(__file__).resolve().parents[2].parent / "shared/corpus/dbt-artifacts"

pytestmark = pytest.mark.corpus


def corpus_sets(*, with_base: bool) -> list[Any]:
    if not DBT_ARTIFACTS.is_dir():
        reason = f"corpus not found at {DBT_ARTIFACTS} (it lives beside the repository in shared/)"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-corpus")]
    folders = sorted(p.parent for p in DBT_ARTIFACTS.glob("*/manifest.json"))
    if with_base:
        folders = [f for f in folders if (f / "base" / "manifest.json").is_file()]
    return [pytest.param(f, id=f.name) for f in folders]


def lineage_node_ids(manifest: Manifest) -> set[str]:
    """The unique_ids that the lineage must show for ``manifest``, read from its records."""
    ids = {uid for uid, node in manifest.nodes.items() if node.resource_type in LINEAGE_NODE_TYPES}
    ids.update(manifest.sources)
    ids.update(manifest.exposures)
    ids.update(manifest.metrics)
    ids.update(manifest.semantic_models)
    return ids


def _catalog(folder: Path) -> Catalog | None:
    path = folder / "catalog.json"
    return read_catalog(path) if path.is_file() else None


@pytest.mark.parametrize("folder", corpus_sets(with_base=False))
def test_lineage_builds(folder: Path) -> None:
    manifest, catalog = read_manifest(folder / "manifest.json"), _catalog(folder)
    lineage = build_lineage(manifest, catalog)
    nodes = lineage["nodes"]
    assert nodes.keys() == lineage_node_ids(manifest)
    assert lineage["parent_map"].keys() == nodes.keys()
    for parents in lineage["parent_map"].values():
        assert set(parents) <= nodes.keys()
    for uid, node in nodes.items():
        assert node["id"] == uid
        in_catalog = catalog is not None and (uid in catalog.nodes or uid in catalog.sources)
        assert ("columns" in node) == in_catalog, uid
        if "primary_key" in node:
            assert node["columns"][node["primary_key"]]["unique"] is True
    metadata = lineage["manifest_metadata"]
    assert metadata["dbt_schema_version"] == manifest.metadata.dbt_schema_version


@pytest.mark.parametrize("folder", corpus_sets(with_base=True))
def test_lineage_diff(folder: Path) -> None:
    base = read_manifest(folder / "base/manifest.json")
    current = read_manifest(folder / "manifest.json")
    result = build_lineage_diff(base, _catalog(folder / "base"), current, _catalog(folder))
    base_nodes, current_nodes = result.base["nodes"], result.current["nodes"]
    project = current.metadata.project_name

    def in_root(node: dict[str, Any]) -> bool:
        return project is None or node["package_name"] == project

    modified = set(StateComparison(base, current).select("modified"))
    for uid, entry in result.diff.items():
        status = entry["change_status"]
        assert (
            status
            == {
                (True, True): "modified",
                (True, False): "removed",
                (False, True): "added",
            }[(uid in base_nodes, uid in current_nodes)]
        ), uid
        if status == "modified":
            assert uid in modified, uid
            assert entry["change"]["category"] == "unknown"
        else:
            assert entry["change"] is None

    # Every root-project lineage node that was removed, added or whose code changed is there.
    removed = {uid for uid, n in base_nodes.items() if uid not in current_nodes and in_root(n)}
    added = {uid for uid, n in current_nodes.items() if uid not in base_nodes and in_root(n)}
    code_changed = {
        uid
        for uid, n in current_nodes.items()
        if uid in base_nodes and in_root(n) and n.get("raw_code") != base_nodes[uid].get("raw_code")
        and n["resource_type"] != "seed"
    }  # fmt: skip
    statuses = {uid: e["change_status"] for uid, e in result.diff.items()}
    assert {uid for uid, s in statuses.items() if s == "removed"} == removed
    assert {uid for uid, s in statuses.items() if s == "added"} == added
    assert code_changed <= {uid for uid, s in statuses.items() if s == "modified"}

    # Selectors run over the merged graph; ids come from one of the two manifests.
    everything = result.graph.select()
    known = base.all_nodes().keys() | current.all_nodes().keys()
    assert everything <= known
    downstream = result.graph.select(select="state:modified+")
    assert {uid for uid in result.diff} <= downstream | set(added)


def test_some_corpus_diff_is_not_empty() -> None:
    if not DBT_ARTIFACTS.is_dir():
        pytest.skip(f"corpus not found at {DBT_ARTIFACTS}")
    sizes = []
    for param in corpus_sets(with_base=True):
        folder = param.values[0]
        base = read_manifest(folder / "base/manifest.json")
        current = read_manifest(folder / "manifest.json")
        sizes.append(len(build_lineage_diff(base, None, current, None).diff))
    assert any(sizes)
