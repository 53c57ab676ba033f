"""Exporting a query run's rows (``GET /api/runs/{id}/export``): its SQL rendered and run
again with the row limit pushed down to the warehouse, the rows read a chunk at a time and
written as CSV, TSV or xlsx through ``emit``. Blocking: the server runs it in a worker thread.

A ``query_diff`` file puts row *i* of the base side beside row *i* of the current side. The
two statements run one after the other on one connection: the base side's rows go to a
temporary file first (deleted when the export ends), then both sides are read together.
"""

from __future__ import annotations

import itertools
import pickle
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

from recce_trio.core.runsql.export import cell_text, export_sides, limited_sql, row_limit
from recce_trio.warehouse.context import RunContext
from recce_trio.warehouse.engine import RowStream
from recce_trio.warehouse.export_files import Emit, RowWriter, open_writer

FETCH_ROWS = 2_000  # rows asked of the cursor at a time


def write_export(
    ctx: RunContext,
    run_type: str,
    params: Mapping[str, Any],
    fmt: str,
    emit: Emit,
    *,
    limit: int | None = None,
) -> int:
    """Write the run's rows as a ``fmt`` file through ``emit`` (called with each chunk of
    bytes, in order); returns the number of lines of data written.

    ``params`` are the run's normalised params. Raises ``TemplateError``, ``WarehouseError``,
    ``RunCancelledError`` (``ctx.cancel``), and whatever ``emit`` raises.
    """
    sides = export_sides(run_type, params)
    limit = row_limit(fmt) if limit is None else limit
    sqls = [limited_sql(ctx.dialect, ctx.render(s.template, s.env_name), limit) for s in sides]
    writer = open_writer(fmt, emit)
    try:
        if len(sqls) == 1:
            count: int = ctx.engine.stream(
                sqls[0], lambda rows: _copy(rows, writer, limit), cancel=ctx.cancel
            )
        else:
            count = _paired(ctx, sqls[0], sqls[1], writer, limit)
        writer.close()
    except BaseException:
        writer.discard()
        raise
    return count


def _chunks(rows: RowStream, limit: int) -> Iterator[list[tuple[Any, ...]]]:
    """The statement's rows, a chunk at a time, at most ``limit`` in all (the SQL has the
    same limit; this guards a driver that would not honour it)."""
    taken = 0
    while taken < limit:
        chunk = rows.fetch(min(FETCH_ROWS, limit - taken))
        if not chunk:
            return
        taken += len(chunk)
        yield chunk


def _copy(rows: RowStream, writer: RowWriter, limit: int) -> int:
    writer.header(rows.columns)
    count = 0
    for chunk in _chunks(rows, limit):
        writer.rows(chunk)
        count += len(chunk)
    return count


def _paired(ctx: RunContext, base_sql: str, current_sql: str, writer: RowWriter, limit: int) -> int:
    with tempfile.TemporaryFile(prefix="recce-trio-export-") as spool:
        base_columns: list[str] = ctx.engine.stream(
            base_sql, lambda rows: _spool(rows, spool, limit), cancel=ctx.cancel
        )
        spool.seek(0)

        def pair(rows: RowStream) -> int:
            writer.header(
                [f"base__{c}" for c in base_columns] + [f"current__{c}" for c in rows.columns]
            )
            base_rows = itertools.chain.from_iterable(_unspool(spool))
            no_base = (None,) * len(base_columns)
            no_current = (None,) * len(rows.columns)
            count = 0
            for chunk in _chunks(rows, limit):
                base = list(itertools.islice(base_rows, len(chunk)))
                base += [no_base] * (len(chunk) - len(base))
                writer.rows([b + c for b, c in zip(base, chunk, strict=True)])
                count += len(chunk)
            while rest := list(itertools.islice(base_rows, FETCH_ROWS)):
                ctx.cancel.check()
                writer.rows([b + no_current for b in rest])
                count += len(rest)
            return count

        result: int = ctx.engine.stream(current_sql, pair, cancel=ctx.cancel)
        return result


def _spool(rows: RowStream, spool: IO[bytes], limit: int) -> list[str]:
    """Write the rows to ``spool`` (pickled chunks); returns the column names."""
    for chunk in _chunks(rows, limit):
        try:
            data = pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            # A driver's value that cannot be pickled is kept as the text it is written as.
            data = pickle.dumps([_plain(row) for row in chunk], protocol=pickle.HIGHEST_PROTOCOL)
        spool.write(data)
    return rows.columns


def _plain(row: Sequence[Any]) -> tuple[Any, ...]:
    simple = (str, int, float, bool, type(None))
    return tuple(v if isinstance(v, simple) else cell_text(v) for v in row)


def _unspool(spool: IO[bytes]) -> Iterator[list[tuple[Any, ...]]]:
    """The chunks ``_spool`` wrote (recce-trio's own temporary file, never outside input)."""
    while True:
        try:
            yield pickle.load(spool)
        except EOFError:
            return
