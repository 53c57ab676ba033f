"""The engine interface every warehouse driver implements, and cancel tokens."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple, Protocol, TypeVar

from recce_trio.errors import RunCancelledError, WarehouseConnectError

T = TypeVar("T")


class QueryResult(NamedTuple):
    """What a statement returned: column names (duplicates renamed ``a_2``...), the
    warehouse's type name per column (lower case), and at most ``limit`` rows."""

    columns: list[str]
    types: list[str]
    rows: list[tuple[Any, ...]]


class CancelToken:
    """Cancels one run: sets a flag checked between statements and interrupts the statement
    running now. ``cancel()`` may be called from any thread, any number of times.

    An interrupt that lands just before the statement reaches the warehouse would be lost,
    so after ``cancel()`` the statement is interrupted again every 50 ms until it ends.
    """

    _RETRY_S = 0.05

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancelled = False
        self._interrupt: Callable[[], None] | None = None
        self._detached = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    @property
    def running(self) -> bool:
        """Whether a statement is attached (running or about to run)."""
        return self._interrupt is not None

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            if self._interrupt is None:
                return
            _call_quietly(self._interrupt)
        threading.Thread(target=self._keep_interrupting, daemon=True).start()

    def _keep_interrupting(self) -> None:
        while not self._detached.wait(self._RETRY_S):
            with self._lock:
                if self._interrupt is None:
                    return
                _call_quietly(self._interrupt)

    def check(self) -> None:
        """Raise ``RunCancelledError`` if the run was cancelled."""
        if self._cancelled:
            raise RunCancelledError()

    def attach(self, interrupt: Callable[[], None]) -> None:
        """Engines: register how to interrupt the statement about to run (raises if the run
        is already cancelled, so that statement never starts)."""
        with self._lock:
            if self._cancelled:
                raise RunCancelledError()
            self._interrupt = interrupt
            self._detached.clear()

    def detach(self) -> None:
        """Engines: the statement has ended; no interrupt reaches the connection after this."""
        with self._lock:
            self._interrupt = None
            self._detached.set()


def _call_quietly(interrupt: Callable[[], None]) -> None:
    # A failed interrupt is retried; the statement may have ended meanwhile.
    with contextlib.suppress(Exception):
        interrupt()


class RowStream(Protocol):
    """The rows of one statement, read a chunk at a time (``Engine.stream``)."""

    @property
    def columns(self) -> list[str]: ...

    @property
    def types(self) -> list[str]: ...

    def fetch(self, size: int) -> list[tuple[Any, ...]]:
        """The next rows, at most ``size``; an empty list once all have been read."""
        ...


class CursorStream:
    """A DB-API cursor's rows as a ``RowStream``; ``errors`` turns a driver's exception into
    recce-trio's (``WarehouseError``, ``RunCancelledError``).

    ``piece``: ask the cursor for at most this many rows per ``fetchmany``, for a driver that
    turns its rows into Python objects inside ``fetchmany`` with the interpreter held (DuckDB:
    2,000 rows of 21 columns hold it 5-20 ms, which the event loop would wait out). Not for
    a cursor whose every ``fetchmany`` is a round trip to the server (PostgreSQL's
    server-side cursor)."""

    def __init__(
        self,
        cursor: Any,
        columns: list[str],
        types: list[str],
        errors: Callable[[Exception], BaseException],
        cancel: CancelToken,
        *,
        piece: int | None = None,
    ) -> None:
        self._cursor = cursor
        self._errors = errors
        self._cancel = cancel
        self._piece = piece
        self.columns = columns
        self.types = types

    @classmethod
    def execute(
        cls,
        cursor: Any,
        sql: str,
        errors: Callable[[Exception], BaseException],
        cancel: CancelToken,
        *,
        piece: int | None = None,
    ) -> CursorStream:
        """Run ``sql`` on a DB-API ``cursor`` and stream its rows, named and typed from the
        cursor's ``description`` (name, type code)."""
        try:
            cursor.execute(sql)
        except Exception as e:
            raise errors(e) from None
        description = cursor.description or []
        return cls(
            cursor,
            unique_names(str(d[0]) for d in description),
            [str(d[1]).lower() for d in description],
            errors,
            cancel,
            piece=piece,
        )

    def fetch(self, size: int) -> list[tuple[Any, ...]]:
        self._cancel.check()
        piece = self._piece or size
        out: list[tuple[Any, ...]] = []
        while len(out) < size:
            try:
                rows = self._cursor.fetchmany(min(piece, size - len(out)))
            except Exception as e:
                raise self._errors(e) from None
            if not rows:
                break
            out.extend(tuple(row) for row in rows)
        return out


class Engine(Protocol):
    """A connection to one warehouse, shared by every run of a server.

    ``execute`` and ``columns`` block; they may be called from several threads at once (up
    to ``threads``). ``interrupt`` stops every running statement and may be called from any
    thread; the engine stays usable.
    """

    @property
    def dialect(self) -> str: ...

    @property
    def threads(self) -> int: ...

    def execute(
        self, sql: str, *, limit: int | None = None, cancel: CancelToken | None = None
    ) -> QueryResult: ...

    def stream(
        self,
        sql: str,
        consume: Callable[[RowStream], T],
        *,
        cancel: CancelToken | None = None,
    ) -> T:
        """``consume(rows)`` while the statement's rows are read a chunk at a time from the
        warehouse (never all held at once); returns what ``consume`` returns. The statement
        is interrupted by ``cancel``; ``consume``'s own exceptions pass through."""
        ...

    def columns(
        self, relation: str, *, cancel: CancelToken | None = None
    ) -> list[tuple[str, str]]: ...

    def interrupt(self) -> None: ...

    def close(self) -> None: ...

    def describe(self) -> str: ...


def unique_names(names: Iterable[str]) -> list[str]:
    """Column names as dbt returns them: a repeated name becomes ``name_2``, ``name_3``..."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for name in names:
        if name in seen:
            seen[name] += 1
            candidate = f"{name}_{seen[name]}"
            while candidate in seen:
                seen[name] += 1
                candidate = f"{name}_{seen[name]}"
            seen[candidate] = 1
            out.append(candidate)
        else:
            seen[name] = 1
            out.append(name)
    return out


def scrub(message: str, secrets: Sequence[Any]) -> str:
    """The message with every secret value (password, host, user...) replaced by ``***``."""
    for value in sorted({str(s) for s in secrets if s not in (None, "")}, key=len, reverse=True):
        if len(value) >= 2:
            message = message.replace(value, "***")
    return message


def missing_driver(package: str, extra: str) -> WarehouseConnectError:
    return WarehouseConnectError(
        f"The Python package '{package}' is not installed.",
        hint=f"Install it with: pip install 'recce-trio[{extra}]'",
    )
