"""The SQL that column-level lineage reads for a model: dbt's compiled code where the manifest
has it, otherwise the raw code rendered with ``ref()`` and ``source()`` pointing at the parents.

Rendering has no dbt: no adapter, no project macros (the manifest keeps only their digests), no
warehouse. ``ref``, ``source``, ``config``, ``var`` (its default), ``env_var`` (its default),
``is_incremental()`` (false) and ``this`` work; any other name renders as nothing, and the
lineage of a model whose SQL then does not parse is ``unknown`` with the macros named.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from jinja2 import ChainableUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from recce_trio.core.artifacts.records import Manifest, Node
from recce_trio.core.cll.macros import cross_database_macros

COMPILED, RENDERED = "compiled", "rendered"
_CALLED = re.compile(r"\{\{-?\s*([A-Za-z_][\w.]*)\s*\(")
_PROVIDED = frozenset(
    {"ref", "source", "config", "var", "env_var", "is_incremental", "this", "return"}
) | frozenset(cross_database_macros(""))


@dataclass(frozen=True, slots=True)
class ModelSql:
    """``sql`` is None when there is none to read (``reason`` says why). ``refs`` maps the
    placeholder table names that rendering wrote for ``ref``/``source`` (lower case) to the
    unique_id they stand for."""

    sql: str | None
    origin: str = ""
    refs: dict[str, str] = field(default_factory=dict)
    reason: str | None = None


# What an unknown macro renders as: an identifier no relation or column has, so the columns
# built from it have an unknown lineage while the rest of the query still parses.
UNKNOWN_MACRO = "__cll_unknown_macro__"


class _Lenient(ChainableUndefined):
    """An unknown name (a macro, ``adapter``, ``target``...): attributes and calls give itself,
    iteration gives nothing, it is false, and it renders as ``UNKNOWN_MACRO``."""

    def __call__(self, *args: Any, **kwargs: Any) -> _Lenient:  # type: ignore[override]
        return self

    def __str__(self) -> str:
        return UNKNOWN_MACRO


_local = threading.local()


def _environment() -> SandboxedEnvironment:
    env: SandboxedEnvironment | None = getattr(_local, "env", None)
    if env is None:
        env = SandboxedEnvironment(undefined=_Lenient, extensions=["jinja2.ext.do"])
        _local.env = env
    return env


def placeholder(uid: str) -> str:
    """The table name rendering writes for a ref or source: its unique_id with every
    character that is not a letter, digit or underscore made ``_`` (as Recce does with dots)."""
    return re.sub(r"\W", "_", uid).lower()


def model_sql(
    node: Node, manifest: Manifest, *, prefer_compiled: bool = True, dialect: str = ""
) -> ModelSql:
    """The SQL to analyse for ``node`` (a model or snapshot of ``manifest``)."""
    if (node.language or "sql") != "sql":
        return ModelSql(None, reason=f"a {node.language} model has no SQL to analyse")
    if prefer_compiled and node.compiled_code and node.compiled_code.strip():
        return ModelSql(node.compiled_code, COMPILED)
    raw = node.raw_code
    if not raw or not raw.strip():
        return ModelSql(None, reason="the manifest has no SQL for this node")
    return render_raw(node, manifest, dialect)


class _Namespace:
    """``dbt`` / ``dbt_utils`` in templates: the stand-in macros, anything else lenient."""

    def __init__(self, macros: dict[str, Any]) -> None:
        self._macros = macros

    def __getattr__(self, name: str) -> Any:
        return self._macros.get(name, _Lenient(name=name))


def render_raw(node: Node, manifest: Manifest, dialect: str = "") -> ModelSql:
    """``node.raw_code`` rendered with ref/source pointing at placeholder tables."""
    raw = node.raw_code or ""
    refs: dict[str, str] = {}
    parents = [p for p in node.depends_on.nodes if p]

    def ref(*args: Any, **kwargs: Any) -> str:
        if not args:
            return ""
        name = str(args[-1])
        package = str(args[0]) if len(args) > 1 else None
        version = kwargs.get("v", kwargs.get("version"))
        uid = _find_ref(manifest, parents, name, package, version)
        if uid is None:
            return name
        key = placeholder(uid)
        refs[key] = uid
        return key

    def source(source_name: Any, table_name: Any) -> str:
        uid = _find_source(manifest, parents, str(source_name), str(table_name))
        if uid is None:
            return f"{source_name}.{table_name}"
        key = placeholder(uid)
        refs[key] = uid
        return key

    def var(_name: Any, default: Any = "") -> Any:
        return default

    def env_var(_name: Any, default: Any = "") -> Any:
        return default

    macros = cross_database_macros(dialect)
    namespace = _Namespace(macros)
    context = {
        **macros,
        "dbt": namespace,
        "dbt_utils": namespace,
        "ref": ref,
        "source": source,
        "config": lambda *a, **k: "",
        "var": var,
        "env_var": env_var,
        "is_incremental": lambda: False,
        "this": node.relation_name or node.alias or node.name,
        "execute": False,
    }
    try:
        sql = _environment().from_string(raw).render(context)
    except (TemplateError, ArithmeticError, LookupError, TypeError, ValueError) as exc:
        return ModelSql(None, reason=f"the raw code does not render without dbt: {exc}")
    return ModelSql(sql, RENDERED, refs)


def missing_macros(raw_code: str | None) -> list[str]:
    """The names the raw code calls that rendering without dbt cannot provide."""
    names = {m.group(1) for m in _CALLED.finditer(raw_code or "")}
    return sorted(n for n in names if not _provided(n))


def _provided(name: str) -> bool:
    head, _, tail = name.partition(".")
    if head in ("dbt", "dbt_utils") and tail:
        return tail in _PROVIDED
    return head in _PROVIDED


def _find_ref(
    manifest: Manifest, parents: list[str], name: str, package: str | None, version: Any
) -> str | None:
    def matches(uid: str) -> bool:
        node = manifest.nodes.get(uid)
        if node is None or node.name != name:
            return False
        if package is not None and node.package_name != package:
            return False
        return version is None or str(node.version) == str(version)

    found = [p for p in parents if matches(p)]
    if not found:
        found = [uid for uid in manifest.nodes if matches(uid)]
    if len(found) > 1 and version is None:
        # A versioned model: the bare ref means its latest version.
        latest = [u for u in found if _is_latest(manifest.nodes[u])]
        found = latest or found
    return found[0] if found else None


def _is_latest(node: Node) -> bool:
    return node.latest_version is None or str(node.version) == str(node.latest_version)


def _find_source(
    manifest: Manifest, parents: list[str], source_name: str, table: str
) -> str | None:
    for uid in parents:
        src = manifest.sources.get(uid)
        if src is not None and src.source_name == source_name and src.name == table:
            return uid
    for uid, src in manifest.sources.items():
        if src.source_name == source_name and src.name == table:
            return uid
    return None
