"""dbt's node selection (``--select``/``--exclude`` grammar, methods, graph operators) over the
graph Recce builds from the current manifest plus the nodes only the base manifest has."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from itertools import chain
from typing import Any

from recce_trio.artifacts.records import Manifest, Node
from recce_trio.diff import (
    EXPOSURE,
    METRIC,
    NODE,
    SAVED_QUERY,
    SEMANTIC_MODEL,
    SOURCE,
    STATE_CHECKS,
    UNIT_TEST,
    StateComparison,
)
from recce_trio.errors import RecceTrioError

# dbt-core graph/selector_spec.py
RAW_SELECTOR_PATTERN = re.compile(
    r"\A"
    r"(?P<childrens_parents>(\@))?"
    r"(?P<parents>((?P<parents_depth>(\d*))\+))?"
    r"((?P<method>([\w.]+)):)?(?P<value>(.*?))"
    r"(?P<children>(\+(?P<children_depth>(\d*))))?"
    r"\Z"
)
METHODS = (
    "fqn", "tag", "group", "access", "source", "path", "file", "package", "config",
    "test_name", "test_type", "resource_type", "state", "exposure", "metric", "result",
    "source_status", "version", "semantic_model", "saved_query", "unit_test",
)  # fmt: skip
RESOURCE_TYPES = (
    "model", "analysis", "test", "snapshot", "operation", "seed", "rpc", "sql_operation",
    "doc", "source", "macro", "exposure", "metric", "group", "saved_query", "semantic_model",
    "unit_test", "fixture", "function",
)  # fmt: skip
DEFAULT_INCLUDES = ("fqn:*", "source:*", "exposure:*", "metric:*", "semantic_model:*")
_WILDCARD = re.compile(r"[*?\[\]]")
_NAMED = {EXPOSURE: "exposure", METRIC: "metric", SEMANTIC_MODEL: "semantic_model",
          SAVED_QUERY: "saved_query", UNIT_TEST: "unit_test"}  # fmt: skip
_RESULT_CACHE_SIZE = 256


class SelectorError(RecceTrioError, ValueError):
    """A --select/--exclude expression that dbt would reject (or recce-trio cannot evaluate)."""


@dataclass(frozen=True, slots=True)
class Criterion:
    """One selector term, e.g. ``2+tag:nightly+``."""

    raw: str
    method: str
    arguments: tuple[str, ...]
    value: str
    childrens_parents: bool = False
    parents: bool = False
    parents_depth: int | None = None
    children: bool = False
    children_depth: int | None = None


def parse_union(text: str) -> list[list[Criterion]]:
    """``"a b,c"`` -> ``[[a], [b, c]]``: space-separated union of comma-separated intersections."""
    terms = text.split()
    if not terms:
        raise SelectorError(f"selector {text!r} is empty")
    union = []
    for term in terms:
        parts = term.split(",")
        if "" in parts:
            raise SelectorError(f"empty selector between commas in {term!r}")
        union.append([parse_criterion(part) for part in parts])
    return union


def parse_criterion(raw: str) -> Criterion:
    """Parse one term as dbt's ``SelectionCriteria.from_single_spec`` does, but reject the
    typos dbt would silently match nothing with (an empty value, a stray ``+``/``@``)."""
    match = RAW_SELECTOR_PATTERN.match(raw)
    if match is None:
        raise SelectorError(f"invalid selector {raw!r}")
    found = match.groupdict()
    value: str = found["value"]
    if found["childrens_parents"] and found["children"]:
        raise SelectorError(
            f"bad graph operator in {raw!r}: the '@' prefix and a '+' suffix cannot be combined"
        )
    if found["method"] is None:
        method, arguments = _default_method(value), ()
    else:
        method, *rest = found["method"].split(".")
        arguments = tuple(rest)
        if method not in METHODS:
            raise SelectorError(
                f"unknown selector method '{method}:' in {raw!r}; "
                f"expected one of {', '.join(METHODS)}"
            )
    if not value:
        raise SelectorError(f"selector {raw!r} has no value to match")
    if method == "fqn" and (value[0] in "+@" or value[-1] == "+" or "@" in value):
        raise SelectorError(
            f"bad graph operator in {raw!r}: use +name, name+, n+name, name+n or @name"
        )
    _check_value(raw, method, value)
    return Criterion(
        raw=raw,
        method=method,
        arguments=arguments,
        value=value,
        childrens_parents=bool(found["childrens_parents"]),
        parents=bool(found["parents"]),
        parents_depth=int(found["parents_depth"]) if found["parents_depth"] else None,
        children=bool(found["children"]),
        children_depth=int(found["children_depth"]) if found["children_depth"] else None,
    )


def _default_method(value: str) -> str:
    if "/" in value:
        return "path"
    if value.lower().endswith((".sql", ".py", ".csv")):
        return "file"
    return "fqn"


def _check_value(raw: str, method: str, value: str) -> None:
    """The value errors dbt raises while searching, raised while parsing instead."""
    if method == "state" and value not in STATE_CHECKS:
        raise SelectorError(
            f"unknown state selector 'state:{value}' in {raw!r}; "
            f"expected one of {', '.join('state:' + c for c in STATE_CHECKS)}"
        )
    if method == "resource_type" and value not in RESOURCE_TYPES:
        raise SelectorError(
            f"unknown resource type {value!r} in {raw!r}; expected one of "
            f"{', '.join(RESOURCE_TYPES)}"
        )
    if method == "source" and len(value.split(".")) > 3:
        raise SelectorError(
            f"invalid source selector {raw!r}: use source_name, source_name.table_name "
            "or package.source_name.table_name"
        )
    if method in _NAMED.values() and len(value.split(".")) > 2:
        raise SelectorError(f"invalid {method} selector {raw!r}: use name or package.name")
    if method == "version" and value not in ("latest", "prerelease", "old", "none"):
        raise SelectorError(
            f"invalid version selector {raw!r}: expected latest, prerelease, old or none"
        )
    if method == "test_type" and not (
        value in ("generic", "schema") or value in "data" or value in "singular"
        or value in "unit"
    ):  # fmt: skip
        raise SelectorError(
            f"invalid test type selector {raw!r}: expected generic, singular, unit or data"
        )
    if method in ("result", "source_status"):
        raise SelectorError(f"selector {raw!r} needs run results, which recce-trio does not read")


def select_nodes(
    base: Manifest,
    current: Manifest,
    *,
    select: str | None = None,
    exclude: str | None = None,
    packages: list[str] | None = None,
    view_mode: str | None = None,
) -> set[str]:
    """The unique_ids Recce's ``DbtAdapter.select_nodes`` returns (tests included).

    ``packages=None`` applies no package restriction; ``view_mode="changed_models"``
    intersects with ``1+state:modified+``. Raises ``SelectorError`` for a bad expression.
    """
    return SelectionGraph(base, current).select(
        select=select, exclude=exclude, packages=packages, view_mode=view_mode
    )


class SelectionGraph:
    """The merged graph (current nodes, then base-only ones, as Recce merges them) with what
    each selector method reads, so that evaluating a selector only walks sets."""

    def __init__(self, base: Manifest, current: Manifest, *, merge_removed: bool = True) -> None:
        """``merge_removed=False`` leaves base-only nodes out, which is plain dbt's graph
        (``dbt ls --state``) rather than Recce's."""
        self.state = StateComparison(base, current)
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
        """See ``select_nodes``."""
        key = (select, exclude, None if packages is None else tuple(packages), view_mode)
        cached = self._results.get(key)
        if cached is None:
            cached = self._evaluate(select, exclude, packages, view_mode)
            if len(self._results) >= _RESULT_CACHE_SIZE:
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
        if len(self._criteria) >= _RESULT_CACHE_SIZE:
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
        return _SEARCH[c.method](self, c)

    def of_kinds(self, *kinds: str) -> Iterable[tuple[str, Node]]:
        """The (unique_id, node) pairs of the given kinds (``recce_trio.diff.NODE``, ...)."""
        for kind in kinds:
            yield from self._by_kind.get(kind, ())

    def prepare(self) -> None:
        """Build state:modified and the page-load selections now (during background load), so
        that the page's first requests are as fast as the next; the tables of the other
        selector methods and the state sub-selectors are built on first use."""
        self.index("package")  # the others are built on first use
        self.state.select("modified", include_removed=self.merge_removed)
        # What the lineage page asks on load (Recce's default package is the root project).
        packages = [self.project_name] if self.project_name is not None else None
        self.select(packages=packages)
        self.select(packages=packages, view_mode="changed_models")

    def index(self, name: str) -> dict[Any, Any]:
        """Lazily built lookup tables (``package``, ``resource_type``, ``tag``, ``fqn``)."""
        table = self._indexes.get(name)
        if table is None:
            table = self._indexes[name] = _INDEX_BUILDERS[name](self)
        return table


# ---- selector methods (dbt-core graph/selector_methods.py) ----


def _by_pattern(table: dict[Any, set[str]], pattern: str) -> set[str]:
    if not _WILDCARD.search(pattern):
        return set(table.get(pattern, ()))
    found: set[str] = set()
    for key, ids in table.items():
        if isinstance(key, str) and fnmatchcase(key, pattern):
            found |= ids
    return found


def _index_package(graph: SelectionGraph) -> dict[Any, set[str]]:
    table: dict[Any, set[str]] = {}
    for uid, (_, node) in graph.nodes.items():
        table.setdefault(node.package_name, set()).add(uid)
    return table


def _index_resource_type(graph: SelectionGraph) -> dict[Any, set[str]]:
    table: dict[Any, set[str]] = {}
    for uid, (_, node) in graph.nodes.items():
        table.setdefault(node.resource_type, set()).add(uid)
    return table


def _index_tag(graph: SelectionGraph) -> dict[Any, set[str]]:
    table: dict[Any, set[str]] = {}
    for uid, (kind, node) in graph.nodes.items():
        if kind == SEMANTIC_MODEL:
            continue  # semantic models have no tags
        tags = node.config.get("tags", []) if kind == UNIT_TEST else node.tags
        for tag in [tags] if isinstance(tags, str) else tags:
            table.setdefault(tag, set()).add(uid)
    return table


def _fqn_targets(graph: SelectionGraph) -> Iterable[tuple[str, Node, bool]]:
    for uid, (kind, node) in graph.nodes.items():
        if kind != SOURCE and node.fqn:
            versioned = node.resource_type == "model" and node.version is not None
            yield uid, node, versioned


def _index_fqn(graph: SelectionGraph) -> dict[Any, set[str]]:
    """Keys: ("leaf", name); ("versioned",): versioned models, matched the slow way; and
    ("rows",): (uid, leaf, joined fqn, joined unscoped fqn) of the others, for scans."""
    table: dict[Any, Any] = {("rows",): []}
    for uid, node, versioned in _fqn_targets(graph):
        if versioned:
            table.setdefault(("versioned",), set()).add(uid)
            continue
        table.setdefault(("leaf", node.fqn[-1]), set()).add(uid)
        table[("rows",)].append((uid, node.fqn[-1], ".".join(node.fqn), ".".join(node.fqn[1:])))
    return table


def is_selected_node(fqn: list[str], node_selector: str, is_versioned: bool) -> bool:
    """dbt's fqn matching of one (scoped or unscoped) fqn."""
    if not fqn:
        return False
    if is_versioned:
        flat_node_selector = node_selector.split(".")
        if len(fqn) >= 2 and fqn[-2] == node_selector:
            return True
        if "_".join(fqn[-2:]) == "_".join(flat_node_selector[-2:]):
            return True
    elif fqn[-1] == node_selector:
        return True
    flat_fqn = [item for segment in fqn for item in segment.split(".")]
    parts = node_selector.split(".")
    if len(flat_fqn) < len(parts):
        return False
    slurp_from_ix = None
    for i, part in enumerate(parts):
        if _WILDCARD.search(part):
            slurp_from_ix = i
            break
        if flat_fqn[i] != part:
            return False
    if slurp_from_ix is None:
        return True
    if fnmatchcase(".".join(flat_fqn[slurp_from_ix:]), ".".join(parts[slurp_from_ix:])):
        return True
    if "." not in node_selector:
        leaf = fqn[-2] if is_versioned and len(fqn) >= 2 else fqn[-1]
        return fnmatchcase(leaf, node_selector)
    return False


def _search_fqn(graph: SelectionGraph, c: Criterion) -> set[str]:
    value = c.value
    if value == "*":
        return set(graph.index("fqn_all")[None])
    if _WILDCARD.search(value):
        if "." in value:
            return {
                uid
                for uid, node, versioned in _fqn_targets(graph)
                if is_selected_node(node.fqn, value, versioned)
                or is_selected_node(node.fqn[1:], value, versioned)
            }
        # is_selected_node for a dotless pattern, over precomputed joined fqns.
        match = re.compile(fnmatch.translate(value)).match
        table = graph.index("fqn")
        found = {
            uid
            for uid, leaf, scoped, unscoped in table[("rows",)]
            if leaf == value or match(scoped) or (unscoped and match(unscoped)) or match(leaf)
        }
        for uid in table.get(("versioned",), ()):
            fqn = graph.nodes[uid][1].fqn
            if is_selected_node(fqn, value, True) or is_selected_node(fqn[1:], value, True):
                found.add(uid)
        return found
    table = graph.index("fqn")
    found = set(table.get(("leaf", value), ()))
    # The selector's parts are a prefix of the (flattened, scoped or unscoped) fqn.
    prefix = value + "."
    found.update(
        uid
        for uid, _, scoped, unscoped in table[("rows",)]
        if scoped == value or unscoped == value
        or scoped.startswith(prefix) or unscoped.startswith(prefix)
    )  # fmt: skip
    for uid in table.get(("versioned",), ()):
        fqn = graph.nodes[uid][1].fqn
        if is_selected_node(fqn, value, True) or is_selected_node(fqn[1:], value, True):
            found.add(uid)
    return found


def _search_tag(graph: SelectionGraph, c: Criterion) -> set[str]:
    return _by_pattern(graph.index("tag"), c.value)


def _search_package(graph: SelectionGraph, c: Criterion) -> set[str]:
    value = c.value
    if value == "this" and graph.project_name is not None:
        value = graph.project_name
    return _by_pattern(graph.index("package"), value)


def _search_resource_type(graph: SelectionGraph, c: Criterion) -> set[str]:
    return set(graph.index("resource_type").get(c.value, ()))


def _search_group(graph: SelectionGraph, c: Criterion) -> set[str]:
    return {
        uid for uid, node in graph.of_kinds(NODE, METRIC)
        if isinstance(group := node.config.get("group"), str) and group
        and fnmatchcase(group, c.value)
    }  # fmt: skip


def _search_access(graph: SelectionGraph, c: Criterion) -> set[str]:
    return {
        uid for uid, node in graph.of_kinds(NODE)
        if node.resource_type == "model" and node.access == c.value
    }  # fmt: skip


def _search_source(graph: SelectionGraph, c: Criterion) -> set[str]:
    parts = c.value.split(".")
    package, source, table = "*", parts[0], "*"
    if len(parts) == 2:
        source, table = parts
    elif len(parts) == 3:
        package, source, table = parts
    return {
        uid for uid, node in graph.of_kinds(SOURCE)
        if fnmatchcase(node.package_name, package)
        and fnmatchcase(node.source_name or "", source)
        and fnmatchcase(node.name, table)
    }  # fmt: skip


def _search_named(graph: SelectionGraph, c: Criterion) -> set[str]:
    kind = next(k for k, method in _NAMED.items() if method == c.method)
    package, _, name = c.value.rpartition(".")
    package = package or "*"
    return {
        uid for uid, node in graph.of_kinds(kind)
        if fnmatchcase(node.package_name, package) and fnmatchcase(node.name, name)
    }  # fmt: skip


def _index_file(graph: SelectionGraph) -> dict[Any, set[str]]:
    """File names and stems (``Path.name``/``Path.stem``) of each node's original file."""
    table: dict[Any, set[str]] = {}
    for uid, (_, node) in graph.nodes.items():
        name = node.original_file_path.replace("\\", "/").rsplit("/", 1)[-1]
        stem = name.rsplit(".", 1)[0] if "." in name[1:] else name
        table.setdefault(name, set()).add(uid)
        table.setdefault(stem, set()).add(uid)
    return table


def _index_path(graph: SelectionGraph) -> dict[Any, set[str]]:
    """``(parts, is_dir)`` of every file a node comes from or is documented in, and of every
    folder above its file, mapped to the nodes that path selects."""
    table: dict[Any, set[str]] = {}
    for uid, (_, node) in graph.nodes.items():
        ofp = _path_parts(node.original_file_path)
        table.setdefault((ofp, False), set()).add(uid)
        for end in range(1, len(ofp)):
            table.setdefault((ofp[:end], True), set()).add(uid)
        if node.patch_path and "://" in node.patch_path:
            patch = _path_parts(node.patch_path.split("://", 1)[1])
            table.setdefault((patch, False), set()).add(uid)
    return table


def _search_file(graph: SelectionGraph, c: Criterion) -> set[str]:
    return _by_pattern(graph.index("file"), c.value)


def _search_path(graph: SelectionGraph, c: Criterion) -> set[str]:
    """dbt globs the project directory; recce-trio has only the manifest, so the glob runs
    over the files the nodes came from (and their folders). As ``Path.glob`` does, a pattern
    ending in ``/`` or ``**`` matches folders only."""
    pattern = _path_parts(c.value)
    dirs_only = c.value.endswith("/") or (bool(pattern) and pattern[-1] == "**")
    found: set[str] = set()
    for (parts, is_dir), ids in graph.index("path").items():
        if (is_dir or not dirs_only) and _glob_match(pattern, parts):
            found |= ids
    return found


def _path_parts(path: str) -> tuple[str, ...]:
    return tuple(p for p in path.replace("\\", "/").split("/") if p not in ("", "."))


def _glob_match(pattern: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_glob_match(rest, parts[skip:]) for skip in range(len(parts) + 1))
    return bool(parts) and fnmatchcase(parts[0], head) and _glob_match(rest, parts[1:])


_HOOK_KEYS = {"pre_hook": "pre-hook", "post_hook": "post-hook"}


def _search_config(graph: SelectionGraph, c: Criterion) -> set[str]:
    selector = c.value
    case_insensitive = c.arguments == ("severity",)
    is_true, is_false = selector.upper() == "TRUE", selector.upper() == "FALSE"
    found = set()
    for uid, node in graph.of_kinds(NODE, SOURCE):
        value: Any = node.config
        try:
            for attr in c.arguments:
                if isinstance(value, dict) and attr not in value and attr in _HOOK_KEYS:
                    attr = _HOOK_KEYS[attr]
                value = value[attr]
        except (KeyError, TypeError, IndexError):
            continue
        if isinstance(value, list):
            hit = (
                (any(_ci_equal(selector, v) for v in value) if case_insensitive
                 else selector in value)
                or (is_true and True in value)
                or (is_false and False in value)
            )  # fmt: skip
        else:
            hit = (
                (_ci_equal(selector, value) if case_insensitive else selector == value)
                or (is_true and value is True)
                or (is_false and value is False)
            )
        if hit:
            found.add(uid)
    return found


def _ci_equal(selector: str, value: Any) -> bool:
    return isinstance(value, str) and selector.upper() == value.upper()


def _search_test_name(graph: SelectionGraph, c: Criterion) -> set[str]:
    found = set()
    for uid, (kind, node) in graph.nodes.items():
        if kind == NODE and node.resource_type == "test" and node.test_metadata is not None:
            if fnmatchcase(node.test_metadata.name, c.value):
                found.add(uid)
        elif kind == UNIT_TEST and fnmatchcase(node.name, c.value):
            found.add(uid)
    return found


def _search_test_type(graph: SelectionGraph, c: Criterion) -> set[str]:
    value = c.value
    # dbt tests `value in ("data")`, a substring test on a string: kept as dbt has it.
    if value in ("generic", "schema"):
        wanted = {"generic"}
    elif value in "data":
        wanted = {"generic", "singular"}
    elif value in "singular":
        wanted = {"singular"}
    else:
        wanted = {"unit"}
    found = set()
    for uid, (kind, node) in graph.nodes.items():
        if kind == UNIT_TEST:
            test_type = "unit"
        elif kind == NODE and node.resource_type == "test":
            test_type = "generic" if node.test_metadata is not None else "singular"
        else:
            continue
        if test_type in wanted:
            found.add(uid)
    return found


def _search_state(graph: SelectionGraph, c: Criterion) -> set[str]:
    hits = graph.state.select(c.value, include_removed=graph.merge_removed)
    return set(hits & graph.nodes.keys())


def _version_key(version: Any) -> tuple[int, Any]:
    try:
        return (0, float(version))
    except (TypeError, ValueError):
        return (1, str(version))


def _version_less(a: Any, b: Any) -> bool:
    # UnparsedVersion.__lt__: numeric if both parse as floats, else as strings.
    ka, kb = _version_key(a), _version_key(b)
    if ka[0] == 0 and kb[0] == 0:
        return bool(ka[1] < kb[1])
    return str(a) < str(b)


def _search_version(graph: SelectionGraph, c: Criterion) -> set[str]:
    found = set()
    for uid, node in graph.of_kinds(NODE):
        if node.resource_type != "model":
            continue
        version, latest = node.version, node.latest_version
        if c.value == "latest":
            hit = version is not None and version == latest
        elif c.value == "prerelease":
            hit = bool(version and latest and _version_less(latest, version))
        elif c.value == "old":
            hit = bool(version and latest and _version_less(version, latest))
        else:
            hit = version is None
        if hit:
            found.add(uid)
    return found


_SEARCH = {
    "fqn": _search_fqn,
    "tag": _search_tag,
    "group": _search_group,
    "access": _search_access,
    "source": _search_source,
    "path": _search_path,
    "file": _search_file,
    "package": _search_package,
    "config": _search_config,
    "test_name": _search_test_name,
    "test_type": _search_test_type,
    "resource_type": _search_resource_type,
    "state": _search_state,
    "exposure": _search_named,
    "metric": _search_named,
    "semantic_model": _search_named,
    "saved_query": _search_named,
    "unit_test": _search_named,
    "version": _search_version,
}

_INDEX_BUILDERS = {
    "file": _index_file,
    "path": _index_path,
    "fqn_all": lambda graph: {None: {uid for uid, _, _ in _fqn_targets(graph)}},
    "package": _index_package,
    "resource_type": _index_resource_type,
    "tag": _index_tag,
    "fqn": _index_fqn,
}
