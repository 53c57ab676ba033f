"""Any other warehouse, through the dbt adapter the user has installed (the ``dbt`` extra).

dbt-core is imported here (and by ``dbt_macros``, for templates that call macros) only, when
the engine is opened (in a worker thread, on the first warehouse run): never at startup.
Statements go through the adapter's own connections.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from recce_trio.core.runsql import plain_scan
from recce_trio.core.runsql.dialect import SqlDialect
from recce_trio.errors import (
    RecceTrioError,
    RunCancelledError,
    WarehouseConnectError,
    WarehouseError,
)
from recce_trio.warehouse.dbt_limits import READ, BoundedLimits, profile_sets_limits
from recce_trio.warehouse.engine import (
    CancelToken,
    CursorStream,
    QueryResult,
    RowStream,
    missing_driver,
    unique_names,
)

if TYPE_CHECKING:
    from recce_trio.warehouse.dbt_macros import DbtMacroLibrary, DbtMacroProvider, ManifestSource
    from recce_trio.warehouse.profiles import WarehouseTarget

T = TypeVar("T")

# sqlglot dialects of adapter types whose names differ (the rest are the same).
_DIALECTS = {"sqlserver": "tsql", "synapse": "tsql", "fabric": "tsql", "glue": "spark"}
# Rows a streaming fetchmany asks of the driver at a time: the drivers under dbt's adapters
# read a buffered result locally (dbt-duckdb's DuckDB converts them with the interpreter held).
FETCH_PIECE = 500


def open_dbt_adapter(target: WarehouseTarget) -> DbtAdapterEngine:
    """The dbt adapter for the target, configured from the project and profiles as dbt would."""
    if target.project_dir is None:
        raise WarehouseConnectError(
            f"The {target.describe()} needs the dbt project folder to open its adapter.",
            hint="Run recce-trio from the dbt project folder, or pass --project-dir.",
        )
    try:
        from dbt.adapters.factory import get_adapter, register_adapter, reset_adapters
        from dbt.config.runtime import RuntimeConfig
        from dbt.flags import set_from_args
        from dbt.mp_context import get_mp_context
    except ImportError:
        raise missing_driver("dbt-core", "dbt") from None
    args = argparse.Namespace(
        project_dir=str(target.project_dir),
        profiles_dir=str(target.profiles_path.parent),
        profile=target.profile,
        target=target.target,
        vars={},
        threads=target.threads,
        single_threaded=False,
        which="run-operation",
    )
    try:
        set_from_args(args, None)
        try:
            from dbt_common.context import set_invocation_context

            set_invocation_context(os.environ)
        except ImportError:  # dbt-core < 1.8
            pass
        config = RuntimeConfig.from_args(args)
        reset_adapters()
        register_adapter(config, get_mp_context())
        adapter = get_adapter(config)
    except Exception as e:
        raise WarehouseConnectError(
            f"dbt could not set up the adapter for {target.describe()} ({type(e).__name__}).",
            hint="Check that `dbt debug` works for this profile and target.",
        ) from None
    # dbt's modules, classes and adapter (some 130,000 objects) live until the process ends:
    # keep them out of the cyclic collector's full collections, each of which would scan them
    # all with the interpreter held (100-200 ms in a server: the event loop would stall).
    gc.freeze()
    return DbtAdapterEngine(adapter, target)


class DbtAdapterEngine:
    """Statements through ``adapter.execute`` on one named connection per thread; cancelled
    with the adapter's own ``connections.cancel``."""

    def __init__(self, adapter: Any, target: WarehouseTarget) -> None:
        self._adapter = adapter
        self._type = target.type
        self._label = target.describe()
        self._threads = max(1, target.threads)
        self._lock = threading.Lock()
        self._running: set[CancelToken] = set()
        self._macros: DbtMacroLibrary | None = None
        # dbt-duckdb: DuckDB in this process, its limits lowered for the diffs (dbt_limits),
        # from the defaults read here, with a first statement that opens the connection.
        self._limits: BoundedLimits | None = None
        if target.type == "duckdb" and not profile_sets_limits(target.settings):
            (limit, threads), *_ = self._rows_of(READ)
            self._limits = BoundedLimits(self._rows_of, (str(limit), str(threads)))

    @property
    def dialect(self) -> str:
        return _DIALECTS.get(self._type, self._type)

    @property
    def threads(self) -> int:
        return self._threads

    def describe(self) -> str:
        return f"{self._label} via dbt"

    def _run(self, token: CancelToken, work: Any, *, wrap: bool = True) -> Any:
        """``work(adapter, conn)`` on this thread's named connection, interrupted by
        ``token``; its errors become ``WarehouseError`` (with ``wrap``) or pass through."""
        adapter = self._adapter
        with self._lock:
            self._running.add(token)
        try:
            with adapter.connection_named(f"recce-trio-{threading.get_ident()}"):
                conn = adapter.connections.get_thread_connection()
                # Open the lazy handle here: a cancel from another thread would otherwise
                # open (and interrupt) a handle of its own.
                conn.handle  # noqa: B018
                token.attach(lambda: adapter.connections.cancel(conn))
                try:
                    return work(adapter, conn)
                except RecceTrioError:
                    raise
                except Exception as e:
                    if token.cancelled:
                        raise RunCancelledError() from None
                    if not wrap:
                        raise
                    raise WarehouseError(_dbt_message(e)) from None
                finally:
                    token.detach()
        finally:
            with self._lock:
                self._running.discard(token)

    def on_connection(self, cancel: CancelToken, work: Callable[[], Any]) -> Any:
        """``work()`` with a connection of this thread open (macros that call adapter methods
        run statements on it), interrupted by ``cancel``; its errors pass through."""
        with self._user_values():
            return self._run(cancel, lambda adapter, conn: work(), wrap=False)

    def macro_provider(
        self, sources: Mapping[str, ManifestSource], cancel: CancelToken
    ) -> DbtMacroProvider:
        """Project and package macros for one run's templates, from each environment's
        manifest.json (``sources``: ``{"base": ..., "current": ...}``)."""
        from recce_trio.warehouse.dbt_macros import DbtMacroLibrary, DbtMacroProvider

        with self._lock:
            if self._macros is None:
                self._macros = DbtMacroLibrary(self._adapter)
            library = self._macros
        return DbtMacroProvider(self, library, sources, cancel)

    def execute(
        self, sql: str, *, limit: int | None = None, cancel: CancelToken | None = None
    ) -> QueryResult:
        with self._user_values():
            return self._execute(sql, limit=limit, cancel=cancel)

    def _execute(
        self, sql: str, *, limit: int | None = None, cancel: CancelToken | None = None
    ) -> QueryResult:
        token = cancel if cancel is not None else CancelToken()

        def work(adapter: Any, conn: Any) -> QueryResult:
            _, table = adapter.execute(sql, fetch=True, limit=limit)
            types = [type(t).__name__.lower() for t in table.column_types]
            rows = [tuple(row) for row in table.rows]
            return QueryResult(unique_names(table.column_names), types, rows)

        result: QueryResult = self._run(token, work)
        token.check()
        return result

    def _rows_of(self, sql: str) -> list[tuple[Any, ...]]:
        """A short statement of recce-trio's own, run to its end (no cancel)."""
        return self._execute(sql).rows

    def _user_values(self) -> contextlib.AbstractContextManager[None]:
        """Around every statement but the bounded ones: the user's DuckDB limits while it
        runs (no other run's diff lowers them meanwhile)."""
        return self._limits.suspended() if self._limits is not None else contextlib.nullcontext()

    def bounded_scope(self) -> contextlib.AbstractContextManager[None]:
        """Statements run inside (``execute_bounded`` ones) share one lowering of the
        limits, rather than one each (dbt-duckdb; elsewhere nothing changes)."""
        return self._limits.scope() if self._limits is not None else contextlib.nullcontext()

    def small_scope(self) -> contextlib.AbstractContextManager[None]:
        """``bounded_scope`` for small statements (a wide diff's): lower limits still."""
        return self._limits.small() if self._limits is not None else contextlib.nullcontext()

    def execute_bounded(
        self,
        sql: str,
        *,
        limit: int | None = None,
        cancel: CancelToken | None = None,
        small: bool = False,
    ) -> QueryResult:
        """``execute`` under lowered DuckDB limits (dbt-duckdb, see dbt_limits; ``small``:
        the small ones); a statement that does not fit runs again under the ordinary
        lowered limits (if it was small), then under the user's values."""
        if self._limits is None:
            return self._execute(sql, limit=limit, cancel=cancel)
        scopes = [self._limits.small, self._limits.scope] if small else [self._limits.scope]
        for scope in scopes:
            with scope():
                try:
                    return self._execute(sql, limit=limit, cancel=cancel)
                except WarehouseError as e:
                    if "out of memory" not in e.message.lower():
                        raise
        return self.execute(sql, limit=limit, cancel=cancel)

    def execute_user(
        self,
        sql: str,
        *,
        limit: int | None = None,
        cancel: CancelToken | None = None,
        small: bool = False,
    ) -> QueryResult:
        """A user's statement (a query run's): on dbt-duckdb, one query runs as a bounded
        one (``execute_bounded``: under the lowered limits, under the user's values if it
        does not fit); anything else (a ``SET``, which a reset of the limits would undo),
        and on every other adapter, as ``execute``."""
        if self._limits is None or not plain_scan.is_one_query(SqlDialect(self.dialect), sql):
            return self.execute(sql, limit=limit, cancel=cancel)
        return self.execute_bounded(sql, limit=limit, cancel=cancel, small=small)

    def stream(
        self,
        sql: str,
        consume: Callable[[RowStream], T],
        *,
        cancel: CancelToken | None = None,
    ) -> T:
        """The rows through the driver's cursor on this thread's connection, ``fetchmany``
        a chunk at a time. Whether the driver itself streams is the driver's affair (most
        do; psycopg2, under dbt-postgres, holds the whole result of the statement)."""
        token = cancel if cancel is not None else CancelToken()

        def errors(e: Exception) -> BaseException:
            return RunCancelledError() if token.cancelled else WarehouseError(_dbt_message(e))

        def work(adapter: Any, conn: Any) -> T:
            cursor = conn.handle.cursor()
            try:
                rows = CursorStream.execute(cursor, sql, errors, token, piece=FETCH_PIECE)
                return consume(rows)
            finally:
                cursor.close()

        with self._user_values():
            result: T = self._run(token, work, wrap=False)
        token.check()
        return result

    def columns(self, relation: str, *, cancel: CancelToken | None = None) -> list[tuple[str, str]]:
        """Names and the driver's type codes, from a statement that returns no rows."""
        token = cancel if cancel is not None else CancelToken()

        def work(adapter: Any, conn: Any) -> list[tuple[str, str]]:
            cursor = conn.handle.cursor()
            try:
                cursor.execute(f"SELECT * FROM {relation} WHERE 1 = 0")
                description = cursor.description or []
            finally:
                cursor.close()
            names = unique_names(str(d[0]) for d in description)
            return [(n, str(d[1]).lower()) for n, d in zip(names, description, strict=True)]

        with self._user_values():
            columns: list[tuple[str, str]] = self._run(token, work)
        return columns

    def interrupt(self) -> None:
        with self._lock:
            running = list(self._running)
        for token in running:
            token.cancel()

    def close(self) -> None:
        self.interrupt()
        self._adapter.cleanup_connections()


def _dbt_message(e: Exception) -> str:
    """dbt's error text without its class banner lines (no credentials appear in them)."""
    text = str(e).strip()
    return text or type(e).__name__
