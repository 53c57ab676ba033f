"""A query run's first rows (query, query_base, query_diff without keys), read where the
server's memory stays bounded.

A user's statement runs where the engine bounds its memory if it safely can
(``RunContext.execute(user=True)``: DuckDB's diff instance, see duckdb_engine.execute_user).
A scan pins a block of each column it reads: a ``select *`` of 200 columns did not fit in
64 MB, and the main connection cached some 140 MB of the table for it. So a wide plain read
of one table (core/runsql/plain_scan.py: its rows come in the table's order, or in an
order without ties among its first rows) is read ``partitions.GROUP_COLUMNS`` columns per
statement, each statement the same rows in the same order, its columns put into the frame
(core/runresults/builder.py) as they come. Any other wide statement would not fit there
either: it runs on the main connection, as before."""

from __future__ import annotations

from recce_trio.core.runresults.builder import RowSink
from recce_trio.core.runsql import partitions, plain_scan, queries
from recce_trio.errors import WarehouseError
from recce_trio.warehouse.context import RunContext


def query_rows(ctx: RunContext, sql: str, sink: RowSink) -> None:
    """The first ``sink.limit + 1`` rows of the user's query ``sql``, into ``sink``."""
    columns, plain = _shape(ctx, sql)
    if plain:
        assert columns is not None
        _by_groups(ctx, sql, columns, sink)
        return
    # A wide statement other than a plain read would not fit where memory is bounded (its
    # scan pins a block per column): it runs as before, rather than there first.
    user = columns is None or len(columns) <= partitions.WIDE_COLUMNS
    result = ctx.execute(sql, limit=sink.limit + 1, user=user)
    sink.add_rows(result.columns, result.rows)


def _shape(ctx: RunContext, sql: str) -> tuple[list[str] | None, bool]:
    """The query's columns (None if not asked: an engine that does not bound a user's
    statement's memory, or a statement that cannot be nested), and whether it is read a
    group of columns at a time: a wide plain read of a table (not a view, whose rows come
    in its own query's order), whose columns can each be selected by name."""
    d = ctx.dialect
    if d.name != "duckdb" or getattr(ctx.engine, "execute_user", None) is None:
        return None, False
    try:
        columns = ctx.execute(queries.probe_columns(sql), limit=0, user=True).columns
    except WarehouseError:
        return None, False
    plain = plain_scan.plain_read(d, sql)
    if len(columns) <= partitions.WIDE_COLUMNS or plain is None:
        return columns, False
    table, order = plain
    if plain_scan.has_duplicate_names(columns):
        return columns, False
    found = ctx.execute(plain_scan.base_table_check(d, table), limit=1, user=True).rows
    if not (found and found[0][0]):
        return columns, False
    keys = _order_columns(columns, order)
    if keys is None:
        return columns, False
    if keys:  # ordered: only if its first rows' order is the same in every statement
        check = plain_scan.no_ties(d, sql, keys, queries.QUERY_LIMIT + 2)
        found = ctx.execute(check, limit=1, user=True).rows
        return columns, bool(found and found[0][0])
    return columns, True


def _order_columns(columns: list[str], keys: list[str | int]) -> list[str] | None:
    """The output columns an ORDER BY's keys name; None if one is not an output column."""
    by_lower = {c.lower(): c for c in columns}
    out = []
    for key in keys:
        if isinstance(key, int):
            if not 1 <= key <= len(columns):
                return None
            out.append(columns[key - 1])
        elif key.lower() in by_lower:
            out.append(by_lower[key.lower()])
        else:
            return None
    return out


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
