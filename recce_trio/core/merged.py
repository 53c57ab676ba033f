"""The merged lineage that newer Recce web UIs read from ``/api/info``.

Recce's UI changed its ``/api/info`` contract in 2026: instead of two lineages and a diff
(``base``, ``current``, ``diff``) it reads one merged graph (``nodes`` with the change baked
in, ``edges`` with their own change status, and both sides' ``metadata``). recce-trio serves
both forms in the one ``lineage`` object, so older and newer Recce UIs work unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from recce_trio.core.artifacts.records import Manifest

MERGED_KEYS = ("nodes", "edges", "metadata")


def merged_lineage(
    base: Mapping[str, Any],
    current: Mapping[str, Any],
    diff: Mapping[str, Any],
    *,
    base_manifest: Manifest,
    current_manifest: Manifest,
) -> dict[str, Any]:
    """``{"nodes": {id: node}, "edges": [...], "metadata": {...}}`` from the two lineages
    (``core.lineage.build_lineage``) and the diff; current wins where a node is in both."""
    base_nodes: Mapping[str, Any] = base["nodes"]
    current_nodes: Mapping[str, Any] = current["nodes"]
    records = {"base": base_manifest.all_nodes(), "current": current_manifest.all_nodes()}
    nodes: dict[str, dict[str, Any]] = {}
    for uid in sorted(set(base_nodes) | set(current_nodes)):
        in_current = uid in current_nodes
        entry = current_nodes[uid] if in_current else base_nodes[uid]
        record = records["current" if in_current else "base"].get(uid)
        node: dict[str, Any] = {
            "name": entry["name"],
            "resource_type": entry["resource_type"],
            "package_name": entry.get("package_name") or "",
        }
        if entry.get("schema") is not None:
            node["schema"] = entry["schema"]
        if in_current and uid in base_nodes:
            base_schema = base_nodes[uid].get("schema")
            if base_schema is not None and base_schema != entry.get("schema"):
                node["base_schema"] = base_schema
        materialized = (entry.get("config") or {}).get("materialized")
        if isinstance(materialized, str):
            node["materialized"] = materialized
        if record is not None and record.tags:
            node["tags"] = list(record.tags)
        if entry.get("source_name") is not None:
            node["source_name"] = entry["source_name"]
        change = diff.get(uid)
        if change:
            node["change_status"] = change["change_status"]
            if change.get("change") is not None:
                node["change"] = change["change"]
        nodes[uid] = node

    base_edges = _edges(base["parent_map"], nodes)
    current_edges = _edges(current["parent_map"], nodes)
    edges = []
    for source, target in sorted(base_edges | current_edges):
        edge: dict[str, Any] = {"source": source, "target": target}
        if (source, target) not in base_edges:
            edge["change_status"] = "added"
        elif (source, target) not in current_edges:
            edge["change_status"] = "removed"
        edges.append(edge)

    metadata = {
        side: {
            "manifest_metadata": lineage.get("manifest_metadata") or {},
            "catalog_metadata": lineage.get("catalog_metadata") or {},
        }
        for side, lineage in (("base", base), ("current", current))
    }
    return {"nodes": nodes, "edges": edges, "metadata": metadata}


def _edges(parent_map: Mapping[str, list[str]], nodes: Mapping[str, Any]) -> set[tuple[str, str]]:
    return {
        (parent, child)
        for child, parents in parent_map.items()
        if child in nodes
        for parent in parents
        if parent in nodes
    }
