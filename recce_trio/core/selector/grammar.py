"""dbt's selector grammar: ``--select``/``--exclude`` text parsed into criteria as dbt does."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

from recce_trio.core.samecheck import EXPOSURE, METRIC, SAVED_QUERY, SEMANTIC_MODEL, UNIT_TEST
from recce_trio.core.state_rules import STATE_CHECKS
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
WILDCARD = re.compile(r"[*?\[\]]")
NAMED_KINDS = {EXPOSURE: "exposure", METRIC: "metric", SEMANTIC_MODEL: "semantic_model",
          SAVED_QUERY: "saved_query", UNIT_TEST: "unit_test"}  # fmt: skip
RESULT_CACHE_SIZE = 256


class SelectorError(RecceTrioError, ValueError):
    """A --select/--exclude expression that dbt would reject (or recce-trio cannot evaluate)."""

    status = 400  # a client's mistake when it ends a request


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
    if method in NAMED_KINDS.values() and len(value.split(".")) > 2:
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
        if WILDCARD.search(part):
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
