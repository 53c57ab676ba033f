"""dbt's ``state:`` selector rules (``graph/selector_methods.py::StateSelectorMethod``).

They re-implement dbt-core 1.11 over the compact records, with
``state_modified_compare_more_unrendered_values`` on, as Recce runs dbt; the node comparisons
themselves are in ``samecheck``.
"""

from __future__ import annotations

from collections.abc import Mapping

from recce_trio.core.artifacts.records import Macro, Manifest, Node
from recce_trio.core.samecheck import (
    EXPOSURE,
    METRIC,
    NODE,
    SAME_METHODS,
    SAVED_QUERY,
    SEMANTIC_MODEL,
    SOURCE,
    UNIT_TEST,
    same_contents,
    same_contract,
)

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


Index = dict[str, tuple[str, Node]]
Key = object  # a side.compare_key, as side.key_digest makes it: only compared with ==


def index_manifest(manifest: Manifest) -> Index:
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

    def __init__(
        self,
        base: Manifest,
        current: Manifest,
        *,
        indexes: tuple[Index, Index] | None = None,
        keys: tuple[Mapping[str, Key], Mapping[str, Key]] | None = None,
    ) -> None:
        """``indexes``: ``index_manifest`` of base and current, if made already. ``keys``:
        base's and current's ``side.compare_key`` of some of their nodes (made with the
        kinds and records of those indexes): where both sides' keys are equal,
        ``is_modified`` skips the comparisons, which would find the node the same."""
        self.base = base
        self.current = current
        if indexes is None:
            indexes = (index_manifest(base), index_manifest(current))
        self.base_index, self.current_index = indexes
        self._keys = keys
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

    def is_modified(self, uid: str) -> bool:
        """``state:modified`` for one unique_id, as ``select("modified", include_removed=True)``
        answers for it, without working out every other node."""
        cached = self._cache.get(("modified", True))
        if cached is not None:
            return uid in cached
        if uid in self.removed:
            return True
        entry = self.current_index.get(uid)
        if entry is None:
            return False
        kind, new = entry
        if self._keys is not None:
            key = self._keys[1].get(uid)
            if key is not None and self._keys[0].get(uid) == key:
                # Same kind and contents (a node's contract included): only its macros can
                # make it modified.
                return self._macros_modified(new)
        return self._modified(kind, new, self._previous(uid))

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
        return old is None or not SAME_METHODS[method](kind, new, old)

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
