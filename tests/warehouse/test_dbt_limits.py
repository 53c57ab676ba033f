"""dbt-duckdb's DuckDB runs in the server's process: its limits are lowered while the diffs'
statements run and the user's values come back after, also after an error, a cancel or a
statement that did not fit (recce_trio/warehouse/dbt_limits.py). On a real DuckDB; through
dbt-duckdb in test_dbt_limits_adapter.py (tox -e dbt)."""

from __future__ import annotations

import threading
from typing import Any

import duckdb
import pytest

from recce_trio.warehouse.dbt_limits import BoundedLimits, profile_sets_limits

READ = "SELECT current_setting('memory_limit'), current_setting('threads')"
LOWERED = ("22.8 MiB", 1)
# Needs far more than 24 MB and cannot spill: runs only under the user's limits.
BIG = "SELECT COUNT(DISTINCT range) FROM range(3000000)"


def limits_on(con: Any) -> BoundedLimits:
    lock = threading.Lock()

    def run_sql(sql: str) -> list[tuple[Any, ...]]:
        with lock:
            return con.cursor().execute(sql).fetchall()

    (limit, threads), *_ = run_sql(READ)
    return BoundedLimits(run_sql, (str(limit), str(threads)))


def test_lowered_in_nested_scopes_and_back_after_the_last() -> None:
    con = duckdb.connect()
    user = con.execute(READ).fetchone()
    limits = limits_on(con)
    with limits.scope():
        assert con.execute(READ).fetchone() == LOWERED
        with limits.scope():
            assert con.execute(READ).fetchone() == LOWERED
        assert con.execute(READ).fetchone() == LOWERED  # the outer scope still runs
        with limits.suspended():
            assert con.execute(READ).fetchone() == user
            assert con.execute(BIG).fetchone() == (3000000,)
        assert con.execute(READ).fetchone() == LOWERED
    assert con.execute(READ).fetchone() == user
    assert not limits.lowered


def test_an_error_inside_the_scope_restores_the_values() -> None:
    con = duckdb.connect()
    user = con.execute(READ).fetchone()
    limits = limits_on(con)
    with pytest.raises(duckdb.Error), limits.scope():
        con.execute("SELECT * FROM no_such_table")
    assert con.execute(READ).fetchone() == user


def test_values_changed_at_run_time_are_left_alone() -> None:
    con = duckdb.connect()
    limits = limits_on(con)  # the defaults, read when the instance was opened
    con.execute("SET memory_limit = '300MB'")
    con.execute("SET threads = 1")
    with limits.scope():
        assert not limits.lowered
        assert con.execute(READ).fetchone() == ("286.1 MiB", 1)
    assert con.execute(READ).fetchone() == ("286.1 MiB", 1)


def test_concurrent_scopes_share_one_lowering() -> None:
    con = duckdb.connect()
    user = con.execute(READ).fetchone()
    limits = limits_on(con)
    inside = threading.Barrier(3)
    leave = threading.Event()
    seen: list[Any] = []

    def diff() -> None:
        with limits.scope():
            inside.wait()
            leave.wait()
        seen.append(con.cursor().execute(READ).fetchone())

    threads = [threading.Thread(target=diff) for _ in range(2)]
    for t in threads:
        t.start()
    inside.wait()
    assert con.execute(READ).fetchone() == LOWERED
    leave.set()
    for t in threads:
        t.join()
    assert con.execute(READ).fetchone() == user and not limits.lowered


def test_a_profile_that_sets_the_limits_is_left_alone() -> None:
    assert profile_sets_limits({"settings": {"memory_limit": "1GB"}})
    assert profile_sets_limits({"config_options": {"Threads": 4}})
    assert not profile_sets_limits({"config_options": {"access_mode": "READ_ONLY"}})
    assert not profile_sets_limits({"path": "x.duckdb"})
