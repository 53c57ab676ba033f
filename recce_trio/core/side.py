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

from collections.abc import Iterable, Mapping, Sequence

from recce_trio.core.artifacts.records import LINEAGE_NODE_TYPES, Manifest, Node
from recce_trio.core.samecheck import (
    EXPOSURE,
    METRIC,
    NODE,
    SAVED_QUERY,
    SEMANTIC_MODEL,
    SOURCE,
    UNIT_TEST,
)
from recce_trio.core.side_records import (
    SECTION_KINDS,
    Entry,
    Key,
    Share,
    compare_key,
    entry_of,
    has_relation,
    key_digest,
    lineage_shares,
)
from recce_trio.core.state_rules import StateComparison, index_manifest


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
        trusted = early is not None and early.saw_all_of(manifest)
        if early is not None and trusted:
            # What arrived is what the manifest holds, in the same order: the ids, parents
            # and state index come from what the builder kept of it.
            self.ids = early.lineage_ids(manifest)
            self.id_set = frozenset(self.ids)
            self.parent_map = early.parent_map(self.id_set)
            self.index = index = early.index()
            # No id in two sections either: each lineage id's record is the one it made.
            trusted = len(index) == early.indexed_count()
        else:
            self.ids = lineage_ids(manifest)
            self.id_set = frozenset(self.ids)
            self.parent_map = parent_map(manifest, self.id_set)
            self.index = index = index_manifest(manifest)
        self.children = children_of(self.parent_map)
        made = early.made if early is not None else {}
        records: dict[str, Node] = {}
        entries: dict[str, Entry] = {}
        keys: dict[str, Key] = {}
        relations: set[str] = set()
        for uid in self.id_set:
            if trusted:
                record, kind, entry, key, expected = made[uid]
            else:
                found = made.get(uid)
                record = manifest.lineage_record(uid)  # type: ignore[assignment]
                if record is None:  # pragma: no cover - the ids come from these sections
                    continue
                if found is None or found[0] is not record:  # not seen, or since replaced
                    found = _made(uid, _kind_of(manifest, uid, record), record)
                _, kind, entry, key, expected = found
                indexed = index.get(uid)
                if indexed is None:  # pragma: no cover - the index has every section's ids
                    key = None
                elif indexed[0] != kind or indexed[1] is not record:
                    key = key_digest(compare_key(*indexed))  # the index has another record
            records[uid] = record
            entries[uid] = entry
            if expected:
                relations.add(uid)
            if key is not None:
                keys[uid] = key
        self.records = records
        self.entries = entries
        self.keys = keys
        self.relations = frozenset(relations)


# What a SideBuilder works out per record: the record, its kind (samecheck), its
# merged-lineage entry, its compare_key, and whether a catalog should cover it.
Made = tuple[Node, str, Entry, Key, bool]

# The sections ``state_rules.index_manifest`` reads, in its order, and each one's kind.
_INDEXED = (
    ("saved_queries", SAVED_QUERY),
    ("unit_tests", UNIT_TEST),
    ("semantic_models", SEMANTIC_MODEL),
    ("metrics", METRIC),
    ("exposures", EXPOSURE),
    ("sources", SOURCE),
    ("nodes", NODE),
)
# The sections whose members the lineage shows (``Manifest.lineage_sections``), in order.
_LINEAGE_SECTIONS = ("nodes", "sources", "exposures", "metrics", "semantic_models")


class SideBuilder:
    """A ``Side``'s per-record work, done as a manifest's records arrive (``add``, from the
    loader thread that receives a decoder process's frames), so that little is left once
    the last one is in (``Side(manifest, early=builder)``).

    Besides each lineage record's share (``made``), it keeps each section's records, lineage
    ids and sorted parents in the order they came: if the manifest's
    sections then hold just what arrived, in that order, the ``Side`` takes those instead of
    walking the manifest."""

    def __init__(self) -> None:
        self.made: dict[str, Made] = {}
        self.received: dict[str, list[tuple[str, Node]]] = {}
        self.lineage: dict[str, list[str]] = {}
        self.parents: dict[str, list[tuple[str, list[str] | None]]] = {}

    def add(
        self, section: str, pairs: list[tuple[str, Node]], shares: Sequence[Share] | None = None
    ) -> None:
        """File a chunk of ``section``'s records as they arrived. ``shares``: each lineage
        record's share, as ``side_records.lineage_shares`` works it out of these records (a
        decoder process sends it with them); worked out here when not given."""
        self.received.setdefault(section, []).extend(pairs)
        kind = SECTION_KINDS.get(section)
        if kind is None:
            return
        if shares is None:
            shares = lineage_shares(section, pairs)
        made = self.made
        lineage = self.lineage.setdefault(section, [])
        parents = self.parents.setdefault(section, [])
        for place, entry, key, expected, deps in shares:
            uid, record = pairs[place]
            made[uid] = (record, kind, entry, key, expected)
            lineage.append(uid)
            parents.append((uid, deps))

    def saw_all_of(self, manifest: Manifest) -> bool:
        """Whether the sections the side reads hold what arrived here, in the same order
        (a list comparison: the same objects, so a pointer comparison each)."""
        return all(
            list(getattr(manifest, section).items()) == self.received.get(section, [])
            for section, _ in _INDEXED
        )

    def indexed_count(self) -> int:
        """How many records arrived in the sections the state index reads."""
        return sum(len(self.received.get(section, ())) for section, _ in _INDEXED)

    def lineage_ids(self, manifest: Manifest) -> list[str]:
        """``lineage_ids(manifest)``, from the records as they arrived."""
        ids = list(self.lineage.get("nodes", ()))
        for section in _LINEAGE_SECTIONS[1:]:
            ids.extend(uid for uid in self.lineage.get(section, ()) if uid not in manifest.nodes)
        return ids

    def parent_map(self, ids: frozenset[str]) -> dict[str, list[str]]:
        """``parent_map(manifest, ids)``, from the records' sorted parents as they arrived."""
        parents: dict[str, list[str]] = {}
        for section in _LINEAGE_SECTIONS:
            for uid, deps in self.parents.get(section, ()):
                if uid in ids:
                    parents[uid] = [] if deps is None else [d for d in deps if d in ids]
        return parents

    def index(self) -> dict[str, tuple[str, Node]]:
        """``state_rules.index_manifest(manifest)``, from the records as they arrived."""
        index: dict[str, tuple[str, Node]] = {}
        for section, kind in _INDEXED:
            index.update((uid, (kind, record)) for uid, record in self.received.get(section, ()))
        return index


def _made(uid: str, kind: str, record: Node) -> Made:
    key = key_digest(compare_key(kind, record))
    return (record, kind, entry_of(uid, record), key, has_relation(kind, record))


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


def state_comparison(base: Side, current: Side) -> StateComparison:
    """dbt's ``state:`` comparison of the two sides' manifests, through their indexes and
    comparison keys."""
    return StateComparison(
        base.manifest,
        current.manifest,
        indexes=(base.index, current.index),
        keys=(base.keys, current.keys),
    )


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


def children_of(parents: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """``{parent: children}``, each parent's children sorted: the parent map the other way."""
    children: dict[str, list[str]] = {}
    for child, of in parents.items():
        for parent in of:
            children.setdefault(parent, []).append(child)
    for targets in children.values():
        targets.sort()
    return children
