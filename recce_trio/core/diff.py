"""What changed between two manifests, in Recce's shape: the ``LineageDiff`` of ``/api/info``."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any

from recce_trio.core.artifacts.records import Catalog, CatalogTable, Manifest
from recce_trio.core.lineage import Lineage, LineageNodes, build_lineage
from recce_trio.core.samecheck import EXPOSURE, NODE
from recce_trio.core.selector import SelectionGraph
from recce_trio.core.selector.grammar import WILDCARD
from recce_trio.core.side import Side, side_of, state_comparison
from recce_trio.core.state_rules import StateComparison


class LineageDiff:
    """Recce's ``LineageDiff`` plus what ``/api/select`` needs, built once per artifact set.

    ``base``/``current`` are the two lineages, ``diff`` maps unique_id to
    ``{"change_status", "change"}``; ``graph.select(...)`` evaluates dbt selectors on the
    merged graph (``graph`` is built on first use: the diff itself does not need it).
    """

    def __init__(
        self,
        *,
        base: Lineage,
        current: Lineage,
        diff: dict[str, dict[str, Any]],
        state: StateComparison,
    ) -> None:
        self.base = base
        self.current = current
        self.diff = diff
        self.state = state
        self._graph: SelectionGraph | None = None
        self._graph_lock = threading.Lock()

    @property
    def graph(self) -> SelectionGraph:
        with self._graph_lock:
            if self._graph is None:
                self._graph = SelectionGraph(self.state.base, self.state.current, state=self.state)
            return self._graph

    def to_builtins(self) -> dict[str, Any]:
        """The JSON shape of ``/api/info``'s ``lineage``."""
        return {"base": self.base, "current": self.current, "diff": self.diff}


def build_lineage_diff(
    base_manifest: Manifest,
    base_catalog: Catalog | None,
    current_manifest: Manifest,
    current_catalog: Catalog | None,
    sides: tuple[Side, Side] | None = None,
) -> LineageDiff:
    """Both lineages and the change status of every changed node.

    Like Recce, the diff covers the root project's nodes (``package:<project_name>``) that
    ``state:modified`` selects on the merged manifest: ``modified`` if in both lineages,
    ``removed`` if only in base (any resource type, unlike Recce, which misses removed
    sources, exposures, metrics and seeds), ``added`` if only in current. Nodes that dbt
    does not call modified when new (sources, exposures, metrics, semantic models) are
    reported ``added`` too. ``change`` of a modified node is
    ``{"category": "unknown", "columns": {name: "added"|"removed"|"modified"} | None}``.

    ``sides``: base's and current's ``Side`` (made here if not given).
    """
    if sides is None:
        sides = make_sides(base_manifest, current_manifest)
    base_side, current_side = sides
    base = build_lineage(base_manifest, base_catalog, base_side)
    current = build_lineage(current_manifest, current_catalog, current_side)
    state = state_comparison(base_side, current_side)
    project = current_manifest.metadata.project_name or base_manifest.metadata.project_name

    base_nodes: LineageNodes = base["nodes"]
    current_nodes: LineageNodes = current["nodes"]
    candidates = modified_lineage_nodes(state, base_nodes.ids | current_nodes.ids, project)
    candidates.update(
        uid
        for uid in current_nodes.ids - base_nodes.ids
        if project is None or current_nodes.package_name(uid) == project
    )

    diff: dict[str, dict[str, Any]] = {}
    for uid in sorted(candidates):
        in_base, in_current = uid in base_nodes, uid in current_nodes
        if in_base and in_current:
            diff[uid] = {
                "change_status": "modified",
                "change": {
                    "category": "unknown",
                    "columns": column_changes(
                        _table(base_catalog, uid), _table(current_catalog, uid)
                    ),
                },
            }
        elif in_base:
            diff[uid] = {"change_status": "removed", "change": None}
        elif in_current:
            diff[uid] = {"change_status": "added", "change": None}
    return LineageDiff(base=base, current=current, diff=diff, state=state)


def make_sides(
    base_manifest: Manifest, current_manifest: Manifest, prepared: Iterable[Side] = ()
) -> tuple[Side, Side]:
    """Base's and current's ``Side``: among ``prepared`` (made for these very manifests) or
    made now; one for both if they are the same manifest (single-environment mode)."""
    current = side_of(current_manifest, prepared)
    base = current if base_manifest is current_manifest else side_of(base_manifest, prepared)
    return base, current


def modified_lineage_nodes(
    state: StateComparison, ids: Iterable[str], project: str | None
) -> set[str]:
    """Which of ``ids`` (lineage nodes, no tests) ``state:modified`` selects with Recce's
    default ``packages=[project]``: what ``SelectionGraph.select`` answers for them, worked
    out for these ids only instead of every test of the project. The same filters: the node
    is in the merged graph (current, else removed from base; enabled, or an exposure), is in
    the package, and is not an empty model (blank SQL)."""
    found: set[str] = set()
    current_index, removed_ids = state.current_index, state.removed
    wildcard = project is not None and WILDCARD.search(project) is not None
    for uid in ids:
        current = current_index.get(uid)
        removed = current is None
        if current is not None:
            kind, node = current
        elif uid in removed_ids:
            kind, node = state.base_index[uid]
        else:
            continue
        if kind != EXPOSURE and node.config.get("enabled", True) is False:
            continue
        if project is not None and not (
            fnmatchcase(node.package_name, project) if wildcard else node.package_name == project
        ):
            continue
        if (
            not removed
            and kind == NODE
            and node.resource_type != "seed"
            and node.raw_code is not None
            # blank: what strip() would leave empty, without copying the SQL to find out
            and (not node.raw_code or node.raw_code.isspace())
        ):
            continue
        if state.is_modified(uid):
            found.add(uid)
    return found


def column_changes(
    base: CatalogTable | None, current: CatalogTable | None
) -> dict[str, str] | None:
    """Columns added, removed or retyped between two catalog entries; None if one is missing."""
    if base is None or current is None:
        return None
    return compare_columns(
        {name: col.type for name, col in _by_index(base.columns.items())},
        {name: col.type for name, col in _by_index(current.columns.items())},
    )


def compare_columns(
    base: Mapping[str, str | None], current: Mapping[str, str | None]
) -> dict[str, str]:
    """The one schema comparison (the lineage diff, schema_diff runs and so the page use it):
    ``{name: "added"|"modified"}`` in current order, then ``"removed"`` in base order."""
    changes: dict[str, str] = {}
    for name, kind in current.items():
        if name not in base:
            changes[name] = "added"
        elif base[name] != kind:
            changes[name] = "modified"
    for name in base:
        if name not in current:
            changes[name] = "removed"
    return changes


def _by_index(items: Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return sorted(items, key=lambda item: item[1].index)


def _table(catalog: Catalog | None, uid: str) -> CatalogTable | None:
    if catalog is None:
        return None
    return catalog.nodes.get(uid) or catalog.sources.get(uid)
