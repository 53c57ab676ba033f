"""Recce's ``/api/cll`` answer (``CllData``) and the impact radius, as plain JSON-ready dicts.

``CllProject`` holds one artifact pair; ``cll_data`` answers one request. Both are synchronous
and may run in worker threads, any number at once (see ``CllProject``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from recce_trio.core.cll.change import BREAKING, PARTIAL, UNKNOWN, ChangeResult
from recce_trio.core.cll.graph import CllProject, CllRequestError, Edges, WireColumn, walk

__all__ = ["CllProject", "CllRequestError", "cll_data", "impact_radius", "unmapped"]


def cll_data(
    project: CllProject,
    *,
    node_id: str | None = None,
    column: str | None = None,
    change_analysis: bool = False,
    no_cll: bool = False,
    no_upstream: bool = False,
    no_downstream: bool = False,
    vocabulary: str = "v1",
) -> dict[str, Any]:
    """Recce's ``CllData``: ``{nodes, columns, parent_map, child_map}`` (the endpoint answers
    ``{"current": CllData}``). ``vocabulary="v2"`` names categories as Recce does for
    ``Accept-Vocabulary: v2``.

    Once ``project.full_map()`` has run, the answer walks the project-wide edge index and
    touches only what it returns; before, it analyses every node up- and downstream of the
    request (Recce's pool). Raises ``CllRequestError`` for an unknown node or a column
    without a node.
    """
    parents = project.graph()[0]
    changes = project.changes
    if column is not None and node_id is None:
        raise CllRequestError("'column' needs 'node_id'")
    if node_id is not None and node_id not in parents and node_id not in changes:
        raise CllRequestError(f"no node {node_id!r} in the lineage")
    pool = request_pool(project, node_id, no_upstream=no_upstream, no_downstream=no_downstream)

    results: dict[str, ChangeResult] = {}
    if change_analysis:
        for uid in pool:
            if changes.get(uid) == "modified":
                change = project.change(uid)
                if change is not None:
                    results[uid] = change

    if no_cll:
        pmap: Edges = {uid: parents[uid] for uid in pool}
        cmap: Edges = _invert(pmap)
    elif project.index is not None:
        pmap, cmap = project.index
    else:
        pmap, cmap = project.edge_index(sorted(pool))

    listed: dict[str, tuple[WireColumn, ...]] = {}

    def columns_of(uid: str) -> tuple[WireColumn, ...]:
        found = listed.get(uid)
        if found is None:
            if no_cll:
                cat = project.current.columns(uid) if uid in results else {}
                found = tuple(WireColumn(n, t, UNKNOWN, (), ()) for n, t in cat.items())
            else:
                node_edges = project.edges(uid)
                found = node_edges.columns if node_edges is not None else ()
            listed[uid] = found
        return found

    names: dict[str, set[str]] = {}

    def has_column(uid: str, name: str) -> bool:
        found = names.get(uid)
        if found is None:
            found = names[uid] = {c.name for c in columns_of(uid)}
        return name in found

    anchors, extra = _anchors(
        node_id, column, change_analysis, no_cll, results, changes, project, columns_of
    )
    result = set(anchors)
    # Whose every parent (child) is in the answer: the anchors and what is upstream
    # (downstream) of them, when the answer goes that way.
    all_parents: set[str] = set()
    all_children: set[str] = set()
    if not no_upstream:
        all_parents = walk(anchors, pmap)
        result |= all_parents
        all_parents |= anchors
    if not no_downstream:
        all_children = walk(anchors, cmap)
        result |= all_children
        all_children |= anchors
    keep = result | extra
    owned: dict[str, set[str]] = {}
    indexed = not no_cll and project.index is not None  # pmap, cmap are the index
    for key in keep:
        if key in parents:
            continue
        if indexed:
            # The longest owner in the project: if it is in the pool, it is the longest
            # there; if no node has the column, no pool node has it.
            owner = project.owner(key)
            if owner is not None and owner not in pool:
                owner = _owner(key, pool, has_column)
        else:
            owner = _owner(key, pool, has_column)
        if owner is not None:
            owned.setdefault(owner, set()).add(key)

    nodes: dict[str, Any] = {}
    out_columns: dict[str, Any] = {}
    for uid in sorted((keep & pool) | owned.keys()):
        status = changes.get(uid) if change_analysis else None
        change = results.get(uid)
        own: dict[str, Any] = {}
        kept = owned.get(uid) or set()
        if kept and not no_cll:
            changed = change.columns if change is not None else None
            for cid, shared in project.column_dicts(uid):
                if cid not in kept:
                    continue
                name = shared["name"]
                col_status = "added" if status == "added" else changed and changed.get(name)
                if col_status:  # a copy: the shared object keeps change_status None
                    own[name] = out_columns[cid] = {**shared, "change_status": col_status}
                else:
                    own[name] = out_columns[cid] = shared
        for col in columns_of(uid) if kept and no_cll else ():
            name = col.name
            cid = f"{uid}_{name}"
            if cid not in kept:
                continue
            col_status = None
            if status == "added":
                col_status = "added"
            elif change is not None and change.columns:
                col_status = change.columns.get(name)
            own[name] = out_columns[cid] = {
                "id": cid,
                "table_id": uid,
                "name": name,
                "type": col.type,
                "transformation_type": col.kind,
                "change_status": col_status,
                "depends_on": [],
            }
        # Recce leaves out the nodes of a column request; we keep the columns' owners.
        if uid not in keep and column is None:
            continue
        node = project.current.node(uid)
        assert node is not None
        nodes[uid] = {
            "id": uid,
            "name": node.name,
            "package_name": node.package_name,
            "resource_type": node.resource_type or "source",
            "source_name": node.source_name,
            "change_status": status,
            "change_category": change.to_wire(vocabulary)["category"] if change else None,
            "columns": own,
            "impacted": (uid in result) if change_analysis else None,
        }
    return {
        "nodes": nodes,
        "columns": out_columns,
        # The maps' entries are sorted tuples without repeats (CllProject.index, _invert).
        "parent_map": {
            k: list(pmap.get(k, ()))
            if k in all_parents
            else [p for p in pmap.get(k, ()) if p in result]
            for k in result
        },
        "child_map": {
            k: list(cmap.get(k, ()))
            if k in all_children
            else [c for c in cmap.get(k, ()) if c in result]
            for k in result
        },
    }


def request_pool(
    project: CllProject, node_id: str | None, *, no_upstream: bool, no_downstream: bool
) -> set[str]:
    """The nodes of the current lineage an answer may touch (Recce's pool): the node asked
    for (or every changed node) and what is up- and downstream of it."""
    parents, children = project.graph()
    start = {node_id} if node_id is not None else set(project.changes)
    pool = set(start)
    if not no_upstream:
        pool |= walk(start, parents)
    if not no_downstream:
        pool |= walk(start, children)
    return pool & parents.keys()  # removed nodes are not in the current lineage


def unmapped(
    project: CllProject, node_id: str | None, *, no_upstream: bool, no_downstream: bool
) -> list[str]:
    """The nodes a ``cll_data`` answer with these params would analyse itself (none once
    the whole map is built), nearest to the request first."""
    if project.index is not None or (node_id is not None and node_id not in project.graph()[0]):
        return []
    pool = request_pool(project, node_id, no_upstream=no_upstream, no_downstream=no_downstream)
    parents = project.graph()[0]
    # The request's node, then its parents and children: what a page shows first.
    near = [node_id] if node_id is not None else []
    near += [p for uid in near for p in parents.get(uid, ())]
    ordered = [*dict.fromkeys(near), *sorted(pool)]
    return [uid for uid in dict.fromkeys(ordered) if uid in pool and not project.has_edges(uid)]


def _invert(edges: Edges) -> Edges:
    out: dict[str, list[str]] = {}
    for key, targets in edges.items():
        for t in targets:
            out.setdefault(t, []).append(key)
    return {k: tuple(sorted(v)) for k, v in out.items()}


def _owner(column_id: str, pool: set[str], has_column: Any) -> str | None:
    """The node of ``<node_id>_<column>``: the longest pool id it starts with that has the
    column (ids are a plain join, so a shorter node id may also be a prefix)."""
    cut = column_id.rfind("_")
    while cut > 0:
        uid = column_id[:cut]
        if uid in pool and has_column(uid, column_id[cut + 1 :]):
            return uid
        cut = column_id.rfind("_", 0, cut)
    return None


def _anchors(
    node_id: str | None,
    column: str | None,
    change_analysis: bool,
    no_cll: bool,
    results: Mapping[str, ChangeResult],
    changes: Mapping[str, str],
    project: CllProject,
    columns_of: Any,
) -> tuple[set[str], set[str]]:
    """Recce's anchors (§5.4 of the spec note) and the extra ids kept without propagating."""
    anchors: set[str] = set()
    extra: set[str] = set()
    if node_id is not None and column is not None:
        return {project.column_id(node_id, column)}, extra

    def node_anchors(uid: str) -> set[str]:
        change = results.get(uid)
        out: set[str] = set()
        if change is None:
            return out
        node_level = (BREAKING, UNKNOWN, PARTIAL) if no_cll else (BREAKING, UNKNOWN)
        if change.category in node_level:
            out.add(uid)
        out.update(f"{uid}_{name}" for name in change.columns or {})
        return out

    def all_columns(uid: str) -> set[str]:
        return {f"{uid}_{c.name}" for c in columns_of(uid)}

    if node_id is None:
        for uid, status in changes.items():
            if not change_analysis:
                anchors.add(uid)
            elif status == "added":
                anchors.add(uid)
                anchors |= all_columns(uid)
            elif status == "removed":
                extra.add(uid)
            elif uid in results:
                anchors |= node_anchors(uid)
                extra.add(uid)
        return anchors, extra
    if change_analysis and node_id in results:
        return node_anchors(node_id), {node_id}
    anchors.add(node_id)
    if not change_analysis and not no_cll:
        anchors |= all_columns(node_id)
    return anchors, extra


def impact_radius(project: CllProject, node_id: str | None = None) -> dict[str, Any]:
    """What the UI's "Impact Radius" highlights, from ``{change_analysis, no_upstream}``:
    ``nodes`` (impacted unique_ids), ``columns`` (impacted column ids), ``whole_model`` (nodes
    reached from a breaking node, every column of which may change) and ``by_node``
    ({unique_id: [impacted column names]})."""
    data = cll_data(project, node_id=node_id, change_analysis=True, no_upstream=True)
    cols = data["columns"]
    changed = {cid for cid, c in cols.items() if c["change_status"]}
    # Impacted: changed, or downstream of a changed column (a parent of it is changed).
    impacted_cols = (changed | walk(changed, data["child_map"])) & cols.keys()
    by_node: dict[str, list[str]] = {}
    for cid in sorted(impacted_cols):
        by_node.setdefault(cols[cid]["table_id"], []).append(cols[cid]["name"])
    breaking = [u for u, n in data["nodes"].items() if n["change_category"] == BREAKING]
    whole = set(breaking) | walk(breaking, project.graph()[1])
    # A node reached only through its columns is not in the answer's nodes: by_node has it.
    impacted_nodes = (
        {uid for uid, n in data["nodes"].items() if n["change_status"] or n["impacted"]}
        | by_node.keys()
        | whole
    )
    return {
        "nodes": sorted(impacted_nodes),
        "columns": sorted(impacted_cols),
        "whole_model": sorted(whole),
        "by_node": by_node,
    }
