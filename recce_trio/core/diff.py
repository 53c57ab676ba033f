"""What changed between two manifests, in Recce's shape: the ``LineageDiff`` of ``/api/info``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from recce_trio.core.artifacts.records import Catalog, CatalogTable, Manifest
from recce_trio.core.lineage import Lineage, LineageNodes, build_lineage
from recce_trio.core.selector import SelectionGraph


class LineageDiff:
    """Recce's ``LineageDiff`` plus what ``/api/select`` needs, built once per artifact set.

    ``base``/``current`` are the two lineages, ``diff`` maps unique_id to
    ``{"change_status", "change"}``; ``select(...)`` evaluates dbt selectors on the merged graph.
    """

    def __init__(
        self,
        *,
        base: Lineage,
        current: Lineage,
        diff: dict[str, dict[str, Any]],
        graph: SelectionGraph,
    ) -> None:
        self.base = base
        self.current = current
        self.diff = diff
        self.graph = graph

    def select(
        self,
        *,
        select: str | None = None,
        exclude: str | None = None,
        packages: list[str] | None = None,
        view_mode: str | None = None,
    ) -> set[str]:
        """Same as ``recce_trio.core.selector.select_nodes`` on these manifests, but warm."""
        return self.graph.select(
            select=select, exclude=exclude, packages=packages, view_mode=view_mode
        )

    def to_builtins(self) -> dict[str, Any]:
        """The JSON shape of ``/api/info``'s ``lineage``."""
        return {"base": self.base, "current": self.current, "diff": self.diff}


def build_lineage_diff(
    base_manifest: Manifest,
    base_catalog: Catalog | None,
    current_manifest: Manifest,
    current_catalog: Catalog | None,
) -> LineageDiff:
    """Both lineages, the change status of every changed node, and the selector graph.

    Like Recce, the diff covers the root project's nodes (``package:<project_name>``) that
    ``state:modified`` selects on the merged manifest: ``modified`` if in both lineages,
    ``removed`` if only in base (any resource type, unlike Recce, which misses removed
    sources, exposures, metrics and seeds), ``added`` if only in current. Nodes that dbt
    does not call modified when new (sources, exposures, metrics, semantic models) are
    reported ``added`` too. ``change`` of a modified node is
    ``{"category": "unknown", "columns": {name: "added"|"removed"|"modified"} | None}``.
    """
    base = build_lineage(base_manifest, base_catalog)
    current = build_lineage(current_manifest, current_catalog)
    # Only what state:modified needs; the page-load selections are warmed after readiness
    # (``SelectionGraph.prepare``, run by the server once the API is open).
    graph = SelectionGraph(base_manifest, current_manifest)
    project = graph.project_name
    packages = [project] if project is not None else None

    base_nodes: LineageNodes = base["nodes"]
    current_nodes: LineageNodes = current["nodes"]
    candidates = graph.select(select="state:modified", packages=packages)
    candidates.update(
        uid
        for uid in current_nodes.keys() - base_nodes.keys()
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
    return LineageDiff(base=base, current=current, diff=diff, graph=graph)


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
