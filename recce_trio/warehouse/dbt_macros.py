"""Project and package macros in templates, through dbt (the ``dbt`` extra).

Each environment's macros are the ``macros`` of its own ``manifest.json`` (the root project's,
its packages' and the adapter's, as that manifest was compiled): the base side renders with the
base manifest's macros, the current side with the current one's. dbt builds the context
(``generate_runtime_macro_context`` over a ``MacroManifest``): root-project macros by name,
package macros as ``pkg.macro``, ``adapter.dispatch``, ``run_query``, ``exceptions``... and the
live adapter. ``ref()`` and ``source()`` come from recce-trio's manifests, as dbt Relations.

dbt-core is imported inside the functions, in the worker thread that renders (this module is
imported by ``dbt_engine`` when a dbt engine makes its first provider). The user's template
stays in recce-trio's Jinja sandbox; the manifest's macros run in dbt's own environment, as
``dbt run`` runs them (itself a Jinja sandbox).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from recce_trio.errors import (
    MacroNotFoundError,
    RecceTrioError,
    TemplateError,
    WarehouseError,
)
from recce_trio.warehouse.engine import CancelToken

if TYPE_CHECKING:
    from recce_trio.core.runsql.relations import Relation, RelationResolver

# Where each environment's manifest comes from: its file, the bytes kept in a state file, or
# nothing (``(env, "manifest")`` keys, as the server's and ``run``'s artifact sources).
ManifestSource = Path | bytes | None

# Relation types dbt knows, from a node's materialization.
_RELATION_TYPES = {"view": "view", "table": "table", "incremental": "table", "seed": "table"}
_RELATION_TYPES |= {"snapshot": "table", "materialized_view": "materialized_view"}


class _DependsOn(msgspec.Struct):
    macros: list[str] = []


class _MacroJson(msgspec.Struct):
    unique_id: str
    name: str
    package_name: str
    macro_sql: str = ""
    path: str = ""
    original_file_path: str = ""
    depends_on: _DependsOn = msgspec.field(default_factory=_DependsOn)


class _Macros(msgspec.Struct):
    macros: dict[str, _MacroJson] = {}


_DECODER = msgspec.json.Decoder(_Macros)


def read_macros(source: Path | bytes) -> dict[str, _MacroJson]:
    """The ``macros`` of a manifest.json (everything else is skipped unread)."""
    raw = source.read_bytes() if isinstance(source, Path) else source
    try:
        return _DECODER.decode(raw).macros
    except msgspec.DecodeError as e:
        raise TemplateError(f"The manifest's macros cannot be read: {e}") from None


def _source_key(source: Path | bytes) -> tuple[Any, ...]:
    """What identifies one version of a source: a file's path, size and mtime; bytes (from a
    state file) themselves (compared by identity first, so cheaply)."""
    if isinstance(source, Path):
        try:
            st = source.stat()
        except OSError:
            return (str(source), None)
        return (str(source), st.st_size, st.st_mtime_ns)
    return ("bytes", source)


class DbtMacroLibrary:
    """Each environment's macros as dbt ``MacroManifest``s, built on first use and kept while
    the manifest stays the same (one per engine: building one parses nothing, but makes a dbt
    node per macro)."""

    def __init__(self, adapter: Any) -> None:
        self.adapter = adapter
        self._lock = threading.Lock()
        self._built: dict[str, tuple[tuple[Any, ...], Any]] = {}

    def manifest(self, env_name: str, source: ManifestSource) -> Any:
        """The env's ``MacroManifest``; ``TemplateError`` if its manifest is not at hand."""
        if source is None:
            raise TemplateError(
                f"The {env_name} manifest's macros are not available (no manifest.json).",
                hint="Build that environment's artifacts with `dbt parse` or `dbt docs generate`.",
            )
        key = _source_key(source)
        with self._lock:
            built = self._built.get(env_name)
            if built is not None and built[0] == key:
                return built[1]
        try:
            macros = read_macros(source)
        except FileNotFoundError:
            raise TemplateError(f"The {env_name} manifest.json is gone.") from None
        manifest = _macro_manifest(macros)
        with self._lock:
            self._built[env_name] = (key, manifest)
            _declare_packages(self.adapter.config, manifest.get_macros_by_package())
            if env_name == "current":
                # Adapter methods that run macros themselves (get_columns_in_relation...) use
                # one manifest: the current one, as dbt would in the current project.
                from dbt.context.providers import generate_runtime_macro_context

                self.adapter.set_macro_context_generator(generate_runtime_macro_context)
                self.adapter.set_macro_resolver(manifest)
        return manifest


def _declare_packages(config: Any, packages: Iterable[str]) -> None:
    """Make every package of a manifest one the project depends on, for ``adapter.dispatch``
    (which searches a package's macros only if it is a dependency): the manifest has them
    even where the project folder has not (``dbt deps`` not run there, or a package only the
    base branch uses)."""
    from dbt_common.exceptions import DbtRuntimeError

    try:
        dependencies = dict(config.load_dependencies())
    except DbtRuntimeError:  # packages.yml names packages that are not installed
        dependencies = {config.project_name: config}
    for name in packages:
        dependencies.setdefault(name, config)
    config.dependencies = dependencies


def _macro_manifest(macros: Mapping[str, _MacroJson]) -> Any:
    from dbt.contracts.graph.manifest import MacroManifest
    from dbt.contracts.graph.nodes import Macro

    nodes = {}
    for uid, m in macros.items():
        nodes[uid] = Macro.from_dict(
            {
                "unique_id": m.unique_id,
                "name": m.name,
                "resource_type": "macro",
                "package_name": m.package_name,
                "path": m.path,
                "original_file_path": m.original_file_path,
                "macro_sql": m.macro_sql,
                "depends_on": {"macros": list(m.depends_on.macros)},
            }
        )
    manifest = MacroManifest(nodes)
    # dbt's env_var() notes what it read here, for partial parsing; nothing reads it back.
    manifest.env_vars = {}
    manifest.files = {}
    return manifest


class _Package:
    """A package's macros as the user's template sees them: ``pkg.macro(...)``; an unknown
    name fails naming ``pkg.name`` when called."""

    def __init__(self, name: str, macros: Mapping[str, Any], env_name: str) -> None:
        self._name = name
        self._macros = macros
        self._env_name = env_name

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __getitem__(self, name: str) -> Any:
        macro = self._macros.get(name)
        if macro is not None:
            return macro
        return _MissingMacro(f"{self._name}.{name}", self._env_name)

    def __contains__(self, name: object) -> bool:
        return name in self._macros

    def __str__(self) -> str:
        return self._name


class _MissingMacro:
    """``pkg.name`` that the package lacks: calling or printing it fails, naming it."""

    def __init__(self, name: str, env_name: str) -> None:
        self._name, self._env_name = name, env_name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise MacroNotFoundError(self._name, self._env_name)

    def __str__(self) -> str:
        raise MacroNotFoundError(self._name, self._env_name)


class DbtMacroProvider:
    """The ``MacroProvider`` of one run: dbt's macro context per environment, rendered on a
    connection of the run's own (adapter methods run statements), cancelled with the run."""

    def __init__(
        self,
        engine: Any,
        library: DbtMacroLibrary,
        sources: Mapping[str, ManifestSource],
        cancel: CancelToken,
    ) -> None:
        self._engine = engine
        self._library = library
        self._sources = sources
        self._cancel = cancel

    def render(self, resolver: RelationResolver, render: Callable[[Mapping[str, Any]], str]) -> str:
        """``render`` called with dbt's context for ``resolver``'s environment."""
        env_name = resolver.env_name
        # The current manifest first: the adapter's own macro calls resolve in it.
        manifest = self._library.manifest("current", self._sources.get("current"))
        if env_name != "current":
            manifest = self._library.manifest(env_name, self._sources.get(env_name))
        with self._dbt_errors():
            return str(
                self._engine.on_connection(
                    self._cancel, lambda: render(self._context(manifest, resolver))
                )
            )

    def _context(self, manifest: Any, resolver: RelationResolver) -> dict[str, Any]:
        from dbt.context.providers import generate_runtime_macro_context
        from dbt.contracts.graph.nodes import Macro

        adapter = self._library.adapter
        project = adapter.config.project_name
        template = Macro.from_dict(
            {
                "unique_id": f"macro.{project}.recce_trio_sql_template",
                "name": "recce_trio_sql_template",
                "resource_type": "macro",
                "package_name": project,
                "path": "",
                "original_file_path": "",
                "macro_sql": "",
            }
        )
        ctx: dict[str, Any] = generate_runtime_macro_context(
            template, adapter.config, manifest, None
        )
        as_dbt = _relation_maker(adapter)

        def ref(*args: Any, **kwargs: Any) -> Any:
            if not 1 <= len(args) <= 2:
                raise TemplateError(f"ref() takes a model name and an optional package, not {args}")
            package, name = (args[0], args[1]) if len(args) == 2 else (None, args[0])
            version = kwargs.get("v", kwargs.get("version"))
            return as_dbt(resolver.ref(name, package=package, version=version))

        def source(source_name: str, table_name: str) -> Any:
            return as_dbt(resolver.source(source_name, table_name))

        # The manifest's macros see these too (``ctx`` is their globals).
        ctx.update(ref=ref, source=source, is_incremental=lambda: False)
        packages = set(manifest.get_macros_by_package())
        view = {
            name: _Package(name, value, resolver.env_name)
            if name in packages and isinstance(value, dict)
            else value
            for name, value in ctx.items()
        }
        return view

    @contextmanager
    def _dbt_errors(self) -> Iterator[None]:
        from dbt_common.exceptions import CompilationError, DbtDatabaseError, DbtRuntimeError

        try:
            yield
        except RecceTrioError:
            raise
        except CompilationError as e:
            raise TemplateError(f"A macro failed: {_first_lines(e)}") from None
        except DbtDatabaseError as e:
            raise WarehouseError(_first_lines(e)) from None
        except DbtRuntimeError as e:
            raise TemplateError(
                f"dbt could not render the SQL template: {_first_lines(e)}"
            ) from None


def _relation_maker(adapter: Any) -> Callable[[Relation], Any]:
    relation_class = adapter.Relation
    from dbt_common.utils import deep_merge

    policy = deep_merge(
        relation_class.get_default_quote_policy().to_dict(omit_none=True),
        dict(adapter.config.quoting),
    )

    def make(relation: Relation) -> Any:
        return relation_class.create(
            database=relation.database,
            schema=relation.schema,
            identifier=relation.identifier,
            type=_RELATION_TYPES.get(relation.materialized or ""),
            quote_policy=policy,
        )

    return make


def _first_lines(e: Exception) -> str:
    """dbt's message without its trailing macro stack (``> in macro ...`` lines)."""
    msg = getattr(e, "msg", None) or str(e)
    lines = [line for line in str(msg).strip().splitlines() if not line.strip().startswith(">")]
    return " ".join(line.strip() for line in lines if line.strip()) or type(e).__name__
