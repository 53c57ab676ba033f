"""``CllProject``: column lineage and change analysis over one base/current artifact pair, with
the per-node edges and the project-wide edge index that ``/api/cll`` answers walk."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from recce_trio.core.artifacts.records import LINEAGE_NODE_TYPES, Catalog, Manifest
from recce_trio.core.cll.breaking import change_result
from recce_trio.core.cll.cache import CllCache
from recce_trio.core.cll.change import ChangeResult
from recce_trio.core.cll.model import ColumnRef
from recce_trio.core.cll.project import NodeCll, Side, node_cll

Edges = dict[str, tuple[str, ...]]


# Structs (array-like, out of the garbage collector: they hold only strings and tuples of
# strings) rather than dataclasses: the whole-project map's child process sends every node's
# edges to the server as msgpack, which decodes into them in C (``cll_child``).
class WireColumn(msgspec.Struct, frozen=True, array_like=True, gc=False):
    name: str
    type: str | None
    kind: str
    parent_ids: tuple[str, ...]
    parents: tuple[ColumnRef, ...]


class NodeEdges(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """One node as ``/api/cll`` uses it: its parent ids (parent nodes and the parent columns
    its rows depend on) and its columns with their parent column ids."""

    parents: tuple[str, ...]
    columns: tuple[WireColumn, ...]


class CllRequestError(ValueError):
    """The request names something the artifacts do not have (a client's mistake: HTTP 400)."""


def column_object(uid: str, cid: str, col: WireColumn) -> dict[str, Any]:
    """Recce's column object for ``col`` of node ``uid``, with ``change_status`` None."""
    return {
        "id": cid,
        "table_id": uid,
        "name": col.name,
        "type": col.type,
        "transformation_type": col.kind,
        "change_status": None,
        "depends_on": [{"node": p, "column": c} for p, c in col.parents],
    }


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
        self._edges: dict[str, NodeEdges] = {}
        self._index: tuple[Edges, Edges] | None = None
        self._owners: dict[str, str] = {}
        self._column_dicts: dict[str, tuple[tuple[str, dict[str, Any]], ...]] = {}

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
        """Every lineage node's column lineage (what the server precomputes after startup).
        Also builds the project-wide edge index, after which ``/api/cll`` answers walk only
        what they return."""
        out: dict[str, NodeCll] = {}
        for uid, parents in self.graph()[0].items():
            out[uid] = node_cll(self.current, uid, parents, self.cache)
        if self._index is None:
            self.build_index()
        return out

    def install(
        self,
        entries: Iterable[tuple[tuple[str, ...], Any]],
        edges: Iterable[tuple[str, NodeEdges]] = (),
    ) -> None:
        """Store what was computed elsewhere over the same artifacts (the whole-project map's
        child process): cache entries (keyed by content digests, so an entry for other
        content is never hit) and nodes' edges."""
        for key, value in entries:
            self.cache.put(key, value)
        for uid, found in edges:
            self._edges.setdefault(uid, found)

    def build_index(self) -> None:
        """Build the project-wide edge index (what ``full_map`` ends with), after which
        ``/api/cll`` answers walk only what they return."""
        ids = self.graph()[0]
        index = self.edge_index(ids)
        owners: dict[str, str] = {}
        # Longest node id last, so that it wins: a column id is a plain join of node id and
        # column name, and a shorter node id may be a prefix of a longer one.
        for uid in sorted(ids, key=len):
            edges = self._edges.get(uid)
            for col in edges.columns if edges is not None else ():
                owners[f"{uid}_{col.name}"] = uid
        with self._lock:
            self._owners = owners
            self._index = index

    def has_edges(self, uid: str) -> bool:
        """Whether ``uid``'s edges are known already (computed or installed)."""
        return uid in self._edges

    def edges(self, uid: str) -> NodeEdges | None:
        """``uid``'s edges (memoised); None outside the current lineage."""
        found = self._edges.get(uid)
        if found is None:
            entry = self.node(uid)
            if entry is None:
                return None
            parents = list(entry.parents)
            parents.extend(self.column_id(p, c) for p, c in entry.row_parents)
            columns = tuple(
                WireColumn(
                    c.name,
                    c.type,
                    c.kind,
                    tuple(sorted({self.column_id(p, pc) for p, pc in c.parents})),
                    c.parents,
                )
                for c in entry.columns.values()
            )
            found = self._edges[uid] = NodeEdges(tuple(sorted(set(parents))), columns)
        return found

    def edge_index(self, ids: Iterable[str]) -> tuple[Edges, Edges]:
        """(parent_map, child_map) over node and column ids of ``ids``."""
        parent_map: dict[str, tuple[str, ...]] = {}
        child_map: dict[str, list[str]] = {}
        for uid in ids:
            edges = self.edges(uid)
            if edges is None:
                continue
            parent_map[uid] = edges.parents
            for col in edges.columns:
                parent_map[f"{uid}_{col.name}"] = col.parent_ids
        for key, parents in parent_map.items():
            for p in parents:
                child_map.setdefault(p, []).append(key)
        # Sorted, as each parent_map entry is: answers filter them and keep their order.
        return parent_map, {k: tuple(sorted(v)) for k, v in child_map.items()}

    @property
    def index(self) -> tuple[Edges, Edges] | None:
        """The project-wide (parent_map, child_map) once ``full_map`` has run, else None.
        Every entry is a sorted tuple without repeats."""
        return self._index

    def column_dicts(self, uid: str) -> tuple[tuple[str, dict[str, Any]], ...]:
        """``uid``'s columns as ``(column id, Recce's column object)`` with ``change_status``
        None (memoised: answers share these objects and must not change them)."""
        found = self._column_dicts.get(uid)
        if found is None:
            edges = self.edges(uid)
            found = tuple(
                (cid, column_object(uid, cid, col))
                for col in (edges.columns if edges is not None else ())
                for cid in (f"{uid}_{col.name}",)
            )
            self._column_dicts[uid] = found
        return found

    def owner(self, column_id: str) -> str | None:
        """Once the index is built: the longest node id that has the column ``column_id``
        names (``<node id>_<column>``), or None if no node has it."""
        return self._owners.get(column_id)

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


def walk(starts: Iterable[str], edges: Mapping[str, Iterable[str]]) -> set[str]:
    """Every id reached from ``starts`` over ``edges`` (a start only if it is reached)."""
    seen: set[str] = set()
    get = edges.get
    frontier: Iterable[str] = starts
    while True:
        found: set[str] = set()
        for key in frontier:
            found.update(get(key, ()))
        found -= seen
        if not found:
            return seen
        seen |= found
        frontier = found
