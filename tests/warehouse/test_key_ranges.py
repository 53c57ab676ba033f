"""Keyed diffs split into ranges of the first key (core/runsql/partitions.py, warehouse/
ranges.py): on random tables, range by range gives what the whole statement gives, wherever
the boundaries fall; through the runner, every engine gives the same result split and whole;
DuckDB runs the ranges in its diff instance, falls back when a range does not fit there, and
a cancel stops the diff between two ranges."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recce_trio.core.runresults.builder import RowsSink
from recce_trio.core.runsql import keyed, partitions, queries
from recce_trio.errors import RunCancelledError
from recce_trio.warehouse import duckdb_engine, keyed_wide
from recce_trio.warehouse.context import RunContext
from recce_trio.warehouse.runner import execute_run
from tests.warehouse import data
from tests.warehouse.conftest import duckdb_target
from tests.warehouse.test_keyed_join import (
    COLUMNS,
    SETTINGS,
    D,
    _Connection,
    database,
    rows_of,
    two_sides,
)

# The first key is an INTEGER (k1) or a VARCHAR (k2); boundaries anywhere among the values,
# in any order (the cuts are running GREATESTs of them).
KEY_ORDERS = {"k1": (["k1", "k2"], [0, 1], "INTEGER"), "k2": (["k2", "k1"], [1, 0], "VARCHAR")}
int_bounds = st.lists(st.integers(-1, 8).map(str), max_size=4)
text_bounds = st.lists(st.sampled_from(["", "a", "ab", "b", "c", "é", "z"]), max_size=4)


def ranged_rows(
    con: Any, first: str, bounds: list[str], limit: int, *, dups: bool, two_phase: bool = False
) -> list[str]:
    """The keyed diff range by range, as warehouse/ranges.py runs it: each range's first
    rows until ``limit``; the EXCEPT form in a range with a duplicated key (``dups``);
    ``two_phase``: each range as a wide diff runs it (keyed_wide.py, a column per group)."""
    keys, positions, key_type = KEY_ORDERS[first]
    rows: list[str] = []
    for condition in partitions.conditions(D, first, key_type, bounds):
        a = partitions.within("SELECT * FROM base_t", condition)
        b = partitions.within("SELECT * FROM curr_t", condition)
        check = keyed.duplicated_keys(D, a, b, keys, keys)
        if any(con.execute(check).fetchone()):
            assert dups, "a duplicated key where none was made"
            sql = queries.keyed_diff(D, a, b, keys, limit - len(rows))
        elif two_phase:
            types = [key_type, "VARCHAR" if key_type == "INTEGER" else "INTEGER"]
            found = RowsSink(limit - len(rows))
            keyed_wide.diff(
                _Connection(con),  # type: ignore[arg-type]
                (a, COLUMNS),
                (b, COLUMNS),
                positions,
                types,  # in the keys' order
                limit - len(rows),
                found,
                bounded=False,
            )
            rows += [repr(tuple(r)) for r in found.rows]
            if len(rows) >= limit:
                break
            continue
        else:
            sql = keyed.joined_diff(D, (a, COLUMNS), (b, COLUMNS), positions, limit - len(rows))
        rows += rows_of(con, sql)
        if len(rows) >= limit:
            break
    return rows


# Two-phase: the differing keys first, a statement per compared column, then their rows.
@pytest.mark.parametrize("two_phase", [False, True], ids=["one_statement", "two_phases"])
@SETTINGS
@given(
    sides=two_sides(),
    limit=st.integers(1, 40),
    first=st.sampled_from(["k1", "k2"]),
    bounds=st.data(),
)
def test_range_by_range_returns_what_except_returns(
    two_phase: bool, sides: Any, limit: int, first: str, bounds: st.DataObject
) -> None:
    base, current = sides
    con = database(base, current)
    keys = KEY_ORDERS[first][0]
    cuts = bounds.draw(int_bounds if first == "k1" else text_bounds)
    expected = rows_of(
        con, queries.keyed_diff(D, "SELECT * FROM base_t", "SELECT * FROM curr_t", keys, limit)
    )
    saved = partitions.GROUP_COLUMNS
    partitions.GROUP_COLUMNS = 1
    try:
        assert ranged_rows(con, first, cuts, limit, dups=False, two_phase=two_phase) == expected
    finally:
        partitions.GROUP_COLUMNS = saved


@SETTINGS
@given(sides=two_sides(), cuts=int_bounds, extra=st.integers(0, 6))
def test_a_range_with_a_duplicated_key_takes_the_except_form(
    sides: Any, cuts: list[str], extra: int
) -> None:
    base, current = sides
    # One current row repeated with other values: its key is duplicated in one range only.
    current = [*current, *([(*current[0][:2], 99, 9.5, "dup")] if current else [])]
    con = database(base, current)
    keys = KEY_ORDERS["k1"][0]
    whole = "SELECT * FROM base_t", "SELECT * FROM curr_t"
    limit = 60  # every row: ties between the duplicated rows may come in any order
    expected = sorted(rows_of(con, queries.keyed_diff(D, *whole, keys, limit)))
    assert sorted(ranged_rows(con, "k1", [*cuts, str(extra)], limit, dups=True)) == expected


def _same(x: Any, y: Any) -> bool:
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return x == y or (x is None and y is None)


@SETTINGS
@given(sides=two_sides(), cuts=int_bounds)
def test_value_diff_counts_summed_over_ranges_match_a_count_in_python(
    sides: Any, cuts: list[str]
) -> None:
    base, current = sides
    con = database(base, current)
    keys = KEY_ORDERS["k1"][0]
    total = [0] * 9
    for condition in partitions.conditions(D, "k1", "INTEGER", cuts):
        a = f"({partitions.within('SELECT * FROM base_t', condition)}) AS _recce_part"
        b = f"({partitions.within('SELECT * FROM curr_t', condition)}) AS _recce_part"
        row = con.execute(queries.value_diff(D, (a, keys, COLUMNS), (b, keys, COLUMNS))).fetchone()
        total = [t + int(v or 0) for t, v in zip(total, row, strict=True)]
    by_key = {r[:2]: r for r in current}
    pairs = [(r, by_key[r[:2]]) for r in base if r[:2] in by_key]
    assert total[:4] == [
        len(base) + len(current) - len(pairs),
        len(current) - len(pairs),
        len(base) - len(pairs),
        len(pairs),
    ]
    assert total[4:] == [sum(not _same(x[i], y[i]) for x, y in pairs) for i in range(5)]


def test_boundaries_come_back_as_text_that_casts_to_the_key_type() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT range AS k, TIMESTAMPTZ '2024-01-01 00:00:00+00' + "
                "INTERVAL (range) HOUR AS ts FROM range(1000)")  # fmt: skip
    for key, key_type in (("k", "BIGINT"), ("ts", "TIMESTAMP WITH TIME ZONE")):
        sql = partitions.boundaries(D, "SELECT * FROM t", key, 4)
        bounds = [row[0] for row in con.execute(sql).fetchall()]
        assert len(bounds) == 3
        sizes = [
            con.execute(f"SELECT COUNT(*) FROM t WHERE {c}").fetchone()[0]
            for c in partitions.conditions(D, key, key_type, bounds)
        ]
        assert sum(sizes) == 1000 and sizes[-1] == 0  # each row in one range; no NULL key
        assert all(150 < n < 350 for n in sizes[:-1])  # a sample's quartiles: roughly even


def test_what_can_be_split() -> None:
    assert partitions.splittable(D, "integer") and partitions.splittable(D, "varchar")
    assert partitions.splittable(D, "timestamp with time zone")
    assert not partitions.splittable(D, "struct(a integer)")
    assert not partitions.splittable(D, "time with time zone")
    assert not partitions.splittable(type(D)("postgres"), "integer")
    assert partitions.count_for(1_000_000, 21) == 21
    assert partitions.count_for(10_000, 21) == 1
    # A row-limited diff (query_diff, value_diff_detail) takes ranges 4 times smaller.
    assert partitions.count_for(1_000_000, 21, ordered=True) == 84
    assert partitions.count_for(100_000_000, 21) == partitions.MAX_RANGES
    # Wider than 21 columns, a range also takes fewer cells (each column pins its blocks).
    assert partitions.count_for(300_000, 61) == 54


# Through the runner: split wherever possible (a range per few cells) and whole.
def _query(model: str, *keys: str) -> tuple[str, dict[str, Any]]:
    template = f"select * from {{{{ ref('{model}') }}}}"
    return "query_diff", {"sql_template": template, "primary_keys": list(keys)}


CASES = [
    _query("customers", "customer_id"),
    _query("customers", "name"),  # VARCHAR
    _query("customers", "updated_at"),  # TIMESTAMP WITH TIME ZONE, a NULL
    _query("orders", "order_id", "line_no"),  # a NULL first key
    _query("events", "event_id"),  # duplicated: the EXCEPT form
    ("value_diff", {"model": "customers", "primary_key": "customer_id"}),
    ("value_diff", {"model": "orders", "primary_key": ["order_id", "line_no"]}),
    ("value_diff_detail", {"model": "orders", "primary_key": ["order_id", "line_no"]}),
    ("value_diff_detail", {"model": "customers", "primary_key": "signup"}),  # DATE
]


def _run(engine: Any, run_type: str, params: dict[str, Any]) -> Any:
    ctx = RunContext(base=data.manifest("prod"), current=data.manifest("dev"), engine=engine)
    result = execute_run(run_type, dict(params), ctx).result
    if run_type == "query_diff" and params["primary_keys"] == ["event_id"]:
        result["diff"]["data"].sort(key=repr)  # a duplicated key: its two rows in any order
    return result


@pytest.mark.parametrize(("run_type", "params"), CASES)
def test_split_and_whole_give_the_same_result(
    engine: Any, run_type: str, params: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _run(engine, run_type, params)
    monkeypatch.setattr(partitions, "CELLS_PER_RANGE", 1)
    assert _run(engine, run_type, params) == whole


def test_duckdb_runs_the_ranges_in_its_diff_instance_and_falls_back_when_they_do_not_fit(
    duckdb_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recce_trio.warehouse.connect import open_engine

    engine = open_engine(duckdb_target(duckdb_file))
    try:
        params = {"model": "orders", "primary_key": ["order_id", "line_no"]}
        whole = _run(engine, "value_diff", params)
        limit_sql = "SELECT current_setting('memory_limit'), current_setting('threads')"
        assert engine.execute_bounded(limit_sql).rows == [("22.8 MiB", 1)]  # 24 MB, 1 thread
        assert engine.execute_bounded("SELECT COUNT(*) FROM dev.orders").rows == [(5,)]
        monkeypatch.setattr(partitions, "CELLS_PER_RANGE", 1)
        assert _run(engine, "value_diff", params) == whole
        # A statement too big for the diff instance runs again on the main connection.
        engine.execute_bounded("SET memory_limit = '1MB'")
        big = "SELECT COUNT(DISTINCT range) FROM range(3000000)"
        assert engine.execute_bounded(big).rows == [(3000000,)]
        assert _run(engine, "value_diff", params) == whole
    finally:
        engine.close()


def test_duckdb_profiles_in_its_diff_instance(
    duckdb_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recce_trio.warehouse.connect import open_engine

    engine = open_engine(duckdb_target(duckdb_file))
    try:
        whole = _run(engine, "profile_diff", {"model": "orders"})
        bounded: list[str] = []
        real = engine.execute_bounded

        def record(sql: str, **kwargs: Any) -> Any:
            bounded.append(sql)
            return real(sql, **kwargs)

        monkeypatch.setattr(engine, "execute_bounded", record)
        assert _run(engine, "profile_diff", {"model": "orders"}) == whole
        # Both sides' profile statements ran bounded (a few columns each where big).
        assert len(bounded) == 2 and all("MEDIAN" in s.upper() for s in bounded)
    finally:
        engine.close()


def test_a_profile_memory_limit_keeps_the_diffs_on_the_one_connection(duckdb_file: Path) -> None:
    target = duckdb_target(duckdb_file)
    target.settings["settings"] = {"memory_limit": "300MB"}
    engine = duckdb_engine.open_duckdb(target)
    try:
        limit = engine.execute_bounded("SELECT current_setting('memory_limit')").rows[0][0]
        assert limit == "286.1 MiB"  # the profile's 300 MB, not the diff instance's
    finally:
        engine.close()


def test_a_cancelled_diff_stops_between_two_ranges(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(partitions, "CELLS_PER_RANGE", 1)
    ctx = RunContext(base=data.manifest("prod"), current=data.manifest("dev"), engine=engine)

    def progress(message: str, fraction: float | None) -> None:
        if message.startswith("Diff columns"):
            ctx.cancel.cancel()

    ctx.progress = progress
    with pytest.raises(RunCancelledError):
        execute_run("value_diff", {"model": "customers", "primary_key": "customer_id"}, ctx)
    after = _run(engine, "value_diff", {"model": "customers", "primary_key": "customer_id"})
    assert after["summary"] == {"total": 5, "added": 1, "removed": 1}


def test_a_statement_in_the_diff_instance_is_interrupted_and_the_instance_still_works(
    duckdb_file: Path,
) -> None:
    from recce_trio.warehouse.connect import open_engine
    from recce_trio.warehouse.engine import CancelToken
    from tests.warehouse.test_engines import LONG_QUERY, _cancel_when_running

    engine = open_engine(duckdb_target(duckdb_file))
    try:
        token = CancelToken()
        watcher = _cancel_when_running(token)
        with pytest.raises(RunCancelledError):
            engine.execute_bounded(LONG_QUERY["duckdb"], cancel=token)
        watcher.join()
        assert engine.execute_bounded("SELECT COUNT(*) FROM prod.orders").rows == [(5,)]
    finally:
        engine.close()
