"""The keyed diff's join form (core/runsql/keyed.py) against Recce's EXCEPT form, and the value
diff's counts against a count made in Python, on random tables in a real DuckDB: NULL keys
and values, NaN and -0.0, text, changed, removed and added rows, and a row limit that cuts."""

from __future__ import annotations

import math
import os
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recce_trio.core.runresults.builder import RowsSink
from recce_trio.core.runsql import keyed, partitions, queries
from recce_trio.core.runsql.dialect import SqlDialect
from recce_trio.warehouse import keyed_wide
from recce_trio.warehouse.engine import QueryResult

D = SqlDialect("duckdb")
COLUMNS = ["k1", "k2", "v_int", "v_dbl", "v_txt"]
KEYS = ["k1", "k2"]
SETTINGS = settings(
    max_examples=int(os.environ.get("RECCE_FUZZ_EXAMPLES", "40")),
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

keys = st.tuples(st.one_of(st.none(), st.integers(0, 6)), st.sampled_from([None, "a", "b", "é"]))
values = st.tuples(
    st.one_of(st.none(), st.integers(-2, 2)),
    st.sampled_from([None, 0.0, -0.0, 1.5, math.nan]),
    st.sampled_from([None, "", "x", "y", "山"]),
)


@st.composite
def two_sides(draw: st.DrawFn) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Base rows with unique keys, and current rows: some kept, some changed, some new."""
    base_keys = draw(st.lists(keys, unique=True, max_size=12))
    base = [k + draw(values) for k in base_keys]
    current = []
    for row in base:
        fate = draw(st.sampled_from(["same", "same", "changed", "removed"]))
        if fate == "same":
            current.append(row)
        elif fate == "changed":
            current.append(row[:2] + draw(values))
    taken = {r[:2] for r in current}
    for k in draw(st.lists(keys, unique=True, max_size=4)):
        if k not in taken:
            current.append(k + draw(values))
    return base, current


def database(base: list[tuple[Any, ...]], current: list[tuple[Any, ...]]) -> Any:
    con = duckdb.connect()
    for name, rows in (("base_t", base), ("curr_t", current)):
        types = "k1 INTEGER, k2 VARCHAR, v_int BIGINT, v_dbl DOUBLE, v_txt VARCHAR"
        con.execute(f"CREATE TABLE {name} ({types})")
        if rows:
            con.executemany(f"INSERT INTO {name} VALUES (?, ?, ?, ?, ?)", rows)
    return con


def rows_of(con: Any, sql: str) -> list[str]:
    return [repr(r) for r in con.execute(sql).fetchall()]  # repr: NaN equals NaN


@SETTINGS
@given(sides=two_sides(), limit=st.integers(1, 40))
def test_the_join_form_returns_what_except_returns(sides: Any, limit: int) -> None:
    base, current = sides
    con = database(base, current)
    a, b = "SELECT * FROM base_t", "SELECT * FROM curr_t"
    assert keyed.joinable(D, COLUMNS, COLUMNS)
    expected = rows_of(con, queries.keyed_diff(D, a, b, KEYS, limit))
    joined = keyed.joined_diff(D, (a, COLUMNS), (b, COLUMNS), [0, 1], limit)
    assert rows_of(con, joined) == expected
    cols = [d[0] for d in con.execute(joined).description]
    assert cols == [*COLUMNS, "in_a", "in_b"]


def _same(x: Any, y: Any) -> bool:
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return x == y or (x is None and y is None)


class _Connection:
    """What keyed_wide.diff runs its statements on: a real DuckDB connection."""

    dialect = D

    def __init__(self, con: Any) -> None:
        self.con = con

    def execute(self, sql: str, *, limit: int | None = None, bounded: bool = False) -> QueryResult:
        cursor = self.con.execute(sql)
        rows = cursor.fetchall() if limit is None else cursor.fetchmany(limit)
        description = cursor.description
        return QueryResult([d[0] for d in description], [str(d[1]) for d in description], rows)


@SETTINGS
@given(sides=two_sides(), limit=st.integers(1, 40), group=st.integers(1, 3))
def test_the_two_phase_form_returns_what_except_returns(sides: Any, limit: int, group: int) -> None:
    """The wide diff's two phases (a group of ``group`` columns per statement, keys as
    text between them) against Recce's whole EXCEPT form."""
    base, current = sides
    con = database(base, current)
    a, b = "SELECT * FROM base_t", "SELECT * FROM curr_t"
    expected = rows_of(con, queries.keyed_diff(D, a, b, KEYS, limit))
    saved = partitions.GROUP_COLUMNS
    partitions.GROUP_COLUMNS = group
    found = RowsSink(limit)
    try:
        count = keyed_wide.diff(
            _Connection(con),  # type: ignore[arg-type]
            (a, COLUMNS),
            (b, COLUMNS),
            [0, 1],
            ["INTEGER", "VARCHAR"],
            limit,
            found,
            bounded=False,
        )
    finally:
        partitions.GROUP_COLUMNS = saved
    assert [repr(tuple(r)) for r in found.rows] == expected
    assert count == len(expected)
    assert found.columns == [*COLUMNS, "in_a", "in_b"]


@SETTINGS
@given(sides=two_sides())
def test_value_diff_counts_match_a_count_in_python(sides: Any) -> None:
    base, current = sides
    con = database(base, current)
    sql = queries.value_diff(D, ("base_t", KEYS, COLUMNS), ("curr_t", KEYS, COLUMNS))
    row = con.execute(sql).fetchone()
    total, added, removed, common, *mismatches = (int(v or 0) for v in row)  # NULL: no rows
    by_key = {r[:2]: r for r in current}
    pairs = [(r, by_key[r[:2]]) for r in base if r[:2] in by_key]
    assert (total, added, removed, common) == (
        len(base) + len(current) - len(pairs),
        len(current) - len(pairs),
        len(base) - len(pairs),
        len(pairs),
    )
    assert mismatches == [sum(not _same(x[i], y[i]) for x, y in pairs) for i in range(5)]


def test_duplicated_keys_are_counted_per_side() -> None:
    con = database([(1, "a", 1, 0.0, "x"), (1, "a", 2, 0.0, "x")], [(None, None, 1, 0.0, "")])
    sql = keyed.duplicated_keys(D, "SELECT * FROM base_t", "SELECT * FROM curr_t", KEYS, KEYS)
    assert con.execute(sql).fetchall() == [(1, 0)]


@pytest.mark.parametrize(
    ("dialect", "base", "current", "expected"),
    [
        ("duckdb", ["a", "b"], ["x", "y"], True),
        ("postgres", ["a", "b"], ["a", "b"], False),  # no FULL JOIN on IS NOT DISTINCT FROM
        ("duckdb", ["a", "b"], ["a"], False),  # EXCEPT reports the mismatch
        ("duckdb", ["a", "A"], ["a", "b"], False),  # a name that cannot be selected alone
    ],
)
def test_when_the_join_form_applies(
    dialect: str, base: list[str], current: list[str], expected: bool
) -> None:
    assert keyed.joinable(SqlDialect(dialect), base, current) is expected


def test_a_key_whose_type_changed_keeps_the_except_form_and_the_text_join() -> None:
    # An id that became text in the current environment: EXCEPT compares them as text,
    # while a join or a COALESCE of INTEGER and VARCHAR is refused by DuckDB.
    con = duckdb.connect()
    con.execute("CREATE TABLE a (k INTEGER, v VARCHAR)")
    con.execute("INSERT INTO a VALUES (1, 'x'), (2, 'y')")
    con.execute("CREATE TABLE b (k VARCHAR, v VARCHAR)")
    con.execute("INSERT INTO b VALUES ('1', 'x'), ('2', 'z'), ('3', 'w')")
    types = (["integer", "varchar"], ["varchar", "varchar"])
    assert not keyed.joinable(D, ["k", "v"], ["k", "v"], types=types)
    assert keyed.joinable(D, ["k", "v"], ["k", "v"], types=(types[1], types[1]))
    diff = queries.keyed_diff(D, "SELECT * FROM a", "SELECT * FROM b", ["k"], 10)
    assert con.execute(diff).fetchall() == [
        ("2", "y", True, False),
        ("2", "z", False, True),
        ("3", "w", False, True),
    ]
    sql = queries.value_diff(D, ("a", ["k"], ["k", "v"]), ("b", ["k"], ["k", "v"]), raw_keys=False)
    # total, added, removed, common, then mismatches of k and v
    assert con.execute(sql).fetchone() == (3, 1, 0, 2, 0, 1)
