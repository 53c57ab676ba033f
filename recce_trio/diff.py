"""What changed between two manifests: dbt's ``state:`` selector rules and Recce's LineageDiff.

The rules re-implement dbt-core 1.11 (``contracts/graph/nodes.py`` ``same_*`` methods and
``graph/selector_methods.py::StateSelectorMethod``) over the compact records, with
``state_modified_compare_more_unrendered_values`` on, as Recce runs dbt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from recce_trio.artifacts.records import (
    TEST_CONFIG_MODIFIERS,
    Catalog,
    CatalogTable,
    Macro,
    Manifest,
    Node,
)
from recce_trio.lineage import Lineage, build_lineage

if TYPE_CHECKING:
    from recce_trio.selector import SelectionGraph

STATE_CHECKS = (
    "new",
    "old",
    "modified",
    "unmodified",
    "modified.body",
    "modified.configs",
    "modified.persisted_descriptions",
    "modified.relation",
    "modified.macros",
    "modified.contract",
)

# Where a unique_id lives decides which dbt class (and so which same_* methods) applies.
NODE, SOURCE, EXPOSURE, METRIC, SEMANTIC_MODEL, SAVED_QUERY, UNIT_TEST = (
    "node",
    "source",
    "exposure",
    "metric",
    "semantic_model",
    "saved_query",
    "unit_test",
)

# Config fields dbt leaves out of same_config (CompareBehavior.Exclude), per config class.
_NODE_CONFIG_EXCLUDED = frozenset({"alias", "schema", "database", "tags", "group"})
_METRIC_CONFIG_EXCLUDED = frozenset({"group"})
_NOTHING = frozenset[str]()
_TEST_CONFIG_MODIFIERS = TEST_CONFIG_MODIFIERS
# Which kinds have which same_* method (hasattr in dbt's check_modified_factory).
_HAS_METHOD = {
    "same_body": frozenset({NODE}),
    "same_config": frozenset({NODE, SOURCE, EXPOSURE, METRIC, SEMANTIC_MODEL, SAVED_QUERY}),
    "same_persisted_description": frozenset({NODE}),
    "same_database_representation": frozenset({NODE, SOURCE}),
}
_FACTORY_CHECKS = {
    "modified.body": "same_body",
    "modified.configs": "same_config",
    "modified.persisted_descriptions": "same_persisted_description",
    "modified.relation": "same_database_representation",
}


def index_manifest(manifest: Manifest) -> dict[str, tuple[str, Node]]:
    """``{unique_id: (kind, node)}`` for every graph member, in dbt's lookup order."""
    index: dict[str, tuple[str, Node]] = {}
    for kind, part in (
        (SAVED_QUERY, manifest.saved_queries),
        (UNIT_TEST, manifest.unit_tests),
        (SEMANTIC_MODEL, manifest.semantic_models),
        (METRIC, manifest.metrics),
        (EXPOSURE, manifest.exposures),
        (SOURCE, manifest.sources),
        (NODE, manifest.nodes),
    ):
        for uid, node in part.items():
            index[uid] = (kind, node)
    return index


class StateComparison:
    """dbt's ``state:`` checks of ``current`` against ``base`` (the ``--state`` manifest).

    ``select(check)`` answers for current nodes exactly as dbt does. With
    ``include_removed=True`` it also answers for base-only nodes the way Recce's merged
    manifest makes them appear: every removed node is ``modified`` and ``old``, removed
    models/seeds/snapshots/tests are ``modified.body``, and ``modified.macros`` follows their
    macros. Results are computed once per check.
    """

    def __init__(self, base: Manifest, current: Manifest) -> None:
        self.base = base
        self.current = current
        self.base_index = index_manifest(base)
        self.current_index = index_manifest(current)
        self.removed = frozenset(self.base_index.keys() - self.current_index.keys())
        self._macro_hits: frozenset[str] | None = None
        self._cache: dict[tuple[str, bool], frozenset[str]] = {}

    def select(self, check: str, *, include_removed: bool = False) -> frozenset[str]:
        """The unique_ids that ``state:<check>`` selects; ValueError for an unknown check."""
        key = (check, include_removed)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if check not in STATE_CHECKS:
            raise ValueError(
                f"unknown state selector {check!r}; expected one of {', '.join(STATE_CHECKS)}"
            )
        current, base = self.current_index.keys(), self.base_index.keys()
        if check == "new":
            hits = set(current - base)
        elif check == "old":
            hits = set(current & base)
        elif check == "unmodified":
            hits = set(current - self.select("modified"))
        else:
            hits = {
                uid
                for uid, (kind, new) in self.current_index.items()
                if self._check(check, kind, new, self._previous(uid))
            }
        if include_removed:
            hits.update(self._removed_hits(check))
        result = frozenset(hits)
        self._cache[key] = result
        return result

    def _previous(self, uid: str) -> Node | None:
        found = self.base_index.get(uid)
        return found[1] if found is not None else None

    def _check(self, check: str, kind: str, new: Node, old: Node | None) -> bool:
        if check == "new":
            return old is None
        if check == "old":
            return old is not None
        if check == "modified":
            return self._modified(kind, new, old)
        if check == "unmodified":
            return not self._modified(kind, new, old)
        if check == "modified.macros":
            return self._macros_modified(new)
        if check == "modified.contract":
            return kind == NODE and (old is None or not same_contract(new, old))
        method = _FACTORY_CHECKS[check]
        if kind not in _HAS_METHOD[method]:
            return False
        return old is None or not _SAME[method](kind, new, old)

    def _modified(self, kind: str, new: Node, old: Node | None) -> bool:
        # StateSelectorMethod.check_modified_content
        if old is None:  # noqa: SIM108 - the comment belongs to this branch
            # ParsedNode and UnitTestDefinition.same_contents(None) are False; sources,
            # exposures, metrics, semantic models and saved queries answer True ("not a change").
            different = kind in (NODE, UNIT_TEST)
        else:
            different = not same_contents(kind, new, old)
        if different or self._macros_modified(new):
            return True
        return (
            old is not None
            and kind == NODE
            and old.resource_type == "model"
            and not same_contract(new, old)
        )

    def _macros_modified(self, node: Node) -> bool:
        hits = self.macro_hits()
        return bool(hits) and any(uid in hits for uid in node.depends_on.macros)

    def macro_hits(self) -> frozenset[str]:
        """Macros that are modified, added or removed, or that call one (transitively)."""
        if self._macro_hits is None:
            self._macro_hits = _macros_reaching_changes(self.base.macros, self.current.macros)
        return self._macro_hits

    def _removed_hits(self, check: str) -> set[str]:
        if check in ("modified", "old"):
            return set(self.removed)
        if check == "modified.body":
            return {uid for uid in self.removed if self.base_index[uid][0] == NODE}
        if check == "modified.macros":
            return {uid for uid in self.removed if self._macros_modified(self.base_index[uid][1])}
        return set()


def modified_nodes(base: Manifest, current: Manifest, *, sub: str | None = None) -> set[str]:
    """What ``dbt ls --select state:modified[.<sub>] --state <base>`` would list (before
    indirect test selection): current unique_ids only, as dbt never selects deleted nodes."""
    check = "modified" if sub is None else f"modified.{sub}"
    return set(StateComparison(base, current).select(check))


def new_nodes(base: Manifest, current: Manifest) -> set[str]:
    """What ``state:new`` selects: current unique_ids absent from base."""
    return set(StateComparison(base, current).select("new"))


def removed_nodes(base: Manifest, current: Manifest) -> set[str]:
    """Base unique_ids absent from current (any resource type)."""
    return set(StateComparison(base, current).removed)


# ---- dbt's same_* methods (new is the current node, old the base one) ----


def same_contents(kind: str, new: Node, old: Node) -> bool:
    if kind == NODE:
        if new.resource_type == "test" and new.test_metadata is not None:
            # GenericTestNode.same_contents
            return same_config(kind, new, old) and new.fqn == old.fqn
        same = (
            same_body(kind, new, old)
            and same_config(kind, new, old)
            and same_persisted_description(kind, new, old)
            and new.fqn == old.fqn
            and same_database_representation(kind, new, old)
            and same_contract(new, old)
        )
        if new.resource_type == "model":
            # ModelNode.same_ref_representation
            same = (
                same
                and new.latest_version == old.latest_version
                and new.access == old.access
                and new.deprecation_date == old.deprecation_date
            )
        return same
    if kind == SOURCE:
        return (
            same_database_representation(kind, new, old)
            and new.fqn == old.fqn
            and same_config(kind, new, old)
            and new.quoting == old.quoting
            and new.freshness == old.freshness
            and new.loaded_at_field == old.loaded_at_field
            and new.external == old.external
        )
    if kind == EXPOSURE:
        return (
            new.fqn == old.fqn
            and new.type == old.type
            and new.owner == old.owner
            and new.maturity == old.maturity
            and new.url == old.url
            and new.description == old.description
            and new.label == old.label
            and set(new.depends_on.nodes) == set(old.depends_on.nodes)
            and same_config(kind, new, old)
        )
    if kind == METRIC:
        # dbt leaves filter, metadata and type_params as TODO (always the same).
        return (
            new.type == old.type
            and new.description == old.description
            and new.label == old.label
            and same_config(kind, new, old)
        )
    if kind == SEMANTIC_MODEL:
        return (
            new.model == old.model
            and new.description == old.description
            and new.defaults == old.defaults
            and new.entities == old.entities
            and new.dimensions == old.dimensions
            and new.measures == old.measures
            and new.config == old.config
            and new.primary_entity == old.primary_entity
            and new.group == old.group
        )
    if kind == SAVED_QUERY:
        new_params = new.query_params or {}
        old_params = old.query_params or {}
        return (
            all(new_params.get(k) == old_params.get(k) for k in ("metrics", "group_by", "where"))
            and new.description == old.description
            and new.label == old.label
            and new.config == old.config
            and new.group == old.group
            and _same_exports(new.exports, old.exports)
            and new.tags == old.tags
        )
    if kind == UNIT_TEST:
        return new.checksum == old.checksum
    return True


def same_body(kind: str, new: Node, old: Node) -> bool:
    if new.resource_type == "seed":
        # SeedNode.same_seeds: compare checksums, whatever their kind. A seed over dbt's size
        # limit has a "path" checksum, so only a move/rename of the file shows as a change.
        return new.checksum == old.checksum
    return new.raw_code == old.raw_code


def same_config(kind: str, new: Node, old: Node) -> bool:
    if kind in (SEMANTIC_MODEL, SAVED_QUERY):
        return new.config == old.config
    mine, others = new.unrendered_config, old.unrendered_config
    if mine == others:  # most nodes: equal dicts agree on every key, whichever are compared
        return True
    if kind == NODE and new.resource_type == "test":
        return all(_compare_key(mine, others, key) for key in _TEST_CONFIG_MODIFIERS)
    if kind == NODE:
        excluded = _NODE_CONFIG_EXCLUDED
    elif kind == METRIC:
        excluded = _METRIC_CONFIG_EXCLUDED
    else:
        excluded = _NOTHING
    return all(
        _compare_key(mine, others, key)
        for key in mine.keys() | others.keys()
        if key not in excluded
    )


def same_persisted_description(kind: str, new: Node, old: Node) -> bool:
    if new.resource_type == "test":
        return True  # TestConfig has no persist_docs
    persist_docs = new.config.get("persist_docs") or {}
    if not isinstance(persist_docs, Mapping):
        return True
    if persist_docs.get("relation") and new.description != old.description:
        return False
    if persist_docs.get("columns"):
        mine = {name: col.description for name, col in new.columns.items()}
        others = {name: col.description for name, col in old.columns.items()}
        if mine != others:
            return False
    return True


def same_database_representation(kind: str, new: Node, old: Node) -> bool:
    if kind == SOURCE:
        return (
            new.unrendered_database == old.unrendered_database
            and new.unrendered_schema == old.unrendered_schema
            and new.identifier == old.identifier
        )
    mine, others = new.unrendered_config, old.unrendered_config
    return all(mine.get(key) == others.get(key) for key in ("database", "schema", "alias"))


def same_contract(new: Node, old: Node) -> bool:
    """ModelNode.same_contract (other nodes: always the same). Breaking changes, which dbt
    warns about or raises for versioned models, count simply as a change here."""
    if new.resource_type != "model":
        return True
    old_enforced, _ = _contract(old)
    new_enforced, new_checksum = _contract(new)
    if not old_enforced and not new_enforced:
        return True
    if not old_enforced and new_enforced:
        return False
    return new_enforced and new_checksum == _contract(old)[1]


_SAME = {
    "same_body": same_body,
    "same_config": same_config,
    "same_persisted_description": same_persisted_description,
    "same_database_representation": same_database_representation,
}


def _contract(node: Node) -> tuple[bool, Any]:
    contract = node.contract
    if isinstance(contract, Mapping):
        return contract.get("enforced") is True, contract.get("checksum")
    return contract is True, None


def _compare_key(mine: Mapping[str, Any], others: Mapping[str, Any], key: str) -> bool:
    # BaseConfig.compare_key: a key set on one side only is a change, even if set to null.
    if key not in mine:
        return key not in others
    return key in others and bool(mine[key] == others[key])


def _same_exports(new: list[Any], old: list[Any]) -> bool:
    if len(new) != len(old):
        return False
    for old_export, new_export in zip(old, new, strict=True):
        if not isinstance(old_export, Mapping) or not isinstance(new_export, Mapping):
            if old_export != new_export:
                return False
            continue
        if old_export.get("name") != new_export.get("name"):
            return False
        old_cfg = old_export.get("unrendered_config") or {}
        new_cfg = new_export.get("unrendered_config") or {}
        if any(old_cfg.get(k) != new_cfg.get(k) for k in ("export_as", "schema", "alias")):
            return False
    return True


def _macros_reaching_changes(
    base: Mapping[str, Macro], current: Mapping[str, Macro]
) -> frozenset[str]:
    """dbt's ``_macros_modified`` (changed, added, removed) closed over callers: a node whose
    depends_on.macros meets this set is ``state:modified.macros``."""
    changed = {
        uid
        for uid, macro in current.items()
        if uid not in base or base[uid].sql_digest != macro.sql_digest
    }
    changed.update(uid for uid in base if uid not in current)
    if not changed:
        return frozenset()
    callers: dict[str, list[str]] = {}
    for macros in (base, current):
        for uid, macro in macros.items():
            for dep in macro.depends_on.macros:
                callers.setdefault(dep, []).append(uid)
    reached = set(changed)
    stack = list(changed)
    while stack:
        for caller in callers.get(stack.pop(), ()):
            if caller not in reached:
                reached.add(caller)
                stack.append(caller)
    return frozenset(reached)


# ---- Recce's LineageDiff ----


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
        """Same as ``recce_trio.selector.select_nodes`` on these manifests, but warm."""
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
    # selector.py imports this module's state rules; import it here to keep that one-way.
    from recce_trio.selector import SelectionGraph

    base = build_lineage(base_manifest, base_catalog)
    current = build_lineage(current_manifest, current_catalog)
    graph = SelectionGraph(base_manifest, current_manifest)
    graph.prepare()
    project = graph.project_name
    packages = [project] if project is not None else None

    base_nodes: dict[str, Any] = base["nodes"]
    current_nodes: dict[str, Any] = current["nodes"]
    candidates = graph.select(select="state:modified", packages=packages)
    candidates.update(
        uid
        for uid in current_nodes.keys() - base_nodes.keys()
        if project is None or current_nodes[uid]["package_name"] == project
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
    changes: dict[str, str] = {}
    for name, col in _by_index(current.columns.items()):
        before = base.columns.get(name)
        if before is None:
            changes[name] = "added"
        elif before.type != col.type:
            changes[name] = "modified"
    for name, _ in _by_index(base.columns.items()):
        if name not in current.columns:
            changes[name] = "removed"
    return changes


def _by_index(items: Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return sorted(items, key=lambda item: item[1].index)


def _table(catalog: Catalog | None, uid: str) -> CatalogTable | None:
    if catalog is None:
        return None
    return catalog.nodes.get(uid) or catalog.sources.get(uid)
