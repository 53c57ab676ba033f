"""DuckDB, embedded: the file opened read-only, external access off unless asked for."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from recce_trio.errors import (
    ExternalAccessBlockedError,
    RunCancelledError,
    WarehouseConnectError,
    WarehouseError,
)
from recce_trio.warehouse.duckdb_spill import spill_folder
from recce_trio.warehouse.engine import (
    CancelToken,
    CursorStream,
    QueryResult,
    RowStream,
    missing_driver,
    unique_names,
)

if TYPE_CHECKING:
    from recce_trio.warehouse.profiles import WarehouseTarget

T = TypeVar("T")

_BLOCKED_MARKERS = ("disabled by configuration", "enable_external_access", "external access")
# Profile settings recce-trio decides itself: read-only, and external access (an opt-in flag).
_LOCKED_SETTINGS = frozenset({"access_mode", "enable_external_access", "allow_unsigned_extensions"})
# DuckDB runs in the server's process: its buffer pool and hash tables are the server's memory.
# Unless the profile's settings: say otherwise, it may hold this much and spills the rest to a
# private temporary folder (DuckDB's default folder is next to the database file).
MEMORY_LIMIT = "512MB"
# Rows a streaming fetchmany turns into Python objects at a time, with the interpreter held.
FETCH_PIECE = 500
# The keyed diffs read every block of both sides of a model, and DuckDB keeps what it reads
# cached up to its memory_limit. Split into ranges (warehouse/ranges.py), they run in a
# second DuckDB instance of their own that attaches the same file read-only under this
# smaller limit, so a diff of a big model adds little more than this to the server's memory.
# A statement that does not fit (very wide rows: a scan pins a block per column) runs again
# on the main connection.
DIFF_MEMORY_LIMIT = "24MB"
# A wide diff's statements (a group of columns each, keyed_wide.py) fit in half as much: while
# only they run in the diff instance, it holds half as much of the tables cached.
SMALL_MEMORY_LIMIT = "12MB"


def open_duckdb(target: WarehouseTarget, *, external_access: bool = False) -> DuckDBEngine:
    """The DuckDB file of a dbt-duckdb target (``path``; relative to the project folder)."""
    raw = str(target.settings.get("path") or ":memory:")
    if raw == ":memory:" or raw.startswith(("md:", "motherduck:")):
        raise WarehouseConnectError(
            f"The DuckDB target {target.describe()} is not a local file (path {raw!r}).",
            hint="Point 'path' at the .duckdb file dbt builds.",
        )
    path = Path(raw).expanduser()
    if not path.is_absolute() and target.project_dir is not None:
        path = target.project_dir / path
    raw_settings = target.settings.get("settings")
    settings = {
        str(k): v
        for k, v in (raw_settings.items() if isinstance(raw_settings, dict) else ())
        if str(k).lower() not in _LOCKED_SETTINGS
    }
    return DuckDBEngine(
        path, threads=target.threads, external_access=external_access, settings=settings
    )


class DuckDBEngine:
    """One read-only DuckDB database; each statement runs on its own cursor (a connection of
    its own to the same database), so statements in several threads run side by side and one
    can be interrupted without touching the others."""

    dialect = "duckdb"

    def __init__(
        self,
        path: Path,
        *,
        threads: int = 1,
        external_access: bool = False,
        settings: dict[str, Any] | None = None,
    ) -> None:
        try:
            import duckdb
        except ImportError:
            raise missing_driver("duckdb", "duckdb") from None
        self._duckdb = duckdb
        self._name = path.name
        self._threads = max(1, threads)
        if not path.is_file():
            raise WarehouseConnectError(
                f"The DuckDB file '{self._name}' does not exist.",
                hint="Build the project with dbt first, or fix 'path' in profiles.yml.",
            )
        # The profile's DuckDB ``settings`` (memory_limit, threads, ...) as dbt-duckdb applies
        # them; a big diff's hash tables live in this process, so memory_limit matters here.
        config: dict[str, str | bool | int | float | list[str]] = {
            **(settings or {}),
            "enable_external_access": external_access,
        }
        given = {k.lower(): v for k, v in config.items()}
        if not given.keys() & {"memory_limit", "max_memory"}:
            config["memory_limit"] = MEMORY_LIMIT
        self._memory_limit = str(given.get("memory_limit", given.get("max_memory", MEMORY_LIMIT)))
        if "temp_directory" not in given:
            config["temp_directory"] = spill_folder()
        # The diff instance: the same settings, under DIFF_MEMORY_LIMIT, unless the profile
        # chose a memory_limit (then the diffs run on the one connection, under that).
        self._diff_config: dict[str, Any] | None = None
        if not given.keys() & {"memory_limit", "max_memory"}:
            self._diff_config = {
                k: v for k, v in config.items() if k.lower() != "enable_external_access"
            }
            self._diff_config["memory_limit"] = DIFF_MEMORY_LIMIT
            # One thread: a scan pins a block per column and thread, which a small limit
            # would not hold for two, and the server's other threads keep a core.
            self._diff_config["threads"] = 1
            # Its own spill folder: two instances would write the same file names.
            self._diff_config["temp_directory"] = os.path.join(spill_folder(), "diff")
        self._path = path
        self._external_access = external_access
        self._diff_con: Any = None
        self._diff_use = ""
        self._diff_sealed = False  # whether the instance may run users' SELECTs
        try:
            self._con = duckdb.connect(str(path), read_only=True, config=config)
            # A first statement, here in the background connect: it checks the connection,
            # and DuckDB sets up some 5 MB of its own on an instance's first statement,
            # which would otherwise count in the first run's memory.
            self._con.execute("SELECT 1").fetchall()
        except duckdb.Error as e:
            text = str(e).replace(str(path), self._name)
            hint = "Is dbt writing to it right now? " if "lock" in text.lower() else ""
            raise WarehouseConnectError(
                f"Cannot open the DuckDB file '{self._name}' read-only: {text}",
                hint=hint + "recce-trio opens it read-only.",
            ) from None
        self._lock = threading.Lock()
        self._running: set[Any] = set()
        self._limit_lock = threading.Lock()
        self._limit_counts = {"small": 0, "ordinary": 0}
        self._small_now = False

    @property
    def threads(self) -> int:
        return self._threads

    def describe(self) -> str:
        return f"duckdb ({self._name}, read-only)"

    def execute(
        self, sql: str, *, limit: int | None = None, cancel: CancelToken | None = None
    ) -> QueryResult:
        return self._execute(self._con, sql, limit=limit, cancel=cancel)

    def execute_bounded(
        self,
        sql: str,
        *,
        limit: int | None = None,
        cancel: CancelToken | None = None,
        small: bool = False,
    ) -> QueryResult:
        """``execute`` in the diff instance (DIFF_MEMORY_LIMIT), opened on first use; on the
        one connection if the profile set memory_limit or the instance cannot be opened.
        ``small``: a statement that fits in SMALL_MEMORY_LIMIT, under which the instance
        runs while only such statements run (``small_scope``); one that does not fit runs
        again under DIFF_MEMORY_LIMIT, then on the main connection."""
        con = self._diff_instance()
        tries = [True, False] if small and con is not self._con else [False]
        for small_try in tries:
            try:
                with contextlib.nullcontext() if small_try else self._ordinary():
                    return self._execute(con, sql, limit=limit, cancel=cancel)
            except WarehouseError as e:
                if con is self._con or "out of memory" not in e.message.lower():
                    raise
        return self._execute(self._con, sql, limit=limit, cancel=cancel)

    def execute_user(
        self,
        sql: str,
        *,
        limit: int | None = None,
        cancel: CancelToken | None = None,
        small: bool = False,
    ) -> QueryResult:
        """A user's statement (a query run's), where memory is bounded: ``execute_bounded``
        when it is one SELECT and the diff instance can write nowhere (its in-memory catalog
        detached); else, or after any error there but a cancel (a statement that does not
        fit, or names a database only the main connection has attached), on the main
        connection, whose result or error is the one reported, as without the instance."""
        con = self._diff_instance()
        if con is not self._con and self._diff_sealed and self._one_select(con, sql):
            with contextlib.suppress(WarehouseError):
                return self.execute_bounded(sql, limit=limit, cancel=cancel, small=small)
        return self._execute(self._con, sql, limit=limit, cancel=cancel)

    def _one_select(self, con: Any, sql: str) -> bool:
        try:
            with con.cursor() as cursor:
                statements = cursor.extract_statements(sql)
        except self._duckdb.Error:
            return False  # the main connection says what is wrong with it
        select = self._duckdb.StatementType.SELECT
        return len(statements) == 1 and statements[0].type == select

    def _diff_instance(self) -> Any:
        with self._lock:
            if self._diff_con is None and self._diff_config is not None:
                self._diff_con = self._open_diff_instance() or self._con
            return self._diff_con or self._con

    @contextlib.contextmanager
    def small_scope(self) -> Iterator[None]:
        """While only small statements run in the diff instance (a wide diff's, a group of
        columns each), its memory_limit is SMALL_MEMORY_LIMIT, so it holds half as much of
        the tables cached; any other statement there puts DIFF_MEMORY_LIMIT back meanwhile."""
        self._diff_instance()
        self._limit_change("small", 1)
        try:
            yield
        finally:
            self._limit_change("small", -1)

    @contextlib.contextmanager
    def _ordinary(self) -> Iterator[None]:
        self._limit_change("ordinary", 1)
        try:
            yield
        finally:
            self._limit_change("ordinary", -1)

    def _limit_change(self, name: str, by: int) -> None:
        """Count the statements of each kind; SET the diff instance's limit they need."""
        with self._limit_lock:
            self._limit_counts[name] += by
            con = self._diff_con
            if con is None or con is self._con:
                return
            wanted = self._limit_counts["small"] > 0 and not self._limit_counts["ordinary"]
            if wanted == self._small_now:
                return
            value = SMALL_MEMORY_LIMIT if wanted else DIFF_MEMORY_LIMIT
            try:
                with con.cursor() as cursor:
                    cursor.execute(f"SET memory_limit = '{value}'")
            except self._duckdb.Error:
                return  # more is pinned than the small limit: it stays as it was
            self._small_now = wanted

    def _open_diff_instance(self) -> Any:
        """A second in-process DuckDB with the file attached read-only under the catalog
        name the main connection gives it, external access then turned off; None if it
        cannot be opened (the diffs then share the main connection)."""
        duckdb = self._duckdb
        con = None
        try:
            with self._con.cursor() as cursor:
                (catalog,) = cursor.execute("SELECT current_database()").fetchall()[0]
            con = duckdb.connect(":memory:", config=self._diff_config)
            path = str(self._path).replace("'", "''")
            name = '"' + str(catalog).replace('"', '""') + '"'
            con.execute(f"ATTACH '{path}' AS {name} (READ_ONLY)")
            if not self._external_access:
                con.execute("SET enable_external_access = false")
            # Without its in-memory catalog, the instance has nowhere to write but each
            # cursor's temporary one (as on the main connection); and it lists the same
            # databases as the main connection does.
            con.execute(f"USE {name}")
            try:
                con.execute("DETACH memory")
                self._diff_sealed = True
            except duckdb.Error:
                self._diff_sealed = False
        except duckdb.Error:
            if con is not None:
                con.close()
            return None
        self._diff_use = f"USE {name}"  # each cursor starts in the in-memory catalog
        return con

    def _execute(
        self, con: Any, sql: str, *, limit: int | None, cancel: CancelToken | None
    ) -> QueryResult:
        token = cancel if cancel is not None else CancelToken()
        with self._lock:
            cursor = con.cursor()
            self._running.add(token)
        try:
            token.attach(cursor.interrupt)
            try:
                if con is not self._con and self._diff_use:
                    cursor.execute(self._diff_use)
                cursor.execute(sql)
                description = cursor.description or []
                rows = cursor.fetchall() if limit is None else cursor.fetchmany(limit)
            except self._duckdb.InterruptException:
                raise RunCancelledError() from None
            except self._duckdb.Error as e:
                if token.cancelled:
                    raise RunCancelledError() from None
                raise self._error(e) from None
            finally:
                token.detach()
            token.check()
            return QueryResult(
                unique_names(d[0] for d in description),
                [str(d[1]).lower() for d in description],
                rows,
            )
        finally:
            cursor.close()  # before leaving _running: close() waits for that
            with self._lock:
                self._running.discard(token)

    def stream(
        self,
        sql: str,
        consume: Callable[[RowStream], T],
        *,
        cancel: CancelToken | None = None,
    ) -> T:
        """DuckDB produces the rows as they are fetched (a streaming result), a chunk at a
        time; its own memory holds what the query needs (a sort, a hash join), not Python."""
        token = cancel if cancel is not None else CancelToken()
        with self._lock:
            cursor = self._con.cursor()
            self._running.add(token)

        def errors(e: Exception) -> BaseException:
            if isinstance(e, self._duckdb.InterruptException) or (
                isinstance(e, self._duckdb.Error) and token.cancelled
            ):
                return RunCancelledError()
            return self._error(e) if isinstance(e, self._duckdb.Error) else e

        try:
            token.attach(cursor.interrupt)
            try:
                rows = CursorStream.execute(cursor, sql, errors, token, piece=FETCH_PIECE)
                result = consume(rows)
            finally:
                token.detach()
            token.check()
            return result
        finally:
            cursor.close()  # before leaving _running: close() waits for that
            with self._lock:
                self._running.discard(token)

    def columns(self, relation: str, *, cancel: CancelToken | None = None) -> list[tuple[str, str]]:
        result = self.execute(f"SELECT * FROM {relation} WHERE 1 = 0", limit=0, cancel=cancel)
        return list(zip(result.columns, result.types, strict=True))

    def interrupt(self) -> None:
        with self._lock:
            running = list(self._running)
        for token in running:
            token.cancel()

    def close(self) -> None:
        """Interrupt the running statements, wait (up to 5 s) for their threads to leave
        them, then close: DuckDB refuses to close a connection whose cursor is mid-call (a
        cancelled run's thread may still be on its way out of the interrupted statement)."""
        self.interrupt()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with self._lock:
                if not self._running:
                    break
            time.sleep(0.01)
        for con in {id(c): c for c in (self._diff_con, self._con) if c is not None}.values():
            with contextlib.suppress(self._duckdb.Error):  # a statement that never stopped
                con.close()

    def _error(self, e: Exception) -> WarehouseError:
        text = str(e)
        if any(m in text.lower() for m in _BLOCKED_MARKERS):
            return ExternalAccessBlockedError(
                f"DuckDB refused external access (files, URLs, extensions): {text}",
                hint="Start recce-trio with --duckdb-external-access to allow it.",
            )
        if "out of memory" in text.lower():
            return WarehouseError(
                text,
                hint=f"recce-trio gives DuckDB {self._memory_limit} of memory: raise it with "
                "memory_limit under the profile's settings: in profiles.yml.",
            )
        return WarehouseError(text)
