"""What a ``Side`` (core/side.py) works out for each lineage record on its own: its share of
the merged lineage, where a catalog would describe it, and a digest of what dbt's
``state:modified`` compares of it."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from recce_trio.core.artifacts.records import LINEAGE_NODE_TYPES, Node
from recce_trio.core.samecheck import (
    EXPOSURE,
    METRIC,
    NODE,
    SEMANTIC_MODEL,
    SOURCE,
    contract_terms,
)

# Resource types whose relation a catalog can describe (besides sources).
CATALOGUED_TYPES = frozenset({"model", "seed", "snapshot"})
# Materializations that leave no relation in the warehouse, so no catalog entry.
NO_RELATION = frozenset({"ephemeral", "semantic_view"})
# Graph members that are not relations at all.
NOT_RELATIONS = frozenset({"exposure", "metric", "semantic_model", "saved_query"})
# A ``compare_key`` as ``key_digest`` makes it.
Key = bytes | tuple[Any, ...] | None
# A node's share of the merged lineage, as JSON pieces: the object's opening brace and its
# first members (``name``, ``resource_type``, ``package_name``), then ``,"materialized":...``
# and ``,"source_name":...`` (each b"" if the node has none); its ``schema`` field (None if it
# has none); its folder (None: no file); and where a catalog would describe its relation
# (None: it has none).
Entry = tuple[bytes, bytes, bytes, "str | None", "str | None", "str | None"]
# Where a node's relation would be in a catalog (``Entry``).
IN_NODES, IN_SOURCES = "nodes", "sources"
# The manifest sections whose records the lineage shows, and each one's kind (samecheck).
SECTION_KINDS = {
    "nodes": NODE,
    "sources": SOURCE,
    "exposures": EXPOSURE,
    "metrics": METRIC,
    "semantic_models": SEMANTIC_MODEL,
}
# What is worked out of one lineage record of a chunk of a section (``lineage_shares``): its
# place in the chunk, its ``Entry``, its ``key_digest``, whether a catalog should cover it,
# and its parents as dbt's parent map lists them (sorted; None for a seed, which has none).
Share = tuple[int, Entry, Key, bool, "list[str] | None"]


def lineage_shares(section: str, pairs: Sequence[tuple[str, Any]]) -> list[Share]:
    """Each lineage record's share of its side, for the records of one chunk of ``section``
    (``[(unique_id, record), ...]``; records that are not in the lineage, tests say, are
    passed over). A decoder process works this out as it decodes and sends it with the
    records, so that the server's ``SideBuilder`` only files it; the ``SideBuilder`` works it
    out itself for records that come without it."""
    kind = SECTION_KINDS.get(section)
    if kind is None:
        return []
    shares: list[Share] = []
    for place, (uid, record) in enumerate(pairs):
        resource_type = record.resource_type
        if kind == NODE and resource_type not in LINEAGE_NODE_TYPES:
            continue
        key = key_digest(compare_key(kind, record))
        parents = None if resource_type == "seed" else sorted(set(record.depends_on.nodes))
        shares.append((place, entry_of(uid, record), key, has_relation(kind, record), parents))
    return shares


def has_relation(kind: str, record: Node) -> bool:
    """Whether a catalog should describe this lineage record (``merged.artifact_health``)."""
    return (
        kind == NODE
        and record.resource_type in CATALOGUED_TYPES
        and record.config.get("materialized") not in NO_RELATION
    )


def compare_key(kind: str, node: Node) -> tuple[Any, ...] | None:
    """Everything dbt's ``state:modified`` compares of a node of dbt's node classes (models,
    seeds, snapshots, tests, ...) or of a source (``samecheck.same_contents``, and the
    contract check of ``StateComparison``), but its macros; None for other kinds.

    Two equal keys mean ``same_contents`` is true: each item is compared with ``==`` there
    too (the contract as ``same_contract`` reads it; the column descriptions only where the
    node persists them, as ``same_persisted_description`` does: a key says None otherwise, so
    if one side persists them and the other does not, the keys differ). Unequal keys decide
    nothing: the comparison itself then runs, since it leaves some differences out (config
    keys dbt excludes, descriptions that are not persisted, ...)."""
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


def entry_of(uid: str, record: Node) -> Entry:
    """The node's share of the merged lineage from its own record (``Entry``)."""
    kind = record.resource_type or _default_type(uid)
    head = {"name": record.name, "resource_type": kind, "package_name": record.package_name or ""}
    schema = record.schema if kind in CATALOGUED_TYPES else None
    materialized = record.config.get("materialized")
    path = record.original_file_path
    source_name = record.source_name
    return (
        _encoder.encode(head)[:-1],
        _member("materialized", materialized) if isinstance(materialized, str) else b"",
        _member("source_name", source_name) if source_name is not None else b"",
        schema,
        _folder(path) if path else None,
        catalog_place(kind, materialized),
    )


def _member(name: str, value: str) -> bytes:
    return b',"%s":%s' % (name.encode(), _encoder.encode(value))


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


_key_encoder = msgspec.msgpack.Encoder()
_encoder = msgspec.json.Encoder()


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
