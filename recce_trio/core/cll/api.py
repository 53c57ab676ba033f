"""Recce's ``/api/cll`` answer (``CllData``) and the impact radius, as plain JSON-ready dicts.

``CllProject`` holds one artifact pair; ``cll_data`` answers one request. Both are synchronous
and may run in a worker thread; see ``CllProject`` for what may run concurrently.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from recce_trio.core.artifacts.records import LINEAGE_NODE_TYPES, Catalog, Manifest
from recce_trio.core.cll.breaking import change_result
from recce_trio.core.cll.cache import CllCache
from recce_trio.core.cll.change import BREAKING, PARTIAL, UNKNOWN, ChangeResult
from recce_trio.core.cll.project import NodeCll, Side, node_cll


class CllRequestError(ValueError):
    """The request names something the artifacts do not have (a client's mistake: HTTP 400)."""


class CllProject:
    """Column lineage and change analysis for one base/current artifact pair.

    Thread safety: every method may be called from any number of threads at once. Lazily built
    indexes are guarded by a lock; per-node results go through ``cache`` (a ``CllCache``,
    which may be shared with the next ``CllProject`` after a reload: its keys are content
    digests). ``changes`` maps each changed unique_id to ``added``/``removed``/``modified``
    (the lineage diff's change_status); when omitted it is computed with dbt's state rules.
    """

    def __init__(
        self,
        base_manifest: Manifest,
        base_catalog: Catalog | None,
        current_manifest: Manifest,
        current_catalog: Catalog | None,
        *,
        changes: Mapping[str, str] | None = None,
        cache: CllCache | None = None,
    ) -> None:
        self.cache = cache if cache is not None else CllCache()
        self.base = Side(base_manifest, base_catalog, self.cache)
        self.current = Side(current_manifest, current_catalog, self.cache)
        self._changes = dict(changes) if changes is not None else None
        self._graph: tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]] | None = None
        self._lock = threading.Lock()
        self._spelling: dict[str, dict[str, str]] = {}

    @property
    def changes(self) -> dict[str, str]:
        if self._changes is None:
            with self._lock:
                if self._changes is None:
                    from recce_trio.core.diff import build_lineage_diff

                    diff = build_lineage_diff(
                        self.base.manifest,
                        self.base.catalog,
                        self.current.manifest,
                        self.current.catalog,
                    ).diff
                    self._changes = {uid: entry["change_status"] for uid, entry in diff.items()}
        return self._changes

    def graph(self) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
        """The current lineage's (parents, children), node ids only."""
        if self._graph is None:
            with self._lock:
                if self._graph is None:
                    self._graph = _lineage_graph(self.current.manifest)
        return self._graph

    def node(self, uid: str) -> NodeCll | None:
        """The column lineage of a node of the current lineage; None if it has none."""
        parents = self.graph()[0].get(uid)
        if parents is None:
            return None
        return node_cll(self.current, uid, parents, self.cache)

    def change(self, uid: str) -> ChangeResult | None:
        """The change analysis of a modified node; None for any other node."""
        if self.changes.get(uid) != "modified":
            return None
        return change_result(self.base, self.current, uid, self.cache)

    def full_map(self) -> dict[str, NodeCll]:
        """Every lineage node's column lineage (what the server precomputes after startup)."""
        out: dict[str, NodeCll] = {}
        for uid, parents in self.graph()[0].items():
            out[uid] = node_cll(self.current, uid, parents, self.cache)
        return out

    def column_id(self, uid: str, column: str) -> str:
        """``<uid>_<column>`` with the column spelled as the node's catalog (or SQL) spells it."""
        spelling = self._spelling.get(uid)
        if spelling is None:
            names = list(self.current.columns(uid))
            if not names:
                entry = self.node(uid)
                names = list(entry.columns) if entry else []
            spelling = {name.casefold(): name for name in reversed(names)}
            spelling.update((name, name) for name in names)
            self._spelling[uid] = spelling
        found = spelling.get(column) or spelling.get(column.casefold())
        return f"{uid}_{found or column}"


def _lineage_graph(
    manifest: Manifest,
) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    members: dict[str, Any] = {
        uid: node
        for uid, node in manifest.nodes.items()
        if node.resource_type in LINEAGE_NODE_TYPES
    }
    for part in (manifest.sources, manifest.exposures, manifest.metrics, manifest.semantic_models):
        for uid, node in part.items():
            members.setdefault(uid, node)
    parents: dict[str, tuple[str, ...]] = {}
    children: dict[str, list[str]] = {uid: [] for uid in members}
    for uid, node in members.items():
        found = () if node.resource_type == "seed" else node.depends_on.nodes
        ps = tuple(sorted({p for p in found if p in members}))
        parents[uid] = ps
        for p in ps:
            children[p].append(uid)
    return parents, {uid: tuple(sorted(c)) for uid, c in children.items()}


def _walk(starts: Iterable[str], edges: Mapping[str, Iterable[str]]) -> set[str]:
    seen: set[str] = set()
    queue = deque(starts)
    while queue:
        for nxt in edges.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


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

    Raises ``CllRequestError`` for an unknown node or a column without a node.
    """
    parents, children = project.graph()
    changes = project.changes
    if column is not None and node_id is None:
        raise CllRequestError("'column' needs 'node_id'")
    if node_id is not None and node_id not in parents and node_id not in changes:
        raise CllRequestError(f"no node {node_id!r} in the lineage")
    start = {node_id} if node_id is not None else set(changes)
    pool = set(start)
    if not no_upstream:
        pool |= _walk(start, parents)
    if not no_downstream:
        pool |= _walk(start, children)

    nodes: dict[str, dict[str, Any]] = {}
    columns: dict[str, dict[str, Any]] = {}
    parent_map: dict[str, set[str]] = {}
    results: dict[str, ChangeResult] = {}
    for uid in sorted(pool):
        if uid not in parents:
            continue  # removed: not in the current lineage
        status = changes.get(uid) if change_analysis else None
        change = project.change(uid) if change_analysis else None
        if change is not None:
            results[uid] = change
        node_parents = set(parents[uid])
        own_cols: dict[str, dict[str, Any]] = {}
        items: list[tuple[str, str | None, str, tuple[tuple[str, str], ...]]]
        if no_cll:
            entry = None
            cat = project.current.columns(uid) if change is not None else {}
            items = [(name, ctype, UNKNOWN, ()) for name, ctype in cat.items()]
        else:
            entry = project.node(uid)
            assert entry is not None
            items = [(c.name, c.type, c.kind, c.parents) for c in entry.columns.values()]
            node_parents.update(project.column_id(p, c) for p, c in entry.row_parents)
        for name, ctype, kind, col_parents in items:
            cid = f"{uid}_{name}"
            col_status = None
            if status == "added":
                col_status = "added"
            elif change is not None and change.columns:
                col_status = change.columns.get(name)
            deps = [{"node": p, "column": c} for p, c in col_parents]
            col = {
                "id": cid,
                "table_id": uid,
                "name": name,
                "type": ctype,
                "transformation_type": kind,
                "change_status": col_status,
                "depends_on": deps,
            }
            own_cols[name] = col
            columns[cid] = col
            parent_map[cid] = {project.column_id(p, c) for p, c in col_parents}
        parent_map[uid] = node_parents
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
            "columns": own_cols,
            "impacted": None,
        }

    child_map: dict[str, set[str]] = {key: set() for key in parent_map}
    for key, ps in parent_map.items():
        for p in ps:
            child_map.setdefault(p, set()).add(key)

    anchors, extra = _anchors(
        project, nodes, node_id, column, change_analysis, no_cll, results, changes
    )
    result = set(anchors)
    if not no_upstream:
        result |= _walk(anchors, parent_map)
    if not no_downstream:
        result |= _walk(anchors, child_map)
    keep = result | extra
    if column is not None:  # Recce answers a column request with no nodes; we keep owners
        keep |= {columns[c]["table_id"] for c in result if c in columns}

    out_nodes: dict[str, Any] = {}
    for uid, node_entry in nodes.items():
        if uid not in keep:
            continue
        node_entry["columns"] = {n: c for n, c in node_entry["columns"].items() if c["id"] in keep}
        if change_analysis:
            node_entry["impacted"] = uid in result
        out_nodes[uid] = node_entry
    return {
        "nodes": out_nodes,
        "columns": {cid: c for cid, c in columns.items() if cid in keep},
        "parent_map": _restrict(parent_map, result),
        "child_map": _restrict(child_map, result),
    }


def _restrict(edges: Mapping[str, set[str]], ids: set[str]) -> dict[str, list[str]]:
    return {k: sorted(v & ids) for k, v in edges.items() if k in ids}


def _anchors(
    project: CllProject,
    nodes: Mapping[str, dict[str, Any]],
    node_id: str | None,
    column: str | None,
    change_analysis: bool,
    no_cll: bool,
    results: Mapping[str, ChangeResult],
    changes: Mapping[str, str],
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
        entry = nodes.get(uid)
        return {c["id"] for c in entry["columns"].values()} if entry else set()

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
    impacted_cols = (changed | _walk(changed, data["child_map"])) & cols.keys()
    by_node: dict[str, list[str]] = {}
    for cid in sorted(impacted_cols):
        by_node.setdefault(cols[cid]["table_id"], []).append(cols[cid]["name"])
    breaking = [u for u, n in data["nodes"].items() if n["change_category"] == BREAKING]
    whole = set(breaking) | _walk(breaking, project.graph()[1])
    impacted_nodes = {
        uid
        for uid, n in data["nodes"].items()
        if n["change_status"] or n["impacted"] or uid in by_node
    } | whole
    return {
        "nodes": sorted(impacted_nodes),
        "columns": sorted(impacted_cols),
        "whole_model": sorted(whole),
        "by_node": by_node,
    }
