"""What one run needs: both manifests, the engine, progress, cancellation and rendering."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from recce_trio.core.runsql.dialect import SqlDialect
from recce_trio.core.runsql.relations import Relation, RelationResolver
from recce_trio.core.runsql.template import MacroProvider, render_sql
from recce_trio.errors import MacroNotAvailableError, ModelNotFoundError, WarehouseError
from recce_trio.warehouse.engine import CancelToken, Engine, QueryResult

if TYPE_CHECKING:
    from recce_trio.core.artifacts.records import Manifest

ProgressCallback = Callable[[str, float | None], None]


def _no_progress(message: str, percentage: float | None) -> None:
    return None


@dataclass
class RunContext:
    """The inputs of one warehouse run. Only ``base``, ``current`` and ``engine`` are needed.

    - ``progress(message, fraction_or_None)``: called as a multi-step run advances.
    - ``cancel``: cancel it from another thread to stop the run and its statement.
    - ``project_vars`` / ``env`` / ``target``: what ``var()``, ``env_var()`` and ``target``
      see in templates (``target`` must hold no credentials).
    - ``macros``: project and package macros (the dbt extra), else macro calls are refused,
      with ``macro_hint`` (if given) saying how to get them.
    - ``catalog_types(model_name)``: the current catalog's ``{column: type}``, to label float
      columns as Recce does.
    - ``select_nodes(params)``: unique_ids chosen by dbt selector params (``select``,
      ``exclude``, ``packages``, ``view_mode``), for ``row_count_diff`` without a node list.
    - ``build_frames``: the keyed diffs' frames are built a block at a time, as JSON text
      (core/runresults/builder.py), rather than from every row at once; ``packed_frames``:
      their rows stay that text (``msgspec.Raw``, as a server keeps and sends them) rather
      than lists of values.
    """

    base: Manifest
    current: Manifest
    engine: Engine
    progress: ProgressCallback = _no_progress
    cancel: CancelToken = field(default_factory=CancelToken)
    project_vars: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    target: Mapping[str, Any] = field(default_factory=dict)
    macros: MacroProvider | None = None
    macro_hint: str = ""
    catalog_types: Callable[[str], Mapping[str, str]] | None = None
    select_nodes: Callable[[Mapping[str, Any]], Iterable[str]] | None = None
    build_frames: bool = True
    packed_frames: bool = False

    def __post_init__(self) -> None:
        self._small = False
        self.dialect = SqlDialect(self.engine.dialect)
        self._resolvers = {
            "base": RelationResolver(self.base, self.dialect, env_name="base"),
            "current": RelationResolver(self.current, self.dialect, env_name="current"),
        }

    def resolver(self, env_name: str) -> RelationResolver:
        return self._resolvers[env_name]

    def render(self, template: str, env_name: str) -> str:
        """A template rendered against that environment's manifest."""
        self.cancel.check()
        try:
            return render_sql(
                template,
                resolver=self.resolver(env_name),
                project_vars=self.project_vars,
                env=self.env,
                target=self.target,
                macros=self.macros,
            )
        except MacroNotAvailableError as e:
            if not self.macro_hint:
                raise
            raise MacroNotAvailableError(e.macro, hint=self.macro_hint) from None

    def model(self, name: str, env_name: str, *, message: str | None = None) -> Relation:
        """The relation of a model in one environment; ``ModelNotFoundError`` if absent."""
        resolver = self.resolver(env_name)
        node = resolver.find_model(name)
        if node is None:
            raise ModelNotFoundError(
                message or f"Model '{name}' does not exist in {env_name} environment.",
                hint="Check that the model is in the manifest and catalog.",
            )
        return resolver.relation(node)

    def execute(
        self,
        sql: str,
        *,
        limit: int | None = None,
        relation: Relation | None = None,
        bounded: bool = False,
        user: bool = False,
    ) -> QueryResult:
        """Run one statement; a warehouse error names ``relation`` when given. ``bounded``:
        a statement of known, modest needs (a range of a keyed diff, a few columns of a
        profile), run where the engine bounds its memory, if it can (the DuckDB engine's
        ``execute_bounded``). ``user``: the user's own statement (a query run's), run
        where the engine bounds its memory if it safely can (``execute_user``), else as
        any other."""
        self.cancel.check()
        name = "execute_user" if user else "execute_bounded" if bounded else ""
        run = getattr(self.engine, name, None) if name else None
        try:
            if run is not None:
                small = {"small": True} if self._small else {}
                result: QueryResult = run(sql, limit=limit, cancel=self.cancel, **small)
                return result
            return self.engine.execute(sql, limit=limit, cancel=self.cancel)
        except WarehouseError as e:
            if relation is None or e.relation is not None:
                raise
            raise type(e)(
                f"Query on {relation.sql} ({relation.name}) failed: {e.message}",
                relation=relation.sql,
                hint=e.hint,
            ) from None

    def bounded_scope(self) -> contextlib.AbstractContextManager[None]:
        """Around a series of ``bounded`` statements: an engine that bounds them by
        changing its own settings (the dbt engine on DuckDB) changes them once for all."""
        scope = getattr(self.engine, "small_scope" if self._small else "bounded_scope", None)
        if scope is None:
            return contextlib.nullcontext()
        manager: contextlib.AbstractContextManager[None] = scope()
        return manager

    @contextlib.contextmanager
    def small_statements(self, on: bool = True) -> Iterator[None]:
        """Inside (when ``on``), the ``bounded`` statements are small ones: a wide diff's,
        that reads a group of columns each (keyed_wide.py). An engine that bounds memory
        (DuckDB's) runs them under a smaller limit still, which holds less of the table
        cached; one that does not fit there runs again under the ordinary bound."""
        if not on or self._small:
            yield
            return
        scope = getattr(self.engine, "small_scope", None)
        self._small = True
        try:
            with scope() if scope is not None else contextlib.nullcontext():
                yield
        finally:
            self._small = False

    def columns(self, relation: Relation) -> list[tuple[str, str]]:
        """The relation's live columns (name, lower-case warehouse type), in table order."""
        self.cancel.check()
        try:
            return self.engine.columns(relation.sql, cancel=self.cancel)
        except WarehouseError as e:
            raise type(e)(
                f"Cannot read the columns of {relation.sql} ({relation.name}): {e.message}",
                relation=relation.sql,
                hint=e.hint,
            ) from None

    def stamp(self, model: str | None) -> Mapping[str, str]:
        if model is None or self.catalog_types is None:
            return {}
        return self.catalog_types(model)
