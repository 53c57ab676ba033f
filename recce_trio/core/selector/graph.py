"""Evaluating dbt selectors over the graph Recce builds: current nodes plus the base-only ones."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from typing import Any

from recce_trio.core.artifacts.records import Manifest, Node
from recce_trio.core.samecheck import EXPOSURE, METRIC, NODE, SEMANTIC_MODEL, SOURCE, UNIT_TEST
from recce_trio.core.selector.grammar import (
    DEFAULT_INCLUDES,
    RESULT_CACHE_SIZE,
    Criterion,
    parse_criterion,
    parse_union,
)
from recce_trio.core.selector.methods import INDEX_BUILDERS, SEARCH
from recce_trio.core.state_rules import StateComparison


class SelectionGraph:
    """The merged graph (current nodes, then base-only ones, as Recce merges them) with what
    each selector method reads, so that evaluating a selector only walks sets."""

    def __init__(
        self,
        base: Manifest,
        current: Manifest,
        *,
        merge_removed: bool = True,
        state: StateComparison | None = None,
    ) -> None:
        """``merge_removed=False`` leaves base-only nodes out, which is plain dbt's graph
        (``dbt ls --state``) rather than Recce's. ``state`` reuses a comparison (and what it
        has already worked out) of the same two manifests."""
        self.state = state if state is not None else StateComparison(base, current)
        self.merge_removed = merge_removed
        self.project_name = current.metadata.project_name or base.metadata.project_name
        merged = dict(self.state.current_index)
        if merge_removed:
            for uid in self.state.removed:
                merged[uid] = self.state.base_index[uid]
        self.nodes: dict[str, tuple[str, Node]] = {
            uid: entry
            for uid, entry in merged.items()
            if entry[0] == EXPOSURE or entry[1].config.get("enabled", True) is not False
        }
        self.parents: dict[str, list[str]] = {uid: [] for uid in self.nodes}
        self.children: dict[str, list[str]] = {uid: [] for uid in self.nodes}
        for uid, (kind, node) in self.nodes.items():
            if kind == NODE and node.resource_type == "seed":
                continue  # SeedNode.depends_on_nodes is always empty
            for dep in dict.fromkeys(node.depends_on.nodes):
                target = self.nodes.get(dep)
                if target is not None and target[0] in (NODE, SOURCE, METRIC, SEMANTIC_MODEL):
                    self.parents[uid].append(dep)
                    self.children[dep].append(uid)
        tests = {
            uid for uid, (kind, node) in self.nodes.items()
            if kind == UNIT_TEST or (kind == NODE and node.resource_type == "test")
        }  # fmt: skip
        # The tests directly downstream of each node: what eager indirect selection adds.
        self.test_children: dict[str, list[str]] = {}
        for uid, children in self.children.items():
            attached = [child for child in children if child in tests]
            if attached:
                self.test_children[uid] = attached
        # CompiledNode.empty: nodes whose SQL is blank are never selected (seeds excepted).
        self.empty = frozenset(
            uid for uid, (kind, node) in self.nodes.items()
            if kind == NODE and node.resource_type != "seed" and uid not in self.state.removed
            and node.raw_code is not None and not node.raw_code.strip()
        )  # fmt: skip
        self._criteria: dict[str, frozenset[str]] = {}
        self._results: dict[tuple[Any, ...], frozenset[str]] = {}
        self._indexes: dict[str, dict[Any, Any]] = {}
        self._by_kind: dict[str, list[tuple[str, Node]]] = {}
        for uid, (kind, node) in self.nodes.items():
            self._by_kind.setdefault(kind, []).append((uid, node))

    # ---- evaluation ----

    def select(
        self,
        *,
        select: str | None = None,
        exclude: str | None = None,
        packages: list[str] | None = None,
        view_mode: str | None = None,
    ) -> set[str]:
        """The unique_ids Recce's ``DbtAdapter.select_nodes`` returns (tests included).

        ``packages=None`` applies no package restriction; ``view_mode="changed_models"``
        intersects with ``1+state:modified+``. Raises ``SelectorError`` for a bad expression.
        Results are cached per arguments.
        """
        key = (select, exclude, None if packages is None else tuple(packages), view_mode)
        cached = self._results.get(key)
        if cached is None:
            cached = self._evaluate(select, exclude, packages, view_mode)
            if len(self._results) >= RESULT_CACHE_SIZE:
                self._results.clear()
            self._results[key] = cached
        return set(cached)

    def _evaluate(
        self,
        select: str | None,
        exclude: str | None,
        packages: list[str] | None,
        view_mode: str | None,
    ) -> frozenset[str]:
        # Recce passes a falsy select/exclude to dbt as "not given".
        included = self._union(parse_union(select)) if select else self._default()
        if exclude:
            included = included - self._union(parse_union(exclude))
        if packages is not None:
            in_packages: set[str] = set()
            for package in packages:
                in_packages |= self._union(parse_union(f"package:{package}"))
            included &= in_packages
        if view_mode == "changed_models":
            included &= self._union(parse_union("1+state:modified+"))
        return frozenset(included - self.empty)

    def _default(self) -> set[str]:
        return self._union([[parse_criterion(raw)] for raw in DEFAULT_INCLUDES])

    def _union(self, union: list[list[Criterion]]) -> set[str]:
        result: set[str] = set()
        for intersection in union:
            sets = sorted((self._criterion(c) for c in intersection), key=len)
            result |= sets[0].intersection(*sets[1:])
        return result

    def _criterion(self, criterion: Criterion) -> frozenset[str]:
        cached = self._criteria.get(criterion.raw)
        if cached is not None:
            return cached
        collected = self._search(criterion)
        selected = set(collected)
        if criterion.childrens_parents:
            descendants = self._walk(collected, self.children, None) | collected
            selected |= self._walk(descendants, self.parents, None) | descendants
        if criterion.parents:
            selected |= self._walk(collected, self.parents, criterion.parents_depth)
        if criterion.children:
            selected |= self._walk(collected, self.children, criterion.children_depth)
        # dbt's default (eager) indirect selection adds the tests of every selected node.
        test_children = self.test_children
        selected.update(
            chain.from_iterable(map(test_children.__getitem__, selected & test_children.keys()))
        )
        result = frozenset(selected)
        if len(self._criteria) >= RESULT_CACHE_SIZE:
            self._criteria.clear()
        self._criteria[criterion.raw] = result
        return result

    @staticmethod
    def _walk(start: Iterable[str], edges: dict[str, list[str]], depth: int | None) -> set[str]:
        """Graph.select_parents/select_children: nodes reached in up to ``depth`` steps."""
        reached: set[str] = set()
        layer = set(start)
        steps = 0
        while layer and (depth is None or steps < depth):
            layer = {n for uid in layer for n in edges[uid] if n not in reached}
            reached |= layer
            steps += 1
        return reached

    # ---- methods ----

    def _search(self, c: Criterion) -> set[str]:
        return SEARCH[c.method](self, c)

    def of_kinds(self, *kinds: str) -> Iterable[tuple[str, Node]]:
        """The (unique_id, node) pairs of the given kinds (``recce_trio.core.diff.NODE``, ...)."""
        for kind in kinds:
            yield from self._by_kind.get(kind, ())

    def root_packages(self, packages: list[str] | None) -> list[str] | None:
        """``packages`` as given, else Recce's default: the root project's only."""
        if packages is None and self.project_name is not None:
            return [self.project_name]
        return packages

    def prepare(self) -> None:
        """Build state:modified and the page-load selections now (during background load), so
        that the page's first requests are as fast as the next; the tables of the other
        selector methods and the state sub-selectors are built on first use."""
        self.index("package")  # the others are built on first use
        self.state.select("modified", include_removed=self.merge_removed)
        # What the lineage page asks on load (Recce's default package is the root project).
        packages = self.root_packages(None)
        self.select(packages=packages)
        self.select(packages=packages, view_mode="changed_models")

    def index(self, name: str) -> dict[Any, Any]:
        """Lazily built lookup tables (``package``, ``resource_type``, ``tag``, ``fqn``)."""
        table = self._indexes.get(name)
        if table is None:
            table = self._indexes[name] = INDEX_BUILDERS[name](self)
        return table


# ---- selector methods (dbt-core graph/selector_methods.py) ----
