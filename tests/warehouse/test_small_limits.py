"""A wide diff's statements (a group of columns each) run in DuckDB under a smaller memory
limit still, so that the server holds less of the tables cached (duckdb_engine.small_scope,
dbt_limits.BoundedLimits.small): any other diff's statement running meanwhile gets the
ordinary limit back; a small statement that does not fit runs again under the ordinary
limit, then on the main connection, and gives its rows."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import duckdb
import pytest

from recce_trio.warehouse.dbt_limits import BoundedLimits
from recce_trio.warehouse.duckdb_engine import DuckDBEngine

LIMIT = "SELECT current_setting('memory_limit') AS m"
SMALL, ORDINARY, MAIN = "11.4 MiB", "22.8 MiB", "488.2 MiB"
# A list aggregate cannot spill: 500k values fit in 24 MB, not in 12; 1M fit in neither.
NEEDS = "SELECT current_setting('memory_limit') AS m, len(list(range)) AS n FROM range({n})"


@pytest.fixture
def engine(tmp_path: Path) -> Any:
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE t AS SELECT range AS id FROM range(10)")
    con.close()
    engine = DuckDBEngine(path)
    yield engine
    engine.close()


def test_small_statements_run_under_the_small_limit_and_others_under_theirs(engine: Any) -> None:
    assert engine.execute_bounded(LIMIT).rows == [(ORDINARY,)]
    with engine.small_scope():
        assert engine.execute_bounded(LIMIT, small=True).rows == [(SMALL,)]
        # Another run's diff, meanwhile: the ordinary limit while it runs, then small again.
        assert engine.execute_bounded(LIMIT).rows == [(ORDINARY,)]
        assert engine.execute_bounded(LIMIT, small=True).rows == [(SMALL,)]
        assert engine.execute(LIMIT).rows == [(MAIN,)]  # the main connection: untouched
    assert engine.execute_bounded(LIMIT).rows == [(ORDINARY,)]


def test_a_small_statement_that_does_not_fit_runs_again_under_the_ordinary_limit(
    engine: Any,
) -> None:
    with engine.small_scope():
        assert engine.execute_bounded(NEEDS.format(n=500_000), small=True).rows == [
            (ORDINARY, 500_000)
        ]
        assert engine.execute_bounded(NEEDS.format(n=1_000_000), small=True).rows == [
            (MAIN, 1_000_000)
        ]
        assert engine.execute_bounded(LIMIT, small=True).rows == [(SMALL,)]


def test_concurrent_small_scopes_share_one_lowering(engine: Any) -> None:
    inside = threading.Barrier(3)
    leave = threading.Event()
    seen: list[Any] = []

    def wide_diff() -> None:
        with engine.small_scope():
            inside.wait()
            leave.wait()
            seen.append(engine.execute_bounded(LIMIT, small=True).rows[0][0])

    threads = [threading.Thread(target=wide_diff) for _ in range(2)]
    for t in threads:
        t.start()
    inside.wait()
    assert engine.execute_bounded(LIMIT, small=True).rows == [(SMALL,)]
    leave.set()
    for t in threads:
        t.join()
    assert seen == [SMALL, SMALL]
    assert engine.execute_bounded(LIMIT).rows == [(ORDINARY,)]


def test_the_dbt_instance_s_small_level_gives_way_to_ordinary_scopes_and_the_user() -> None:
    con = duckdb.connect()
    lock = threading.Lock()

    def run_sql(sql: str) -> list[tuple[Any, ...]]:
        with lock:
            return con.cursor().execute(sql).fetchall()

    read = "SELECT current_setting('memory_limit'), current_setting('threads')"
    user = con.execute(read).fetchone()
    (limit, threads), *_ = run_sql(read)
    limits = BoundedLimits(run_sql, (str(limit), str(threads)))
    with limits.small():
        assert con.execute(read).fetchone() == (SMALL, 1)
        with limits.scope():
            assert con.execute(read).fetchone() == (ORDINARY, 1)
        assert con.execute(read).fetchone() == (SMALL, 1)
        with limits.suspended():
            assert con.execute(read).fetchone() == user
        assert con.execute(read).fetchone() == (SMALL, 1)
    assert con.execute(read).fetchone() == user
    assert not limits.lowered
