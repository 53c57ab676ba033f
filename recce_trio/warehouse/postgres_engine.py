"""PostgreSQL (and compatible) through psycopg 3: read-only sessions in a small pool."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from recce_trio.errors import RunCancelledError, WarehouseConnectError, WarehouseError
from recce_trio.warehouse.engine import (
    CancelToken,
    CursorStream,
    QueryResult,
    RowStream,
    missing_driver,
    scrub,
    unique_names,
)

if TYPE_CHECKING:
    from recce_trio.warehouse.profiles import WarehouseTarget

T = TypeVar("T")

# dbt-postgres profile keys passed to libpq as they are (others are dbt's own business).
_PASSTHROUGH = {
    "sslmode": "sslmode",
    "sslcert": "sslcert",
    "sslkey": "sslkey",
    "sslrootcert": "sslrootcert",
    "connect_timeout": "connect_timeout",
    "keepalives_idle": "keepalives_idle",
    "application_name": "application_name",
}
_SECRET_KEYS = ("host", "user", "pass", "password", "port", "dbname", "database")


def open_postgres(target: WarehouseTarget) -> PostgresEngine:
    """A pool of ``threads`` read-only sessions to the target's database."""
    s = target.settings
    params: dict[str, Any] = {
        "host": s.get("host"),
        "port": s.get("port", 5432),
        "user": s.get("user"),
        "password": s.get("password", s.get("pass")),
        "dbname": s.get("dbname", s.get("database")),
    }
    for key, name in _PASSTHROUGH.items():
        if s.get(key) is not None:
            params[name] = s[key]
    options = ["-c default_transaction_read_only=on"]
    if s.get("search_path"):
        options.append(f"-c search_path={s['search_path']}")
    if s.get("role"):
        options.append(f"-c role={s['role']}")
    params["options"] = " ".join(options)
    params = {k: v for k, v in params.items() if v is not None}
    secrets = [s.get(k) for k in _SECRET_KEYS]
    engine = PostgresEngine(
        params, threads=target.threads, secrets=secrets, label=target.describe()
    )
    engine.release(engine.acquire())  # fail now, not at the first run, if it cannot connect
    return engine


class PostgresEngine:
    """Up to ``threads`` autocommit, read-only connections, opened on demand and reused.

    A statement is cancelled with libpq's cancel request, which leaves the connection open
    and usable. Rows are streamed, so a big result is never held whole in Python.
    """

    dialect = "postgres"

    def __init__(
        self, params: dict[str, Any], *, threads: int, secrets: list[Any], label: str
    ) -> None:
        try:
            import psycopg
        except ImportError:
            raise missing_driver("psycopg", "postgres") from None
        self._psycopg = psycopg
        self._params = params
        self._secrets = secrets
        self._label = label
        self._threads = max(1, threads)
        self._cond = threading.Condition()
        self._idle: list[Any] = []
        self._open = 0
        self._running: set[Any] = set()
        self._closed = False

    @property
    def threads(self) -> int:
        return self._threads

    def describe(self) -> str:
        return f"{self._label}, read-only"

    def acquire(self) -> Any:
        with self._cond:
            while not self._idle and self._open >= self._threads:
                self._cond.wait()
            if self._closed:
                raise WarehouseError("The PostgreSQL engine is closed.")
            if self._idle:
                return self._idle.pop()
            self._open += 1
        try:
            return self._psycopg.connect(autocommit=True, **self._params)
        except self._psycopg.Error as e:
            with self._cond:
                self._open -= 1
                self._cond.notify()
            text = scrub(str(e).strip().splitlines()[-1] if str(e).strip() else "", self._secrets)
            raise WarehouseConnectError(
                f"Cannot connect to PostgreSQL for {self._label}: {text}",
                hint="Check the host, port, user and password of that target in profiles.yml.",
            ) from None

    def release(self, conn: Any) -> None:
        """Back to the pool, if it is idle and sane. A cancel request that lands on the end
        of a transaction (its CLOSE or ROLLBACK) leaves it aborted: such a connection is
        closed, never handed to the next statement ("current transaction is aborted")."""
        idle = conn.info.transaction_status == self._psycopg.pq.TransactionStatus.IDLE
        with self._cond:
            if conn.closed or conn.broken or self._closed or not idle:
                self._open -= 1
                conn.close()
            else:
                self._idle.append(conn)
            self._cond.notify()

    def execute(
        self, sql: str, *, limit: int | None = None, cancel: CancelToken | None = None
    ) -> QueryResult:
        token = cancel if cancel is not None else CancelToken()
        conn = self.acquire()
        with self._cond:
            self._running.add(token)
        try:
            token.attach(conn.cancel_safe)
            try:
                return self._run(conn, sql, limit)
            except self._psycopg.errors.QueryCanceled:
                raise RunCancelledError() from None
            except self._psycopg.Error as e:
                if token.cancelled:
                    raise RunCancelledError() from None
                raise WarehouseError(scrub(_pg_message(e), self._secrets)) from None
            finally:
                token.detach()
        finally:
            with self._cond:
                self._running.discard(token)
            self.release(conn)

    def _run(self, conn: Any, sql: str, limit: int | None) -> QueryResult:
        rows: list[tuple[Any, ...]] = []
        with conn.cursor() as cur:
            if limit == 0:
                cur.execute(sql)
            else:
                stream = cur.stream(sql)
                try:
                    for row in stream:
                        rows.append(row)
                        if limit is not None and len(rows) >= limit:
                            break
                finally:
                    stream.close()  # cancels and drains the rest of a result cut short
            description = cur.description or []
        return QueryResult(
            unique_names(d.name for d in description),
            [str(d.type_display or "unknown").lower() for d in description],
            rows,
        )

    def stream(
        self,
        sql: str,
        consume: Callable[[RowStream], T],
        *,
        cancel: CancelToken | None = None,
    ) -> T:
        """The rows through a server-side cursor (``DECLARE``, then ``FETCH`` a chunk at a
        time) in a read-only transaction of one pooled connection; a cancel request stops
        the statement, and the transaction is rolled back, so the connection stays usable."""
        token = cancel if cancel is not None else CancelToken()
        conn = self.acquire()
        with self._cond:
            self._running.add(token)

        def errors(e: Exception) -> BaseException:
            if isinstance(e, self._psycopg.errors.QueryCanceled) or (
                isinstance(e, self._psycopg.Error) and token.cancelled
            ):
                return RunCancelledError()
            if isinstance(e, self._psycopg.Error):
                return WarehouseError(scrub(_pg_message(e), self._secrets))
            return e

        try:
            token.attach(conn.cancel_safe)
            try:
                with conn.transaction(), conn.cursor(name="recce_trio_stream") as cur:
                    try:
                        try:
                            cur.execute(sql)
                        except Exception as e:
                            raise errors(e) from None
                        description = cur.description or []
                        rows = CursorStream(
                            cur,
                            unique_names(d.name for d in description),
                            [str(d.type_display or "unknown").lower() for d in description],
                            errors,
                            token,
                        )
                        result = consume(rows)
                    finally:
                        # Before the cursor's CLOSE and the COMMIT or ROLLBACK: no cancel
                        # request (they repeat every 50 ms) may land on those.
                        token.detach()
            except self._psycopg.Error as e:  # ending the transaction
                raise errors(e) from None
            finally:
                token.detach()
            token.check()
            return result
        finally:
            with self._cond:
                self._running.discard(token)
            self.release(conn)

    def columns(self, relation: str, *, cancel: CancelToken | None = None) -> list[tuple[str, str]]:
        """Names and types as PostgreSQL spells them (``numeric(10,2)``, ``character
        varying``), in table order."""
        conn = self.acquire()
        try:
            if cancel is not None:
                cancel.attach(conn.cancel_safe)
            try:
                with conn.cursor() as cur:
                    cur.execute(f"SELECT * FROM {relation} WHERE 1 = 0")
                    names = unique_names(d.name for d in cur.description or [])
                    result = cur.pgresult
                    pairs = [(result.ftype(i), result.fmod(i)) for i in range(len(names))]
                    if not pairs:
                        return []
                    sql = ", ".join(f"format_type({oid}, {mod})" for oid, mod in pairs)
                    cur.execute(f"SELECT {sql}")
                    types = [str(t).lower() for t in cur.fetchone() or ()]
            except self._psycopg.errors.QueryCanceled:
                raise RunCancelledError() from None
            except self._psycopg.Error as e:
                raise WarehouseError(scrub(_pg_message(e), self._secrets)) from None
            finally:
                if cancel is not None:
                    cancel.detach()
        finally:
            self.release(conn)
        return list(zip(names, types, strict=True))

    def interrupt(self) -> None:
        with self._cond:
            running = list(self._running)
        for token in running:
            token.cancel()

    def close(self) -> None:
        self.interrupt()
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._cond.notify_all()
        for conn in idle:
            conn.close()


def _pg_message(e: Exception) -> str:
    """The server's message and hint (no connection details), as psql would show them."""
    diag = getattr(e, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if not primary:
        return str(e).strip()
    text = str(primary)
    detail = getattr(diag, "message_detail", None)
    if detail:
        text += f"\nDETAIL: {detail}"
    return text
