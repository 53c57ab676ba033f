"""A query run's first rows (query, query_base, query_diff without keys), read where the
server's memory stays bounded.

A user's statement runs where the engine bounds its memory if it safely can
(``RunContext.execute(user=True)``: DuckDB's diff instance, see duckdb_engine.execute_user).
A scan pins a block of each column it reads: a ``select *`` of 200 columns did not fit in
64 MB, and the main connection cached some 140 MB of the table for it. So a wide plain read
of one table (core/runsql/plain_scan.py: its rows come in the table's order) is read
``partitions.GROUP_COLUMNS`` columns per statement, each statement the same rows in the same
order, its columns put into the frame (core/runresults/builder.py) as they come."""

from __future__ import annotations

from recce_trio.core.runresults.builder import RowSink
from recce_trio.core.runsql import partitions, plain_scan, queries
from recce_trio.errors import WarehouseError
from recce_trio.warehouse.context import RunContext


def query_rows(ctx: RunContext, sql: str, sink: RowSink) -> None:
    """The first ``sink.limit + 1`` rows of the user's query ``sql``, into ``sink``."""
    columns = _wide_plain_columns(ctx, sql)
    if columns is None:
        result = ctx.execute(sql, limit=sink.limit + 1, user=True)
        sink.add_rows(result.columns, result.rows)
        return
    _by_groups(ctx, sql, columns, sink)


def _wide_plain_columns(ctx: RunContext, sql: str) -> list[str] | None:
    """The columns of a query read a group of columns at a time; None for one statement:
    an engine that does not bound a user's statement's memory, few columns, a query whose
    order is not its table's (or a view's), names that cannot be selected one by one."""
    d = ctx.dialect
    if d.name != "duckdb" or getattr(ctx.engine, "execute_user", None) is None:
        return None
    table = plain_scan.scanned_table(d, sql)
    if table is None:
        return None
    probe = ctx.execute(queries.probe_columns(sql), limit=0, user=True)
    columns = probe.columns
    if len(columns) <= partitions.WIDE_COLUMNS or plain_scan.has_duplicate_names(columns):
        return None
    found = ctx.execute(plain_scan.base_table_check(d, table), limit=1, user=True).rows
    return columns if found and found[0][0] else None


def _by_groups(ctx: RunContext, sql: str, columns: list[str], sink: RowSink) -> None:
    d, limit = ctx.dialect, sink.limit + 1
    inner = queries.strip_statement(sql)
    count = None
    with ctx.small_statements():
        for group in partitions.groups(len(columns)):
            names = ", ".join(d.quote(c) for c in columns[group.start : group.stop])
            part = f"SELECT {names} FROM ({inner}) AS _recce_query LIMIT {limit}"
            rows = ctx.execute(part, limit=limit, user=True).rows
            if count is None:
                count = len(rows)
                sink.begin(columns, count)
            elif len(rows) != count:  # the file is read-only: not expected
                raise WarehouseError("The query's rows changed while they were read; run it again.")
            for j, i in enumerate(group):
                sink.add_column(i, [row[j] for row in rows])
            del rows
    sink.end()
