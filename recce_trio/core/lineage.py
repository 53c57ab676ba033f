"""One environment's lineage in Recce's shape: nodes, their catalog columns, and parent_map."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import msgspec

from recce_trio.core.artifacts.records import Catalog, CatalogTable, Manifest, Node
from recce_trio.core.side import Side, lineage_ids, parent_map

Lineage = dict[str, Any]

# Generic tests that mark a column; only dbt's built-in ones, as Recce's test-name prefixes do.
_FLAG_TESTS = {"not_null": "not_null", "unique": "unique"}
_BUILTIN_NAMESPACES = (None, "dbt")


class LineageNodes(Mapping[str, dict[str, Any]]):
    """The lineage's nodes, each built when it is read.

    A 5,000-model lineage as plain dicts would hold every column of every table twice (base
    and current) for the whole life of the server. The server encodes the lineage to JSON
    once and otherwise reads a handful of nodes, so the entries are derived from the records
    on demand instead.
    """

    def __init__(
        self, manifest: Manifest, catalog: Catalog | None, side: Side | None = None
    ) -> None:
        """``side``: the manifest's ``Side``, if made already (it knows the ids)."""
        self._manifest = manifest
        self._catalog = catalog
        self._flags: dict[str, tuple[frozenset[str], frozenset[str]]] | None = None
        if side is None:
            self._ids = lineage_ids(manifest)
            self._id_set = frozenset(self._ids)
        else:
            self._ids, self._id_set = side.ids, side.id_set

    def __getitem__(self, uid: str) -> dict[str, Any]:
        if uid not in self._id_set:
            raise KeyError(uid)
        manifest, catalog = self._manifest, self._catalog
        node = manifest.nodes.get(uid)
        if node is not None:
            if self._flags is None:  # only node details need them: built on first use
                self._flags = column_flags(manifest)
            return _model_entry(uid, node, catalog, self._flags)
        source = manifest.sources.get(uid)
        if source is not None:
            return _source_entry(uid, source, catalog)
        for part, default_type in (
            (manifest.exposures, "exposure"),
            (manifest.metrics, "metric"),
            (manifest.semantic_models, "semantic_model"),
        ):
            other = part.get(uid)
            if other is not None:
                return {
                    "id": uid,
                    "name": other.name,
                    "resource_type": other.resource_type or default_type,
                    "package_name": other.package_name,
                    "config": other.config,
                }
        raise KeyError(uid)  # pragma: no cover - _id_set holds only ids found above

    def package_name(self, uid: str) -> str:
        """The node's package, without building the node."""
        record = self._manifest.lineage_record(uid)
        if record is None:
            raise KeyError(uid)
        return record.package_name

    def __contains__(self, uid: object) -> bool:
        return uid in self._id_set

    @property
    def ids(self) -> frozenset[str]:
        """The node ids as a set (for the loops that test membership thousands of times)."""
        return self._id_set

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


def _model_entry(
    uid: str,
    node: Node,
    catalog: Catalog | None,
    flags: Mapping[str, tuple[frozenset[str], frozenset[str]]],
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": uid,
        "name": node.name,
        "resource_type": node.resource_type,
        "package_name": node.package_name,
        "schema": node.schema,
        "config": node.config,
        "checksum": _checksum(node),
        "raw_code": node.raw_code,
    }
    table = catalog.nodes.get(uid) if catalog is not None else None
    if table is not None:
        not_null, unique = flags.get(uid, (frozenset(), frozenset()))
        columns: dict[str, dict[str, Any]] = {}
        primary_key = None
        for col in _ordered_columns(table):
            column: dict[str, Any] = {"name": col.name, "type": col.type}
            key = col.name.casefold()
            if key in not_null:
                column["not_null"] = True
            if key in unique:
                column["unique"] = True
                if primary_key is None:
                    primary_key = col.name
            columns[col.name] = column
        entry["columns"] = columns
        if primary_key is not None:
            entry["primary_key"] = primary_key
    return entry


def _source_entry(uid: str, source: Node, catalog: Catalog | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": uid,
        "name": source.name,
        "source_name": source.source_name,
        "resource_type": source.resource_type or "source",
        "package_name": source.package_name,
        "config": source.config,
    }
    table = catalog.sources.get(uid) if catalog is not None else None
    if table is not None:
        entry["columns"] = {
            col.name: {"name": col.name, "type": col.type} for col in _ordered_columns(table)
        }
    return entry


def build_lineage(manifest: Manifest, catalog: Catalog | None, side: Side | None = None) -> Lineage:
    """Recce's per-environment lineage (``DbtAdapter.get_lineage``) as JSON-ready data.

    ``{"nodes": {id: node}, "parent_map": {id: [ids]}, "manifest_metadata": {...},
    "catalog_metadata": {...} | None}``; node columns come from the catalog, in catalog order.
    ``nodes`` is a read-only mapping whose entries are built when read (``LineageNodes``).
    ``side``: the manifest's ``Side``, if made already (it has the ids and the parent map).
    """
    nodes = LineageNodes(manifest, catalog, side)
    return {
        "nodes": nodes,
        "parent_map": parent_map(manifest, nodes.ids) if side is None else side.parent_map,
        "manifest_metadata": msgspec.to_builtins(manifest.metadata),
        "catalog_metadata": msgspec.to_builtins(catalog.metadata) if catalog is not None else None,
    }


def column_flags(manifest: Manifest) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """``{node_id: (not_null columns, unique columns)}`` from the manifest's generic tests.

    Recce derives these from test names (``not_null_<model>_<column>``); reading the test's own
    metadata gives the same answer on ordinary projects and stays right when dbt shortens long
    test names to a hash. Column keys are case-folded (see ``_column_key``).
    """
    not_null: dict[str, set[str]] = {}
    unique: dict[str, set[str]] = {}
    for node in manifest.nodes.values():
        meta = node.test_metadata
        if node.resource_type != "test" or meta is None:
            continue
        kind = _FLAG_TESTS.get(meta.name)
        if kind is None or meta.namespace not in _BUILTIN_NAMESPACES:
            continue
        column = node.column_name or meta.kwargs.get("column_name")
        if not isinstance(column, str) or not column:
            continue
        target = not_null if kind == "not_null" else unique
        for parent in _tested_nodes(node):
            target.setdefault(parent, set()).add(_column_key(column))
    return {
        uid: (frozenset(not_null.get(uid, ())), frozenset(unique.get(uid, ())))
        for uid in not_null.keys() | unique.keys()
    }


def _tested_nodes(test: Node) -> Iterable[str]:
    if test.attached_node:
        return (test.attached_node,)
    parents = test.depends_on.nodes
    # Before dbt 1.5 there is no attached_node; a not_null/unique test has exactly one parent.
    return parents if len(parents) == 1 else ()


def _column_key(name: str) -> str:
    """A test's column as the catalog names it, compared case-insensitively as the warehouse
    does for unquoted identifiers (Snowflake's catalog says ORDER_ID where the YAML says
    order_id); quotes around the YAML name are dropped."""
    return name.strip().strip('"`[]').casefold()


def _ordered_columns(table: CatalogTable) -> list[Any]:
    # sorted() is stable, so catalogs without an index keep their JSON order.
    return sorted(table.columns.values(), key=lambda col: col.index)


def _checksum(node: Node) -> dict[str, str] | None:
    if node.checksum is None:
        return None
    return {"name": node.checksum.name, "checksum": node.checksum.checksum}
