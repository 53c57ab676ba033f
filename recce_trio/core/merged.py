"""The merged lineage that Recce's web UI reads from ``/api/info``, and the own page's lighter
form of it.

Recce's UI changed its ``/api/info`` contract in 2026: instead of two lineages and a diff
(``base``, ``current``, ``diff``) it reads one merged graph: ``nodes`` with the change baked
in, ``edges`` with their own change status, both sides' ``metadata``, and how complete the
catalogs are (``artifact_health``, ``schema_coverage``). Node details (columns, code) are
fetched per node (``GET /api/models/{id}``), so the graph stays small.

The own page draws less than that: no schemas or catalog statuses on the graph, and edges
as index pairs. ``page_lineage`` is that subset (a third of the bytes), made in the same pass.

Each node's own fields come from its manifest's ``Side`` (core/side.py), made as soon as that
manifest was loaded: a lineage node with its catalog columns is never built just to read a
handful of fields, and what is left here is what needs both sides.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, NamedTuple

import msgspec

from recce_trio.core.artifacts.records import Catalog, Manifest
from recce_trio.core.side import Side
from recce_trio.core.side_records import IN_NODES, IN_SOURCES, Entry

# How many ids the health and coverage summaries list (Recce's cap).
SAMPLE_LIMIT = 50

COVERED, UNCHECKED, NOT_APPLICABLE, COMPLETE = "covered", "unchecked", "not_applicable", "complete"


class Lineages(NamedTuple):
    """The two forms of the merged lineage ``merged_lineage`` makes."""

    recce: dict[str, Any]  # Recce's: /api/info by default
    page: dict[str, Any]  # the own page's: /api/info?lineage=page


def merged_lineage(
    *,
    base: Side,
    current: Side,
    base_catalog: Catalog | None,
    current_catalog: Catalog | None,
    diff: Mapping[str, Any],
) -> Lineages:
    """Recce's merged lineage, ``{"nodes", "edges", "metadata", "artifact_health",
    "schema_coverage"}``, and the own page's, ``{"nodes", "edges", "metadata", "folders",
    "folder_runs"}``.

    The page's nodes are Recce's without ``schema``, ``base_schema``, ``source_name`` and the
    catalog statuses; its ``edges`` are ``[source, target, source, target, ...]`` as indexes
    into the nodes sorted by id (the order both forms send them in); ``folders`` lists each
    node file's folder once, and ``folder_runs`` gives each node's index into it (-1: no
    file), run-length encoded (``runs``).

    ``base``/``current`` are each side's ``Side`` (its lineage's ids, parents and each
    node's own fields); ``diff`` maps unique_id to ``{change_status, change}``. Where a node
    is in both sides, the current one describes it.
    """
    base_ids, current_ids = base.id_set, current.id_set
    base_entries, current_entries = base.entries, current.entries
    base_tables, current_tables = _tables(base_catalog), _tables(current_catalog)
    nodes: dict[str, msgspec.Raw] = {}
    page_nodes: dict[str, msgspec.Raw] = {}
    folder_index: dict[str, int] = {}  # each folder once
    folder_of: list[int] = []  # each node's index into it (-1: no file), in the nodes' order
    one_sided: list[str] = []
    checked: list[str] = []
    unchecked: list[str] = []
    encode = _encoder.encode
    for uid in sorted(base_ids | current_ids):
        base_entry = base_entries.get(uid) if uid in base_ids else None
        current_entry = current_entries.get(uid) if uid in current_ids else None
        entry = current_entry if current_entry is not None else base_entry
        if entry is None:  # pragma: no cover - the ids come from these manifests
            continue
        # The node's JSON object, member by member in Recce's order: its own fields from
        # its side (current where it has one), with base_schema among them where the two
        # sides' schemas differ, then the change and the catalog statuses.
        head, materialized, source_name, schema, folder, _ = entry
        parts = [head]
        if schema is not None:
            parts.append(b',"schema":' + encode(schema))
            if base_entry is not None and current_entry is not None:
                base_schema = base_entry[3]
                if base_schema is not None and base_schema != schema:
                    parts.append(b',"base_schema":' + encode(base_schema))
        parts += (materialized, source_name)
        folder_of.append(  # the own page groups nodes by folder
            -1 if folder is None else folder_index.setdefault(folder, len(folder_index))
        )
        change = diff.get(uid)
        change_part = b""
        if change:
            change_part = b',"change_status":' + encode(change["change_status"])
            if change.get("change") is not None:
                change_part += b',"change":' + encode(change["change"])
            parts.append(change_part)
        page_nodes[uid] = msgspec.Raw(b"".join((head, materialized, change_part, b"}")))
        # Whether each side's catalog describes the node's relation: covered, unchecked (it
        # could, but has no entry) or not_applicable (no relation: exposures, metrics,
        # semantic models, ephemeral models); None where the side does not have the node.
        base_status = _catalog_status(uid, base_entry, base_tables)
        current_status = _catalog_status(uid, current_entry, current_tables)
        if base_status is not None:
            parts.append(_BASE_STATUS[base_status])
        if current_status is not None:
            parts.append(_CURRENT_STATUS[current_status])
        comparison = schema_comparison(base_status, current_status)
        parts.append(_COMPARISON[comparison])
        if comparison == COMPLETE:
            checked.append(uid)
        elif comparison == UNCHECKED:
            unchecked.append(uid)
        elif base_status is None or current_status is None:
            one_sided.append(uid)
        nodes[uid] = msgspec.Raw(b"".join(parts))

    edges = merged_edges(base.children, current.children)
    metadata = {
        "base": _metadata(base.manifest, base_catalog),
        "current": _metadata(current.manifest, current_catalog),
    }
    recce = {
        "nodes": nodes,
        "edges": edges,
        "metadata": metadata,
        "artifact_health": {
            "base": artifact_health(base.relations, base_catalog),
            "current": artifact_health(current.relations, current_catalog),
        },
        "schema_coverage": schema_coverage(checked, unchecked, one_sided),
    }
    page = {
        "nodes": page_nodes,
        "edges": index_pairs(edges, nodes),
        "metadata": metadata,
        "folders": list(folder_index),
        "folder_runs": runs(folder_of),
    }
    return Lineages(recce, page)


def index_pairs(edges: list[dict[str, Any]], nodes: Collection[str]) -> list[int]:
    """``edges`` as ``[source, target, source, target, ...]``, each an index into ``nodes``
    (in their order), without self-loops or edges to ids the nodes lack."""
    index = {uid: i for i, uid in enumerate(nodes)}
    pairs: list[int] = []
    for edge in edges:
        source, target = index.get(edge["source"]), index.get(edge["target"])
        if source is not None and target is not None and source != target:
            pairs += (source, target)
    return pairs


_encoder = msgspec.json.Encoder()
_STATUSES = (COVERED, UNCHECKED, NOT_APPLICABLE)
_BASE_STATUS = {s: b',"base_catalog_status":"%s"' % s.encode() for s in _STATUSES}
_CURRENT_STATUS = {s: b',"current_catalog_status":"%s"' % s.encode() for s in _STATUSES}
_COMPARISON = {
    s: b',"schema_comparison_status":"%s"}' % s.encode()
    for s in (COMPLETE, UNCHECKED, NOT_APPLICABLE)
}


def _catalog_status(
    uid: str, entry: Entry | None, tables: Mapping[str, Mapping[str, Any]]
) -> str | None:
    """A node's catalog status on one side (None: the side does not have the node)."""
    if entry is None:
        return None
    place = entry[5]
    if place is None:
        return NOT_APPLICABLE
    return COVERED if uid in tables[place] else UNCHECKED


def _tables(catalog: Catalog | None) -> dict[str, Mapping[str, Any]]:
    """A catalog's tables by where a ``side.Entry`` says a node's would be."""
    if catalog is None:
        return {IN_NODES: {}, IN_SOURCES: {}}
    return {IN_NODES: catalog.nodes, IN_SOURCES: catalog.sources}


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


def artifact_health(expected: Collection[str], catalog: Catalog | None) -> dict[str, Any]:
    """How much of a manifest's relations (``expected``: ``Side.relations``) its catalog
    covers (Recce's ``artifact_health``).

    ``status``: ``complete``, ``partial``, ``empty`` (no relation covered), ``absent`` (no
    catalog) or ``not_applicable`` (nothing to cover); counts, and up to 50 ids of relations
    the catalog misses and of catalog entries the manifest does not know (orphans).
    """
    expected = frozenset(expected)
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
    base: Mapping[str, list[str]], current: Mapping[str, list[str]]
) -> list[dict[str, Any]]:
    """Every parent -> child edge of either side (``Side.children``), ``change_status``
    ``added`` or ``removed`` where only one side has it; sorted by parent, then child."""
    edges: list[dict[str, Any]] = []
    for source in sorted(base.keys() | current.keys()):
        now, before = current.get(source), base.get(source)
        if now is not None and now == before:  # the same children on both sides
            edges += [{"source": source, "target": target} for target in now]
            continue
        now_set = set(now) if now is not None else set()
        before_set = set(before) if before is not None else set()
        for target in sorted(now_set | before_set):
            edge: dict[str, Any] = {"source": source, "target": target}
            if target not in before_set:
                edge["change_status"] = "added"
            elif target not in now_set:
                edge["change_status"] = "removed"
            edges.append(edge)
    return edges


def _metadata(manifest: Manifest, catalog: Catalog | None) -> dict[str, Any]:
    return {
        "manifest_metadata": msgspec.to_builtins(manifest.metadata),
        "catalog_metadata": msgspec.to_builtins(catalog.metadata) if catalog is not None else {},
    }
