"""dbt-duckdb runs DuckDB in the server's own process, under its default limits (80 % of the
machine's memory, a thread per core), and a big keyed diff or profile there would grow the
server by a hundred MB or more. While such statements run (``execute_bounded``), this lowers
the instance's ``memory_limit`` and ``threads`` as the native engine's diff instance has them,
then puts the user's values back when the last one ends: also after an error or a cancel.

The two settings are global to the DuckDB instance, so every other statement (a query, a
macro's, another run's) runs "suspended": the user's values are back while it runs, and a
bounded statement that goes meanwhile runs under them too. A bounded statement that does not
fit in the lowered limits (DuckDB's out-of-memory error) runs again with the user's values.
Nothing is lowered when the profile sets either setting itself (``settings:`` or
``config_options:``): dbt-duckdb sets ``settings:`` again on every new cursor, and a reset
would lose ``config_options:``; the diffs then run under the user's limits, as on the native
engine. The settings live in the process only (a ``SET`` is not written to the file).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

# The same bounds as the native engine's diff instance (duckdb_engine.DIFF_MEMORY_LIMIT).
MEMORY_LIMIT = "24MB"
THREADS = 1
# ... and for a wide diff's statements, a group of columns each (duckdb_engine.SMALL_MEMORY_LIMIT).
SMALL_MEMORY_LIMIT = "12MB"
_USER_SETTINGS = frozenset({"memory_limit", "max_memory", "threads", "worker_threads"})
READ = "SELECT current_setting('memory_limit') AS m, current_setting('threads') AS t"


def profile_sets_limits(settings: Mapping[str, Any]) -> bool:
    """Whether a dbt-duckdb target's ``settings:`` or ``config_options:`` set the limits."""
    for key in ("settings", "config_options"):
        given = settings.get(key)
        if isinstance(given, Mapping) and {str(k).lower() for k in given} & _USER_SETTINGS:
            return True
    return False


class BoundedLimits:
    """Reference-counted: the limits are lowered while at least one bounded scope is open
    and none is suspended (a statement that did not fit, run again under the user's
    values). ``run_sql(sql)`` runs a statement on the instance, uninterruptibly, and returns
    its rows; ``defaults`` are the instance's (memory_limit, threads) as DuckDB spells them,
    read when it was opened. They are lowered only from those defaults, and a reset puts
    them back exactly: values someone changed at run time (a ``SET`` in a query) are left
    alone, as DuckDB's spelling of them is rounded and could not be put back as they were.

    ``small()`` scopes (a wide diff's statements, a group of columns each: keyed_wide.py)
    lower ``memory_limit`` further, to ``SMALL_MEMORY_LIMIT``, while no ordinary scope is
    open: an ordinary statement running meanwhile gets ``MEMORY_LIMIT`` back."""

    def __init__(
        self, run_sql: Callable[[str], list[tuple[Any, ...]]], defaults: tuple[str, str]
    ) -> None:
        self._run_sql = run_sql
        self._defaults = defaults
        self._lock = threading.Lock()
        self._counts = {"scopes": 0, "small": 0, "suspended": 0}
        self._level = 0  # 0: the user's values; 1: MEMORY_LIMIT; 2: SMALL_MEMORY_LIMIT

    @contextlib.contextmanager
    def _counted(self, name: str) -> Iterator[None]:
        self._change(name, 1)
        try:
            yield
        finally:
            self._change(name, -1)

    def scope(self) -> contextlib.AbstractContextManager[None]:
        """Statements inside run under the lowered limits."""
        return self._counted("scopes")

    def small(self) -> contextlib.AbstractContextManager[None]:
        """Statements inside run under the small limits, unless an ordinary scope is open."""
        return self._counted("small")

    def suspended(self) -> contextlib.AbstractContextManager[None]:
        """The user's values back for a while, in every scope."""
        return self._counted("suspended")

    @property
    def lowered(self) -> bool:
        return self._level > 0

    @property
    def level(self) -> int:
        return self._level

    def _change(self, name: str, by: int) -> None:
        with self._lock:
            self._counts[name] += by
            counts = self._counts
            wanted = 0
            if not counts["suspended"]:
                wanted = 1 if counts["scopes"] else 2 if counts["small"] else 0
            if wanted == self._level:
                return
            if wanted == 0:
                self._restore()
            elif self._level == 0:
                self._lower(wanted)
            else:
                self._set_memory(wanted)

    def _lower(self, level: int) -> None:
        """Lower the limits if they are DuckDB's defaults (else, or if DuckDB refuses, the
        statements run under the values as they are; the next scope looks again)."""
        (limit, threads), *_ = self._run_sql(READ)
        if (str(limit), str(threads)) != self._defaults:
            return
        self._level = 1  # from here on, a restore puts the user's values back
        try:
            self._run_sql(f"SET threads = {THREADS}")
            self._run_sql(f"SET memory_limit = '{MEMORY_LIMIT}'")
            if level == 2:
                self._set_memory(2)
        except Exception:
            self._restore()

    def _set_memory(self, level: int) -> None:
        limit = MEMORY_LIMIT if level == 1 else SMALL_MEMORY_LIMIT
        try:
            self._run_sql(f"SET memory_limit = '{limit}'")
        except Exception:
            if level == 1:
                raise
            return  # more than the small limit is pinned now: it stays as it is
        self._level = level

    def _restore(self) -> None:
        self._level = 0
        self._run_sql("RESET memory_limit")
        self._run_sql("RESET threads")
