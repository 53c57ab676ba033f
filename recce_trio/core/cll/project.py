"""Column-level lineage and change analysis over one pair of artifact sets (base, current).

``CllProject`` is built once per artifact set and is safe to share between threads: what it
computes lazily is guarded by a lock or kept in the ``CllCache``, and nothing it returns is
mutated afterwards.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace

from recce_trio.core.artifacts.records import Catalog, Manifest, Node
from recce_trio.core.cll.cache import CllCache
from recce_trio.core.cll.change import ChangeResult
from recce_trio.core.cll.dialects import sqlglot_dialect
from recce_trio.core.cll.model import (
    DERIVED,
    SOURCE,
    UNKNOWN,
    ColumnRef,
    ModelLineage,
    analyse,
)
from recce_trio.core.cll.parse import CllError, Prepared, prepare
from recce_trio.core.cll.relations import RelationIndex, catalog_columns, schema_digest
from recce_trio.core.cll.source import missing_macros, model_sql

SQL_TYPES = frozenset({"model", "snapshot"})
_SOURCE_TYPES = frozenset({"seed", "source"})


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    name: str
    type: str | None
    kind: str
    parents: tuple[ColumnRef, ...] = ()


@dataclass(frozen=True, slots=True)
class NodeCll:
    """One node's column lineage in the current environment. ``columns`` are the catalog's
    (in catalog order), or the SQL's output columns when the catalog lacks the node.
    ``row_parents`` are the parent columns its joins, filters and grouping read."""

    uid: str
    columns: dict[str, ColumnInfo]
    parents: tuple[str, ...]
    row_parents: tuple[ColumnRef, ...] = ()
    reason: str | None = None


class Side:
    """One environment's manifest and catalog, with the lookups lineage needs.

    Memo dicts are filled from any thread; entries are immutable and derived from immutable
    artifacts, so a race only computes an entry twice.
    """

    def __init__(
        self, manifest: Manifest, catalog: Catalog | None, cache: CllCache | None = None
    ) -> None:
        self.manifest = manifest
        self.catalog = catalog
        self.cache = cache
        self.dialect = sqlglot_dialect(manifest.metadata.adapter_type)
        self._index: RelationIndex | None = None
        self._lock = threading.Lock()
        self._keys: dict[str, str] = {}
        self._catalog: dict[str, dict[str, str]] = {}
        self._schema: dict[str, dict[str, str]] = {}
        self._busy = threading.local()

    @property
    def index(self) -> RelationIndex:
        if self._index is None:
            with self._lock:
                if self._index is None:
                    self._index = RelationIndex(self.manifest)
        return self._index

    def node(self, uid: str) -> Node | None:
        m = self.manifest
        for part in (m.nodes, m.sources, m.exposures, m.metrics, m.semantic_models):
            node = part.get(uid)
            if node is not None:
                return node
        return None

    def columns(self, uid: str) -> dict[str, str]:
        """The catalog's ``{column: type}`` of a relation, in catalog order (do not mutate)."""
        found = self._catalog.get(uid)
        if found is None:
            found = self._catalog[uid] = catalog_columns(self.catalog, uid)
        return found

    def schema_columns(self, uid: str) -> dict[str, str]:
        """The columns sqlglot may assume ``uid`` has: the catalog's; without a catalog entry,
        the columns its own SQL produces (a model or snapshot), else the documented ones."""
        found = self._schema.get(uid)
        if found is not None:
            return found
        found = self.columns(uid)
        node = self.node(uid) if not found else None
        if node is not None:
            busy: set[str] = getattr(self._busy, "ids", set())
            if node.resource_type in SQL_TYPES and uid not in busy:
                self._busy.ids = busy | {uid}
                try:
                    lineage = model_lineage(self, node, self.cache)
                finally:
                    self._busy.ids = busy
                found = {name: "UNKNOWN" for name in lineage.columns}
            if not found:
                found = {n: c.data_type or "UNKNOWN" for n, c in node.columns.items()}
        self._schema[uid] = found
        return found

    def sql_key(self, node: Node) -> str:
        """A digest of what the SQL analysis of ``node`` reads."""
        key = self._keys.get(node.unique_id)
        if key is not None:
            return key
        h = hashlib.blake2b(digest_size=16)
        code = node.compiled_code if node.compiled_code and node.compiled_code.strip() else None
        for part in (self.dialect, "c" if code else "r", code or node.raw_code or ""):
            h.update(part.encode())
            h.update(b"\0")
        parents = node.depends_on.nodes
        h.update(schema_digest((p, self.schema_columns(p)) for p in parents).encode())
        key = self._keys[node.unique_id] = h.hexdigest()
        return key


def model_lineage(
    side: Side, node: Node, cache: CllCache | None, prepared: Prepared | None = None
) -> ModelLineage:
    """The SQL lineage of a model or snapshot, from the cache when it has it. ``prepared``:
    the node's query as ``prepared_sql(side, node)`` gives it, parsed already (the change
    analysis's current side), to be analysed instead of parsing it again."""
    key = ("cll", node.unique_id, side.sql_key(node))
    if cache is not None:
        hit = cache.get(key)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
    result = _analyse_node(side, node, prepared)
    if cache is not None:
        cache.put(key, result)
    return result


def prepared_sql(side: Side, node: Node, *, prefer_compiled: bool = True):  # type: ignore[no-untyped-def]
    """``prepare`` on a node's SQL; raises ``CllError`` with the reason."""
    src = model_sql(node, side.manifest, prefer_compiled=prefer_compiled, dialect=side.dialect)
    if src.sql is None:
        raise CllError(src.reason or "no SQL")
    try:
        return prepare(
            src.sql,
            dialect=side.dialect,
            parents=node.depends_on.nodes,
            index=side.index,
            refs=src.refs,
            columns_of=side.schema_columns,
        )
    except CllError as exc:
        if src.origin == "rendered":
            macros = missing_macros(node.raw_code)
            hint = "the manifest has no compiled_code (run dbt compile or docs generate)"
            if macros:
                hint += "; macros not available without dbt: " + ", ".join(macros[:8])
            raise CllError(f"{exc}; {hint}") from None
        raise


def _analyse_node(side: Side, node: Node, prepared: Prepared | None = None) -> ModelLineage:
    try:
        result = analyse(prepared if prepared is not None else prepared_sql(side, node))
        if not (node.compiled_code and node.compiled_code.strip()):
            macros = missing_macros(node.raw_code)
            if macros:
                note = "rendered without dbt; unknown macros: " + ", ".join(macros[:8])
                result = replace(result, notes=(*result.notes, note))
        return result
    except CllError as exc:
        return ModelLineage(error=str(exc))
    except Exception as exc:  # sqlglot raises many kinds; never let one out
        return ModelLineage(error=f"column lineage failed: {type(exc).__name__}: {exc}"[:400])


def node_cll(side: Side, uid: str, parents: tuple[str, ...], cache: CllCache | None) -> NodeCll:
    """The lineage of any lineage node (model, seed, snapshot, source, exposure, ...)."""
    node = side.node(uid)
    catalog = side.columns(uid)
    if node is None:
        return NodeCll(uid, {}, parents, reason="not in the current manifest")
    rtype = node.resource_type or ("source" if uid in side.manifest.sources else "")
    if rtype in _SOURCE_TYPES or node.name == "metricflow_time_spine":
        cols = {n: ColumnInfo(n, t, SOURCE) for n, t in catalog.items()}
        return NodeCll(uid, cols, parents)
    if rtype not in SQL_TYPES:
        cols = {n: ColumnInfo(n, t, UNKNOWN) for n, t in catalog.items()}
        return NodeCll(uid, cols, parents, reason=f"a {rtype or 'node'} has no SQL")
    lineage = model_lineage(side, node, cache)
    if lineage.error is not None:
        cols = {n: ColumnInfo(n, t, UNKNOWN) for n, t in catalog.items()}
        return NodeCll(uid, cols, parents, reason=lineage.error)
    out = lineage.columns
    columns: dict[str, ColumnInfo] = {}
    if catalog:
        folded = {name.casefold(): col for name, col in out.items()}
        for name, ctype in catalog.items():
            col = folded.get(name.casefold())
            if col is None:
                columns[name] = ColumnInfo(name, ctype, UNKNOWN)
            else:
                columns[name] = ColumnInfo(name, ctype, col.kind, tuple(sorted(col.parents)))
    else:
        for name, col in out.items():
            columns[name] = ColumnInfo(name, None, col.kind, tuple(sorted(col.parents)))
    notes = list(lineage.notes)
    missing = [name for name, col in columns.items() if col.kind == UNKNOWN and not col.parents]
    if catalog and missing and not any(name.casefold() in _folded(out) for name in missing):
        notes.append("catalog columns the SQL does not produce: " + ", ".join(missing[:5]))
    reason = "; ".join(notes) or None
    return NodeCll(uid, columns, parents, tuple(sorted(lineage.row_parents)), reason)


def _folded(names: Mapping[str, object]) -> set[str]:
    return {name.casefold() for name in names}


def count_known(nodes: Mapping[str, NodeCll]) -> tuple[int, int]:
    """(columns with a known lineage, all columns) over ``nodes``."""
    known = total = 0
    for entry in nodes.values():
        for col in entry.columns.values():
            total += 1
            known += col.kind != UNKNOWN
    return known, total


__all__ = [
    "DERIVED",
    "ChangeResult",
    "ColumnInfo",
    "NodeCll",
    "Side",
    "count_known",
    "model_lineage",
    "node_cll",
    "prepared_sql",
]
