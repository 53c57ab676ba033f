"""A query run's own statement runs where the server's memory stays bounded (DuckDB's diff
instance, duckdb_engine.execute_user), and a wide plain read of one table a group of
columns at a time (warehouse/query_groups.py): every query gives what the main connection
gives, writes stay refused, and what the instance cannot run runs on the main connection."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import duckdb
import pytest

from recce_trio.core.runresults.frames import dataframe
from recce_trio.core.runsql import plain_scan
from recce_trio.core.runsql.dialect import SqlDialect
from recce_trio.errors import RunCancelledError, WarehouseError
from recce_trio.warehouse.context import RunContext
from recce_trio.warehouse.duckdb_engine import DuckDBEngine
from recce_trio.warehouse.run_query import query_frame
from tests.warehouse import data

INSTANCE_LIMIT = "22.8 MiB"  # the diff instance's ordinary level (24 MB)
MAIN_LIMIT = "488.2 MiB"  # the main connection's 512 MB
WIDE = 30  # columns of the wide table: more than partitions.WIDE_COLUMNS
ROWS = 2_600  # more than the 2,000-row limit


def _wide_columns() -> str:
    kinds = [
        "(g * 7919) % 1000 - 500",  # integers
        "CASE WHEN g % 11 = 0 THEN NULL ELSE g / 8.0 END",  # doubles with NULLs
        "'s' || g::VARCHAR || ' ü'",  # text
        "DATE '2024-01-01' + (g % 400)::INTEGER",  # dates
        "CAST(g AS DECIMAL(12, 2)) / 3",  # decimals
        "g % 3 = 0",  # booleans
    ]
    return ", ".join(f"{kinds[i % len(kinds)]} AS c{i}" for i in range(WIDE))


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bounded") / "q.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA s")
    # Stored out of key order: a plain read gives the rows in the table's order.
    con.execute(
        f"CREATE TABLE s.wide AS SELECT g AS id, {_wide_columns()} "
        f"FROM range({ROWS}) t(g) ORDER BY (g * 104729) % {ROWS}"
    )
    con.execute("CREATE TABLE s.small AS SELECT g AS id, g % 5 AS k FROM range(50) t(g)")
    con.execute("CREATE VIEW s.wide_view AS SELECT * FROM s.wide ORDER BY id DESC")
    con.close()
    return path


@pytest.fixture
def engine(db: Path) -> Any:
    engine = DuckDBEngine(db, threads=2)
    yield engine
    engine.close()


def _ctx(engine: DuckDBEngine, *, packed: bool = False, build: bool = True) -> RunContext:
    ctx = RunContext(base=data.manifest("prod"), current=data.manifest("dev"), engine=engine)
    ctx.packed_frames, ctx.build_frames = packed, build
    return ctx


def main_frame(engine: DuckDBEngine, sql: str) -> dict[str, Any]:
    """The frame as before: the statement on the main connection, the frame from its rows."""
    result = engine.execute(sql, limit=2001)
    more = len(result.rows) > 2000
    total = len(result.rows[:2000])
    if more:
        total = engine.execute(f"SELECT COUNT(*) FROM ({sql}) AS c").rows[0][0]
    rows = result.rows[:2000]
    return dataframe(result.columns, rows, limit=2000, more=more, total_row_count=total)


QUERIES = [
    "select * from s.wide",  # wide and plain: a group of columns at a time
    'select * from "q"."s"."wide" where c0 > 0;',
    "select id, c2 || '!' as shout, * exclude (c3) from s.wide where id % 3 <> 1",
    "from s.wide",
    "select * from s.wide_view",  # a view: one statement
    "select * from s.wide order by c1 nulls first, id",
    "select * from s.wide where c0 > -400 order by c0 desc, 1",  # no ties: by groups
    "select c2 as id, id as c2, * exclude (id, c2) from s.wide order by id",  # the alias's
    "select * from s.wide limit 10",
    "select * from s.wide where c5 limit 2100 offset 3",
    "select * from s.wide where id in (select id from s.small)",  # wide, not plain: the main
    "select c0, count(*) as n, sum(c4) as total from s.wide group by c0 order by c0",
    "select a.id, b.k, a.c2 from s.wide a join s.small b on a.id = b.id order by a.id",
    "select id, row_number() over (partition by id % 7 order by id) as rn from s.wide order by 1",
    "with w as (select id, c0 from s.wide where c0 < 0) select * from w order by id limit 5",
    "select 1 as one",
]


@pytest.mark.parametrize("sql", QUERIES)
def test_every_query_gives_what_the_main_connection_gives(engine: Any, sql: str) -> None:
    expected = main_frame(engine, sql)
    assert query_frame(_ctx(engine), sql) == expected
    assert query_frame(_ctx(engine, build=False), sql) == expected


def test_an_order_with_ties_gives_whole_rows_in_order(engine: Any) -> None:
    # c5 is TRUE or FALSE: its ties are in any order, but each row is one row of the table.
    frame = query_frame(_ctx(engine), "select * from s.wide order by c5, c0")
    rows = {tuple(r) for r in _main_frame_all(engine)}
    assert all(tuple(row) in rows for row in frame["data"])
    keys = [(row[6], row[1]) for row in frame["data"]]
    assert keys == sorted(keys) and len(frame["data"]) == 2000


def _main_frame_all(engine: Any) -> list[list[Any]]:
    result = engine.execute("select * from s.wide")
    return list(dataframe(result.columns, result.rows)["data"])


def test_a_wide_plain_read_sends_the_same_json_packed(engine: Any) -> None:
    import msgspec

    sql = "select * from s.wide"
    packed = query_frame(_ctx(engine, packed=True), sql)
    assert packed["more"] is True and packed["total_row_count"] == ROWS
    assert msgspec.json.encode(packed) == msgspec.json.encode(main_frame(engine, sql))


def test_a_query_runs_under_the_bounded_instance_s_limit(engine: Any) -> None:
    frame = query_frame(_ctx(engine), "select current_setting('memory_limit') as m")
    assert frame["data"] == [[INSTANCE_LIMIT]]
    assert engine.execute("select current_setting('memory_limit')").rows == [(MAIN_LIMIT,)]


def test_the_instance_lists_the_same_databases_as_the_main_connection(engine: Any) -> None:
    sql = "select database_name from duckdb_databases() order by 1"
    assert query_frame(_ctx(engine), sql)["data"] == [["q"], ["system"], ["temp"]]
    assert engine.execute(sql).rows == [("q",), ("system",), ("temp",)]


@pytest.mark.parametrize(
    "sql",
    [
        "drop table s.wide",
        "create table s.intruder as select 1 as x",
        "insert into s.small values (99, 1)",
        "create table memory.main.intruder as select 1 as x",  # the instance's own catalog
        "attach ':memory:' as memory; create table memory.intruder as select 1 as x",
    ],
)
def test_writes_are_still_refused_and_nothing_changes(engine: Any, sql: str) -> None:
    with pytest.raises(WarehouseError) as info:
        query_frame(_ctx(engine), sql)
    if sql.startswith(("drop", "create table s.", "insert")):
        assert "read-only" in str(info.value).lower()
    assert query_frame(_ctx(engine), "select count(*) as n from s.small")["data"] == [[50]]
    for catalog in ("memory", "q"):
        with pytest.raises(WarehouseError):
            query_frame(_ctx(engine), f"select * from {catalog}.main.intruder")
    assert engine.execute("select count(*) from duckdb_tables()").rows == [(2,)]


def test_a_query_in_the_instance_is_cancelled_and_the_instance_still_works(engine: Any) -> None:
    ctx = _ctx(engine)
    endless = "select count(*) from range(1000000000) a, range(1000) b where a.range <> b.range"

    def cancel_when_running() -> None:
        while not ctx.cancel.running:
            threading.Event().wait(0.005)
        ctx.cancel.cancel()

    watcher = threading.Thread(target=cancel_when_running, daemon=True)
    watcher.start()
    with pytest.raises(RunCancelledError):
        query_frame(ctx, endless)
    watcher.join()
    after = query_frame(_ctx(engine), "select current_setting('memory_limit') as m, 42 as n")
    assert after["data"] == [[INSTANCE_LIMIT, 42]]
    assert query_frame(_ctx(engine), "select count(*) as n from s.wide")["data"] == [[ROWS]]


def test_a_database_only_the_main_connection_attached_is_read_there(
    tmp_path: Path, db: Path
) -> None:
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE t AS SELECT 7 AS seven")
    con.close()
    engine = DuckDBEngine(db, threads=2, external_access=True)
    try:
        engine.execute(f"ATTACH '{other}' AS other (READ_ONLY)")
        frame = query_frame(
            _ctx(engine), "select seven, current_setting('memory_limit') from other.t"
        )
        assert frame["data"] == [[7, MAIN_LIMIT]]  # the instance could not: the main did
        assert query_frame(_ctx(engine), "select 1 as one")["data"] == [[1]]
    finally:
        engine.close()


def test_a_syntax_error_is_the_main_connection_s_message(engine: Any) -> None:
    with pytest.raises(WarehouseError, match="syntax error") as info:
        query_frame(_ctx(engine), "selec * from s.wide")
    with pytest.raises(WarehouseError) as main:
        engine.execute("selec * from s.wide")
    assert info.value.message == main.value.message


def test_plain_reads_are_told_from_the_rest() -> None:
    d = SqlDialect("duckdb")
    plain = {
        'select * from "db"."s"."t"': ("db", "s", "t"),
        "select a, b + 1 as c from t where x > 1;": ("t",),
        "select * exclude (a) from s.t": ("s", "t"),
        "from t": ("t",),
        "select * from t where a > 0 limit 5 offset 2": ("t",),  # the table's first rows
        "select * from t order by id desc, 2 nulls first": ("t",),
    }
    for sql, table in plain.items():
        assert plain_scan.scanned_table(d, sql) == table
    for sql in [
        "select count(*) from t",
        "select * from t order by a limit 5",  # ties at its limit's edge: any of them
        "select * from t order by a offset 5",
        "select * from t order by a + 1",
        "select * from t order by t.a",
        "select distinct a from t",
        "select * from t join u using (a)",
        "select * from t, u",
        "with x as (select 1) select * from x",
        "select * from read_csv('x.csv')",
        "select row_number() over () from t",
        "select * from t where a in (select 1)",
        "select * from t union all select * from t",
        "select * from t using sample 10%",
        "select random() as r, r * 2 from t",
        "select 1",
        "select * from t; select 1",
        "selec x",
    ]:
        assert plain_scan.scanned_table(d, sql) is None, sql
    assert plain_scan.has_duplicate_names(["a", "A"])
    assert plain_scan.has_duplicate_names(["a", "a_2"])
    assert not plain_scan.has_duplicate_names(["a_1", "b", "c_2"])
