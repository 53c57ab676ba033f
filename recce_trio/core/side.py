"""What a review needs from one manifest alone (a ``Side``), worked out as soon as that
manifest is loaded.

A review compares two manifests, so it can only be finished once both are in; but most of
its work looks at one manifest at a time: which nodes the lineage shows and their parents,
the lookup ``state:`` selectors use, each node's fields in the merged lineage, what
``state:modified`` compares of it. The server's loader works that out for each manifest
right after decoding it, while the other one may still be decoding (server/loading.py);
``build_review`` then only compares and merges. A review built without sides (the thread
of a reload, the offline commands) makes them itself: the result is the same.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from recce_trio.core.artifacts.records import LINEAGE_NODE_TYPES, Manifest, Node
from recce_trio.core.samecheck import (
    EXPOSURE,
    METRIC,
    NODE,
    SEMANTIC_MODEL,
    SOURCE,
    contract_terms,
)
from recce_trio.core.state_rules import index_manifest

# Resource types whose relation a catalog can describe (besides sources).
CATALOGUED_TYPES = frozenset({"model", "seed", "snapshot"})
# Materializations that leave no relation in the warehouse, so no catalog entry.
NO_RELATION = frozenset({"ephemeral", "semantic_view"})
# Graph members that are not relations at all.
NOT_RELATIONS = frozenset({"exposure", "metric", "semantic_model", "saved_query"})
# A ``compare_key`` as ``key_digest`` makes it.
Key = bytes | tuple[Any, ...] | None
# A node's share of the merged lineage: its own fields (those before ``base_schema``, those
# after), its folder (None: no file) and where a catalog would describe its relation (None:
# it has none).
Entry = tuple[dict[str, Any], dict[str, Any], "str | None", "str | None"]
# Where a node's relation would be in a catalog (``Entry``).
IN_NODES, IN_SOURCES = "nodes", "sources"


class Side:
    """One manifest's share of a review, read-only once made.

    ``ids`` are the lineage's node ids in the lineage's order (``id_set`` the same as a set),
    ``records`` each one's record, ``parent_map`` dbt's parent map restricted to them,
    ``children`` the same the other way round (``children_of``), ``index`` the ``state:``
    selectors' lookup (``state_rules.index_manifest``), ``entries`` each node's share of the
    merged lineage (``Entry``: its own fields, folder and catalog place), ``keys`` what
    ``state:modified`` compares of each lineage node that is a node or source (``compare_key``)
    and ``relations`` the nodes a catalog should cover (``merged.artifact_health``).
    """

    __slots__ = (
        "children",
        "entries",
        "id_set",
        "ids",
        "index",
        "keys",
        "manifest",
        "parent_map",
        "records",
        "relations",
    )

    def __init__(self, manifest: Manifest, early: SideBuilder | None = None) -> None:
        """``early``: what a ``SideBuilder`` worked out from the records as they arrived;
        what it has for the records the manifest ends up with is taken, the rest is made
        now (all of it without one)."""
        self.manifest = manifest
        self.ids = lineage_ids(manifest)
        self.id_set = frozenset(self.ids)
        self.parent_map = parent_map(manifest, self.id_set)
        self.children = children_of(self.parent_map)
        self.index = index = index_manifest(manifest)
        made = early.made if early is not None else {}
        records: dict[str, Node] = {}
        entries: dict[str, Entry] = {}
        keys: dict[str, Key] = {}
        relations: set[str] = set()
        for uid in self.id_set:
            record = manifest.lineage_record(uid)
            if record is None:  # pragma: no cover - the ids come from these sections
                continue
            found = made.get(uid)
            if found is None or found[0] is not record:  # not seen, or since replaced
                found = _made(uid, _kind_of(manifest, uid, record), record)
            _, kind, entry, key, expected = found
            records[uid] = record
            entries[uid] = entry
            if expected:
                relations.add(uid)
            indexed = index.get(uid)
            if indexed is None:  # pragma: no cover - the index has every section's ids
                key = None
            elif indexed[0] != kind or indexed[1] is not record:
                key = key_digest(compare_key(*indexed))  # the index has another record
            if key is not None:
                keys[uid] = key
        self.records = records
        self.entries = entries
        self.keys = keys
        self.relations = frozenset(relations)


# What a SideBuilder works out per record: the record, its kind (samecheck), its
# merged-lineage entry, its compare_key, and whether a catalog should cover it.
Made = tuple[Node, str, Entry, Key, bool]
_SECTION_KINDS = {
    "nodes": NODE,
    "sources": SOURCE,
    "exposures": EXPOSURE,
    "metrics": METRIC,
    "semantic_models": SEMANTIC_MODEL,
}


class SideBuilder:
    """A ``Side``'s per-record work, done as a manifest's records arrive (``add``, from the
    loader thread that receives a decoder process's frames), so that little is left once
    the last one is in (``Side(manifest, early=builder)``)."""

    def __init__(self) -> None:
        self.made: dict[str, Made] = {}

    def add(self, section: str, pairs: Iterable[tuple[str, Node]]) -> None:
        kind = _SECTION_KINDS.get(section)
        if kind is None:
            return
        made = self.made
        for uid, record in pairs:
            if kind == NODE and record.resource_type not in LINEAGE_NODE_TYPES:
                continue  # tests and the like: not in the lineage
            made[uid] = _made(uid, kind, record)


def _made(uid: str, kind: str, record: Node) -> Made:
    expected = (
        kind == NODE
        and record.resource_type in CATALOGUED_TYPES
        and record.config.get("materialized") not in NO_RELATION
    )
    key = key_digest(compare_key(kind, record))
    return (record, kind, _entry(uid, record), key, expected)


_key_encoder = msgspec.msgpack.Encoder()


def key_digest(key: tuple[Any, ...] | None) -> Key:
    """``key`` as a 16-byte digest of its msgpack encoding: two sides' keys are then compared
    in a few nanoseconds, where the values took microseconds (the SQL, configs, ...). Equal
    digests mean equal encodings, so equal values; values that encode differently but are
    equal (dicts in another order, 1 and 1.0) only make the comparison itself run. A key
    that cannot be encoded (an integer past 64 bits) stays as it is."""
    if key is None:
        return None
    try:
        return hashlib.blake2b(_key_encoder.encode(key), digest_size=16).digest()
    except (TypeError, ValueError, OverflowError):
        return key


def _kind_of(manifest: Manifest, uid: str, record: Node) -> str:
    """The kind of the section a lineage record is in (``Manifest.lineage_record``)."""
    if manifest.nodes.get(uid) is record:
        return NODE
    if manifest.sources.get(uid) is record:
        return SOURCE
    if manifest.exposures.get(uid) is record:
        return EXPOSURE
    if manifest.metrics.get(uid) is record:
        return METRIC
    return SEMANTIC_MODEL


def side_of(manifest: Manifest, prepared: Iterable[Side] = ()) -> Side:
    """The side made for this very manifest object among ``prepared``, else a new one."""
    for side in prepared:
        if side.manifest is manifest:
            return side
    return Side(manifest)


def lineage_ids(manifest: Manifest) -> list[str]:
    """The ids the lineage shows: nodes of the lineage's types, then the sources, exposures,
    metrics and semantic models that are not also in ``nodes``."""
    ids = [uid for uid, node in manifest.nodes.items() if node.resource_type in LINEAGE_NODE_TYPES]
    for part in (
        manifest.sources,
        manifest.exposures,
        manifest.metrics,
        manifest.semantic_models,
    ):
        ids.extend(uid for uid in part if uid not in manifest.nodes)
    return ids


def parent_map(manifest: Manifest, ids: frozenset[str]) -> dict[str, list[str]]:
    """dbt's parent_map (sorted depends_on.nodes; seeds have no parents) restricted to ``ids``."""
    parents: dict[str, list[str]] = {}
    for part in manifest.lineage_sections():
        for uid, node in part.items():
            if uid not in ids:
                continue
            if node.resource_type == "seed":
                parents[uid] = []
                continue
            parents[uid] = sorted(ids.intersection(node.depends_on.nodes))
    return parents


# A node's children in the lineage, sorted, and the merged lineage's edge to each.
Children = tuple[list[str], list[dict[str, str]]]


def children_of(parents: Mapping[str, list[str]]) -> dict[str, Children]:
    """``{parent: (children, edges)}``: each parent's children, sorted, and the merged
    lineage's ``{"source", "target"}`` edge to each (used as they are where both sides have
    the same children)."""
    found: dict[str, list[str]] = {}
    for child, of in parents.items():
        for parent in of:
            found.setdefault(parent, []).append(child)
    children: dict[str, Children] = {}
    for parent, targets in found.items():
        targets.sort()
        children[parent] = (targets, [{"source": parent, "target": t} for t in targets])
    return children


def compare_key(kind: str, node: Node) -> tuple[Any, ...] | None:
    """Everything dbt's ``state:modified`` compares of a node of dbt's node classes (models,
    seeds, snapshots, tests, ...) or of a source (``samecheck.same_contents``, and the
    contract check of ``StateComparison``), but its macros; None for other kinds.

    Two equal keys mean ``same_contents`` is true: each item is compared with ``==`` there
    too (the contract as ``same_contract`` reads it; the column descriptions only where the
    node persists them, as ``same_persisted_description`` does: a key says None otherwise, so
    if one side persists them and the other does not, the keys differ). Unequal keys decide
    nothing: the comparison itself then runs, since it leaves some differences out (config keys dbt
    excludes, descriptions that are not persisted, ...)."""
    if kind == NODE:
        return (
            NODE,
            node.resource_type,
            node.test_metadata is not None,
            node.raw_code,
            node.checksum,
            node.unrendered_config,
            node.fqn,
            node.description,
            _persisted_columns(node),
            contract_terms(node),
            node.latest_version,
            node.access,
            node.deprecation_date,
        )
    if kind == SOURCE:
        return (
            SOURCE,
            node.unrendered_database,
            node.unrendered_schema,
            node.identifier,
            node.fqn,
            node.unrendered_config,
            node.quoting,
            node.freshness,
            node.loaded_at_field,
            node.external,
        )
    return None


def _persisted_columns(node: Node) -> dict[str, str] | None:
    """The column descriptions ``same_persisted_description`` compares when the node persists
    them; None when it does not (then they are not compared: comparing every column of
    every node would cost more than the rest of the key)."""
    if node.resource_type == "test":
        return None
    persist_docs = node.config.get("persist_docs") or {}
    if not isinstance(persist_docs, Mapping) or not persist_docs.get("columns"):
        return None
    return {name: col.description for name, col in node.columns.items()}


def _entry(uid: str, record: Node) -> Entry:
    """The node's share of the merged lineage from its own record (``Entry``)."""
    kind = record.resource_type or _default_type(uid)
    head: dict[str, Any] = {
        "name": record.name,
        "resource_type": kind,
        "package_name": record.package_name or "",
    }
    if record.schema is not None and kind in CATALOGUED_TYPES:
        head["schema"] = record.schema
    tail: dict[str, Any] = {}
    materialized = record.config.get("materialized")
    if isinstance(materialized, str):
        tail["materialized"] = materialized
    if record.tags:
        tail["tags"] = list(record.tags)
    if record.source_name is not None:
        tail["source_name"] = record.source_name
    path = record.original_file_path
    folder = _folder(path) if path else None
    return head, tail, folder, catalog_place(kind, materialized)


def catalog_place(kind: str, materialized: Any) -> str | None:
    """Which catalog section would describe a node of this type and materialization (None:
    it has no relation: exposures, metrics, semantic models, ephemeral models)."""
    if kind in NOT_RELATIONS:
        return None
    if kind == "source":
        return IN_SOURCES
    if materialized in NO_RELATION:
        return None
    return IN_NODES


def _folder(path: str) -> str:
    """The folder of a node's file, relative to its package ("" for a file at the top)."""
    cut = path.rfind("/")
    return path[:cut] if cut > 0 else ""


def _default_type(uid: str) -> str:
    return uid.split(".", 1)[0]
