"""Which dbt node a table named in SQL is, and the columns sqlglot may assume it has."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

from recce_trio.core.artifacts.records import Catalog, CatalogTable, Manifest, Node

RELATION_TYPES = frozenset({"model", "seed", "snapshot"})
EPHEMERAL_PREFIX = "__dbt__cte__"


class RelationIndex:
    """Every relation of a manifest (models, seeds, snapshots, sources), looked up by the
    name it has in the warehouse (alias or identifier), case-insensitively.

    Immutable once built, so any number of threads may read it.
    """

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        by_name: dict[str, list[str]] = {}
        places: dict[str, tuple[str, str]] = {}
        ephemeral: dict[str, list[str]] = {}
        for uid, node in manifest.nodes.items():
            if node.resource_type not in RELATION_TYPES:
                continue
            if (node.config.get("materialized") or "") == "ephemeral":
                ephemeral.setdefault(node.name.lower(), []).append(uid)
                continue
            self._add(by_name, places, uid, node, node.alias or node.name)
        for uid, node in manifest.sources.items():
            self._add(by_name, places, uid, node, node.identifier or node.name)
        self._by_name = by_name
        self._places = places
        self._ephemeral = ephemeral

    @staticmethod
    def _add(
        by_name: dict[str, list[str]],
        places: dict[str, tuple[str, str]],
        uid: str,
        node: Node,
        name: str,
    ) -> None:
        by_name.setdefault(name.lower(), []).append(uid)
        places[uid] = ((node.database or "").lower(), (node.schema or "").lower())

    def resolve(
        self, name: str, schema: str | None, database: str | None, parents: Sequence[str]
    ) -> str | None:
        """The unique_id of table ``database.schema.name``: among the node's parents first,
        then project-wide; None when nothing or more than one relation matches."""
        found = self._by_name.get(name.lower())
        if not found:
            return None
        own = [uid for uid in found if uid in parents]
        for pool in (own, found):
            if not pool:
                continue
            if len(pool) == 1:
                return pool[0]
            narrowed = self._narrow(pool, schema, database)
            if len(narrowed) == 1:
                return narrowed[0]
        return None

    def _narrow(self, pool: list[str], schema: str | None, database: str | None) -> list[str]:
        out = pool
        if schema:
            out = [u for u in out if self._places[u][1] == schema.lower()]
        if database:
            out = [u for u in out if self._places[u][0] == database.lower()]
        return out

    def ephemeral(self, cte_name: str, parents: Sequence[str]) -> str | None:
        """The ephemeral model that dbt injected as CTE ``__dbt__cte__<name>``."""
        if not cte_name.lower().startswith(EPHEMERAL_PREFIX):
            return None
        found = self._ephemeral.get(cte_name[len(EPHEMERAL_PREFIX) :].lower(), [])
        own = [uid for uid in found if uid in parents]
        pool = own or found
        return pool[0] if len(pool) == 1 else None


def catalog_table(catalog: Catalog | None, uid: str) -> CatalogTable | None:
    if catalog is None:
        return None
    return catalog.nodes.get(uid) or catalog.sources.get(uid)


def catalog_columns(catalog: Catalog | None, uid: str) -> dict[str, str]:
    """``{column: type}`` of a relation in catalog order; empty when the catalog lacks it."""
    table = catalog_table(catalog, uid)
    if table is None:
        return {}
    ordered = sorted(table.columns.values(), key=lambda c: c.index)
    return {col.name: col.type or "UNKNOWN" for col in ordered}


def schema_digest(parts: Iterable[tuple[str, Mapping[str, str]]]) -> str:
    """A short digest of the parents' column names, for cache keys."""
    h = hashlib.blake2b(digest_size=12)
    for uid, columns in parts:
        h.update(uid.encode())
        h.update(b"\0")
        h.update("\1".join(columns).encode())
        h.update(b"\2")
    return h.hexdigest()
