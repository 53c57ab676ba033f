"""The merged lineage that Recce's web UI reads from ``/api/info``.

Recce's UI changed its ``/api/info`` contract in 2026: instead of two lineages and a diff
(``base``, ``current``, ``diff``) it reads one merged graph: ``nodes`` with the change baked
in, ``edges`` with their own change status, both sides' ``metadata``, and how complete the
catalogs are (``artifact_health``, ``schema_coverage``). Node details (columns, code) are
fetched per node (``GET /api/models/{id}``), so the graph stays small.

The nodes are read straight from the manifest and catalog records: a lineage node with its
catalog columns is never built just to read a handful of fields.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import msgspec

from recce_trio.core.artifacts.records import Catalog, Manifest, Node

# Resource types whose relation a catalog can describe (besides sources).
_CATALOGUED_TYPES = frozenset({"model", "seed", "snapshot"})
# Materializations that leave no relation in the warehouse, so no catalog entry.
_NO_RELATION = frozenset({"ephemeral", "semantic_view"})
# Graph members that are not relations at all.
_NOT_RELATIONS = frozenset({"exposure", "metric", "semantic_model", "saved_query"})
# How many ids the health and coverage summaries list (Recce's cap).
SAMPLE_LIMIT = 50

COVERED, UNCHECKED, NOT_APPLICABLE, COMPLETE = "covered", "unchecked", "not_applicable", "complete"


def merged_lineage(
    *,
    base_manifest: Manifest,
    base_catalog: Catalog | None,
    current_manifest: Manifest,
    current_catalog: Catalog | None,
    base_ids: Collection[str],
    current_ids: Collection[str],
    base_parents: Mapping[str, list[str]],
    current_parents: Mapping[str, list[str]],
    diff: Mapping[str, Any],
) -> dict[str, Any]:
    """``{"nodes", "edges", "metadata", "artifact_health", "schema_coverage", "folders",
    "folder_runs"}``: ``folders`` lists each node file's folder once, and ``folder_runs`` gives
    each node's index into it (-1: no file), in the order of ``nodes`` (sorted by id),
    run-length encoded (``runs``).

    ``base_ids``/``current_ids`` are each side's lineage node ids and ``*_parents`` its
    parent map (``core.lineage``); ``diff`` maps unique_id to ``{change_status, change}``.
    Where a node is in both sides, the current one describes it.
    """
    base_ids, current_ids = _id_set(base_ids), _id_set(current_ids)
    nodes: dict[str, dict[str, Any]] = {}
    folder_index: dict[str, int] = {}  # each folder once
    folder_of: list[int] = []  # each node's index into it (-1: no file), in the nodes' order
    one_sided: list[str] = []
    checked: list[str] = []
    unchecked: list[str] = []
    for uid in sorted(base_ids | current_ids):
        base = base_manifest.lineage_record(uid) if uid in base_ids else None
        current = current_manifest.lineage_record(uid) if uid in current_ids else None
        record = current if current is not None else base
        if record is None:  # pragma: no cover - the ids come from these manifests
            continue
        node: dict[str, Any] = {
            "name": record.name,
            "resource_type": record.resource_type or _default_type(uid),
            "package_name": record.package_name or "",
        }
        if record.schema is not None and node["resource_type"] in _CATALOGUED_TYPES:
            node["schema"] = record.schema
        if (
            base is not None
            and current is not None
            and base.schema is not None
            and base.schema != node.get("schema", base.schema)
        ):
            node["base_schema"] = base.schema
        materialized = record.config.get("materialized")
        if isinstance(materialized, str):
            node["materialized"] = materialized
        if record.tags:
            node["tags"] = list(record.tags)
        if record.source_name is not None:
            node["source_name"] = record.source_name
        folder_of.append(  # recce-trio's: the own page groups nodes by folder
            folder_index.setdefault(_folder(record.original_file_path), len(folder_index))
            if record.original_file_path
            else -1
        )
        change = diff.get(uid)
        if change:
            node["change_status"] = change["change_status"]
            if change.get("change") is not None:
                node["change"] = change["change"]
        base_status = None if base is None else catalog_status(uid, base, base_catalog)
        current_status = None if current is None else catalog_status(uid, current, current_catalog)
        if base_status is not None:
            node["base_catalog_status"] = base_status
        if current_status is not None:
            node["current_catalog_status"] = current_status
        comparison = schema_comparison(base_status, current_status)
        node["schema_comparison_status"] = comparison
        if comparison == COMPLETE:
            checked.append(uid)
        elif comparison == UNCHECKED:
            unchecked.append(uid)
        elif base_status is None or current_status is None:
            one_sided.append(uid)
        nodes[uid] = node

    return {
        "nodes": nodes,
        "edges": merged_edges(base_parents, current_parents, nodes),
        "metadata": {
            "base": _metadata(base_manifest, base_catalog),
            "current": _metadata(current_manifest, current_catalog),
        },
        "artifact_health": {
            "base": artifact_health(base_manifest, base_catalog, base_ids),
            "current": artifact_health(current_manifest, current_catalog, current_ids),
        },
        "schema_coverage": schema_coverage(checked, unchecked, one_sided),
        "folders": list(folder_index),
        "folder_runs": runs(folder_of),
    }


def runs(values: list[int]) -> list[int]:
    """``values`` run-length encoded: ``[value, count, value, count, ...]``. Nodes sorted by
    id mostly come in long runs of one folder (a few hundred runs for 6,000 nodes), so this
    is a few hundred bytes where an index per node would be ~75 KB."""
    encoded: list[int] = []
    for value in values:
        if encoded and encoded[-2] == value:
            encoded[-1] += 1
        else:
            encoded += (value, 1)
    return encoded


def _id_set(ids: Collection[str]) -> frozenset[str] | set[str]:
    """``ids`` as a set: a lineage's ``LineageNodes`` has one already."""
    found = getattr(ids, "ids", None)
    if isinstance(found, frozenset):
        return found
    return ids if isinstance(ids, (set, frozenset)) else set(ids)


def _folder(path: str) -> str:
    """The folder of a node's file, relative to its package ("" for a file at the top)."""
    cut = path.rfind("/")
    return path[:cut] if cut > 0 else ""


def _default_type(uid: str) -> str:
    return uid.split(".", 1)[0]


def catalog_status(uid: str, record: Node, catalog: Catalog | None) -> str:
    """Whether one side's catalog describes the node's relation: ``covered``, ``unchecked``
    (it could, but has no entry) or ``not_applicable`` (no relation: exposures, metrics,
    semantic models, ephemeral models)."""
    kind = record.resource_type or _default_type(uid)
    if kind in _NOT_RELATIONS:
        return NOT_APPLICABLE
    if kind == "source":
        return COVERED if catalog is not None and uid in catalog.sources else UNCHECKED
    if record.config.get("materialized") in _NO_RELATION:
        return NOT_APPLICABLE
    return COVERED if catalog is not None and uid in catalog.nodes else UNCHECKED


def schema_comparison(base: str | None, current: str | None) -> str:
    """``complete`` when both catalogs describe the node, ``not_applicable`` when it is on one
    side only or has no relation, else ``unchecked`` (a schema view would be incomplete)."""
    if base is None or current is None:
        return NOT_APPLICABLE
    if NOT_APPLICABLE in (base, current):
        return NOT_APPLICABLE
    if base == current == COVERED:
        return COMPLETE
    return UNCHECKED


def artifact_health(
    manifest: Manifest, catalog: Catalog | None, candidates: Collection[str] | None = None
) -> dict[str, Any]:
    """How much of a manifest's relations its catalog covers (Recce's ``artifact_health``).

    ``status``: ``complete``, ``partial``, ``empty`` (no relation covered), ``absent`` (no
    catalog) or ``not_applicable`` (nothing to cover); counts, and up to 50 ids of relations
    the catalog misses and of catalog entries the manifest does not know (orphans).
    """
    nodes = manifest.nodes
    # ``candidates`` (the lineage's ids) spares a walk over every test of the manifest.
    expected = {
        uid
        for uid in (nodes if candidates is None else candidates)
        if (node := nodes.get(uid)) is not None
        and node.resource_type in _CATALOGUED_TYPES
        and node.config.get("materialized") not in _NO_RELATION
    }
    in_catalog = set(catalog.nodes) if catalog is not None else set()
    covered = expected & in_catalog
    missing = expected - covered
    orphans = in_catalog - expected
    if not expected:
        status = NOT_APPLICABLE
    elif catalog is None:
        status = "absent"
    elif not covered:
        status = "empty"
    elif not missing:
        status = COMPLETE
    else:
        status = "partial"
    return {
        "status": status,
        "expected_count": len(expected),
        "covered_count": len(covered),
        "catalog_entry_count": len(in_catalog),
        "missing_node_count": len(missing),
        "missing_nodes": sorted(missing)[:SAMPLE_LIMIT],
        "missing_more": len(missing) > SAMPLE_LIMIT,
        "orphan_node_count": len(orphans),
        "orphan_nodes": sorted(orphans)[:SAMPLE_LIMIT],
        "orphan_more": len(orphans) > SAMPLE_LIMIT,
    }


def schema_coverage(
    checked: list[str], unchecked: list[str], one_sided: list[str]
) -> dict[str, Any]:
    """Whether every node's schema could be compared (Recce's ``schema_coverage``):
    ``complete``, ``partial`` (some nodes unchecked, listed), or ``unknown`` (nothing
    comparable at all)."""
    if not (checked or unchecked or one_sided):
        status = "unknown"
    else:
        status = "partial" if unchecked else COMPLETE
    return {
        "status": status,
        "unchecked_nodes": sorted(unchecked)[:SAMPLE_LIMIT],
        "unchecked_node_count": len(unchecked),
        "more": len(unchecked) > SAMPLE_LIMIT,
    }


def merged_edges(
    base_parents: Mapping[str, list[str]],
    current_parents: Mapping[str, list[str]],
    nodes: Collection[str],
) -> list[dict[str, Any]]:
    """Every parent -> child edge of either side, ``change_status`` ``added`` or ``removed``
    where only one side has it; sorted."""
    base_edges = _edges(base_parents, nodes)
    current_edges = _edges(current_parents, nodes)
    edges = []
    for source, target in sorted(base_edges | current_edges):
        edge: dict[str, Any] = {"source": source, "target": target}
        if (source, target) not in base_edges:
            edge["change_status"] = "added"
        elif (source, target) not in current_edges:
            edge["change_status"] = "removed"
        edges.append(edge)
    return edges


def _edges(parent_map: Mapping[str, list[str]], nodes: Collection[str]) -> set[tuple[str, str]]:
    return {
        (parent, child)
        for child, parents in parent_map.items()
        if child in nodes
        for parent in parents
        if parent in nodes
    }


def _metadata(manifest: Manifest, catalog: Catalog | None) -> dict[str, Any]:
    return {
        "manifest_metadata": msgspec.to_builtins(manifest.metadata),
        "catalog_metadata": msgspec.to_builtins(catalog.metadata) if catalog is not None else {},
    }
