"""dbt's selector methods (``fqn``, ``tag``, ``path``, ``state`` ...): each finds its nodes."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from recce_trio.core.artifacts.records import Node
from recce_trio.core.samecheck import METRIC, NODE, SEMANTIC_MODEL, SOURCE, UNIT_TEST
from recce_trio.core.selector.grammar import NAMED_KINDS, WILDCARD, Criterion, is_selected_node

if TYPE_CHECKING:
    from recce_trio.core.selector.graph import SelectionGraph


def _by_pattern(table: dict[Any, set[str]], pattern: str) -> set[str]:
    if not WILDCARD.search(pattern):
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


def _search_fqn(graph: SelectionGraph, c: Criterion) -> set[str]:
    value = c.value
    if value == "*":
        return set(graph.index("fqn_all")[None])
    if WILDCARD.search(value):
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
    kind = next(k for k, method in NAMED_KINDS.items() if method == c.method)
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


SEARCH = {
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

INDEX_BUILDERS = {
    "file": _index_file,
    "path": _index_path,
    "fqn_all": lambda graph: {None: {uid for uid, _, _ in _fqn_targets(graph)}},
    "package": _index_package,
    "resource_type": _index_resource_type,
    "tag": _index_tag,
    "fqn": _index_fqn,
}
