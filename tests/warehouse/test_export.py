"""Exporting a query run's rows on each engine (DuckDB, PostgreSQL, dbt-duckdb where installed),
against tests/warehouse/data.py: the CSV text of every type, a query diff's two sides, the row
limit, cancelling a long statement and a reader that goes away, each leaving the connection
usable."""

from __future__ import annotations

import csv
import io
import itertools
from typing import Any

import pytest

from recce_trio.errors import RunCancelledError, TemplateError, WarehouseError
from recce_trio.warehouse.context import RunContext
from recce_trio.warehouse.export import write_export
from tests.warehouse import data
from tests.warehouse.test_engines import _cancel_when_running

CUSTOMERS = "select * from {{ ref('customers') }} order by 1"
ENDLESS = {
    "duckdb": "select count(*) from range(1000000000) a, range(1000) b where a.range <> b.range",
    "postgres": "select count(*) from generate_series(1, 1000000000) a, generate_series(1, 1000) b"
    " where a <> b",
}
ENDLESS["dbt-duckdb"] = ENDLESS["duckdb"]


@pytest.fixture
def ctx(engine) -> RunContext:  # type: ignore[no-untyped-def]
    return RunContext(base=data.manifest("prod"), current=data.manifest("dev"), engine=engine)


def export(ctx: RunContext, run_type: str, fmt: str = "csv", **params: Any) -> tuple[str, int]:
    out = io.BytesIO()
    full = {"base_sql_template": None, "primary_keys": None, "current_model": None, **params}
    rows = write_export(ctx, run_type, full, fmt, out.write)
    return out.getvalue().decode("utf-8"), rows


def parse(text: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def test_a_query_exports_every_type_as_text(ctx: RunContext) -> None:
    text, rows = export(ctx, "query", sql_template=CUSTOMERS)
    assert rows == 4
    assert parse(text) == [
        ["customer_id", "name", "balance", "signup", "active", "updated_at"],
        ["1", "Ana", "10.50", "2024-01-05", "true", "2024-01-05T10:00:00Z"],
        ["2", "Björn", "25.00", "2024-02-10", "false", "2024-02-10T12:30:00Z"],
        ["3", "山田", "", "2024-03-15", "true", ""],  # NULL is an empty field
        ["5", "Émile", "7.75", "2024-05-25", "true", "2024-05-25T07:15:00Z"],  # in UTC
    ]
    assert text.count("\r\n") == 5


def test_query_base_exports_the_base_side_as_tsv(ctx: RunContext) -> None:
    text, _ = export(ctx, "query_base", "tsv", sql_template=CUSTOMERS)
    assert [row[:3] for row in parse(text, "\t")] == [
        ["customer_id", "name", "balance"],
        ["1", "Ana", "10.50"],
        ["2", "Björn", "20.00"],
        ["3", "山田", ""],
        ["4", "Zoë", "5.25"],
    ]


def test_a_query_diff_puts_row_i_of_each_side_on_line_i(ctx: RunContext) -> None:
    text, rows = export(
        ctx,
        "query_diff",
        sql_template="select order_id, status from {{ ref('orders') }} "
        "where order_id is not null order by 1, 2",
        base_sql_template="select customer_id, name from {{ ref('customers') }} order by 1",
    )
    assert rows == 4
    assert parse(text) == [
        ["base__customer_id", "base__name", "current__order_id", "current__status"],
        ["1", "Ana", "1", "placed"],
        ["2", "Björn", "1", "placed"],
        ["3", "山田", "2", "completed"],
        ["4", "Zoë", "4", "placed"],
    ]
    # The longer side sets the length; the other side's fields are empty past its end.
    text, rows = export(
        ctx,
        "query_diff",
        sql_template="select id from {{ ref('new_model') }} order by 1",
        base_sql_template="select x from {{ ref('legacy') }} order by 1",
    )
    assert parse(text) == [["base__x", "current__id"], ["1", "1"], ["2", "2"], ["", "3"]]
    assert rows == 3


def test_thousands_of_rows_come_out_whole_and_in_order(ctx: RunContext) -> None:
    # 4^6 = 4,096 rows: read from the cursor a few hundred at a time within chunks of 2,000,
    # written a few hundred at a time; a decimal column with NULLs is converted on the way.
    ids = ["1", "2", "3", "5"]
    balances = {"1": "10.50", "2": "25.00", "3": "", "5": "7.75"}
    tables = ", ".join(f"{{{{ ref('customers') }}}} t{i}" for i in range(6))
    names = ", ".join(f"t{i}.customer_id as c{i}" for i in range(5))
    order = ", ".join(f"t{i}.customer_id" for i in range(6))
    sql = f"select {names}, t5.balance from {tables} order by {order}"
    text, rows = export(ctx, "query", sql_template=sql)
    expected = [
        [a, b, c, d, e, balances[f]] for a, b, c, d, e, f in itertools.product(ids, repeat=6)
    ]
    assert rows == 4096
    assert parse(text) == [["c0", "c1", "c2", "c3", "c4", "balance"], *expected]
    diff_text, diff_rows = export(
        ctx, "query_diff", sql_template=sql, base_sql_template="select 1 as one"
    )
    assert diff_rows == 4096
    lines = parse(diff_text)
    assert lines[1] == ["1", *expected[0]] and lines[2] == ["", *expected[1]]
    assert [line[1:] for line in lines[1:]] == expected


def test_the_row_limit_cuts_the_file(ctx: RunContext) -> None:
    text, rows = export_limited(ctx, 2)
    assert rows == 2
    assert [row[0] for row in parse(text)] == ["customer_id", "1", "2"]


def export_limited(ctx: RunContext, limit: int) -> tuple[str, int]:
    out = io.BytesIO()
    params = {"sql_template": CUSTOMERS}
    rows = write_export(ctx, "query", params, "csv", out.write, limit=limit)
    return out.getvalue().decode(), rows


def test_a_bad_template_or_statement_fails_before_any_byte(ctx: RunContext) -> None:
    out = io.BytesIO()
    with pytest.raises(TemplateError, match="nope"):
        write_export(ctx, "query", {"sql_template": "select * from {{ ref('nope') }}"}, "csv",
                     out.write)  # fmt: skip
    with pytest.raises(WarehouseError):
        write_export(ctx, "query", {"sql_template": "select * from no_such_table"}, "csv",
                     out.write)  # fmt: skip
    assert out.getvalue() == b""
    assert export(ctx, "query", sql_template=CUSTOMERS)[1] == 4  # the connection still works


def test_cancelling_interrupts_the_statement_and_the_connection_stays_usable(
    ctx: RunContext, engine_name: str
) -> None:
    # Cancelled as soon as the statement is attached (not after a fixed time): the cancel
    # request is repeated every 50 ms until the statement ends.
    watcher = _cancel_when_running(ctx.cancel)
    with pytest.raises(RunCancelledError):
        write_export(ctx, "query", {"sql_template": ENDLESS[engine_name]}, "csv",
                     lambda b: None)  # fmt: skip
    watcher.join()
    fresh = RunContext(base=ctx.base, current=ctx.current, engine=ctx.engine)
    assert export(fresh, "query", sql_template=CUSTOMERS)[1] == 4


class Gone(Exception):
    """The client went away: what the server's file writer would raise."""


def test_a_reader_gone_part_way_stops_the_export_and_the_connection_stays_usable(
    ctx: RunContext,
) -> None:
    chunks: list[bytes] = []

    def emit(chunk: bytes) -> None:
        chunks.append(chunk)
        raise Gone()

    tables = ", ".join(f"{{{{ ref('customers') }}}} t{i}" for i in range(8))
    big = f"select t0.name, t1.name, t2.name, t3.name from {tables}"  # 4^8 rows: many chunks
    with pytest.raises(Gone):
        write_export(ctx, "query", {"sql_template": big}, "csv", emit)
    assert len(chunks) == 1
    assert export(ctx, "query", sql_template=CUSTOMERS)[1] == 4


def test_the_csv_writer_writes_plain_columns_as_they_are_and_converts_the_others() -> None:
    import datetime as dt
    from decimal import Decimal

    from recce_trio.warehouse.export_files import DelimitedRows

    out = io.BytesIO()
    writer = DelimitedRows(out.write, delimiter=",")
    writer.header(["n", "s", "flag", "late"])
    writer.rows([(1, "a,b", True, None), (None, None, False, None)])  # late: only NULLs yet
    writer.rows([(2**70, "x", None, Decimal("1E-8")), (3, 'q"', True, dt.date(2024, 2, 29))])
    writer.close()
    assert out.getvalue().decode() == (
        "n,s,flag,late\r\n"
        '1,"a,b",true,\r\n'
        ",,false,\r\n"
        "1180591620717411303424,x,,0.00000001\r\n"
        '3,"q""",true,2024-02-29\r\n'
    )
