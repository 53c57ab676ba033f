"""dbt-duckdb's own connection: the diffs' statements run under the lowered limits and the
user's values come back after a statement, an error, a statement that did not fit and a
cancel (recce_trio/warehouse/dbt_limits.py). Needs dbt-core and dbt-duckdb: it runs in
``tox -e dbt``, and the ``py`` env leaves it out (tox.ini)."""

from __future__ import annotations

from typing import Any

import pytest

from recce_trio.errors import RunCancelledError, WarehouseError
from recce_trio.warehouse.engine import CancelToken
from tests.warehouse.conftest import ENGINES
from tests.warehouse.test_dbt_limits import BIG, LOWERED, READ

pytestmark = pytest.mark.skipif("dbt-duckdb" not in ENGINES, reason="dbt-duckdb not installed")


def test_dbt_duckdb_bounds_the_diffs_and_restores_the_users_values(dbt_duckdb_engine: Any) -> None:
    engine = dbt_duckdb_engine
    user = engine.execute(READ).rows[0]
    assert engine.execute_bounded(READ).rows == [LOWERED]
    assert engine.execute(READ).rows == [user]
    with engine.bounded_scope():
        assert engine.execute_bounded(READ).rows == [LOWERED]
        # A statement that does not fit runs again under the user's values.
        assert engine.execute_bounded(BIG).rows == [(3000000,)]
        assert engine.execute_bounded(READ).rows == [LOWERED]
    assert engine.execute(READ).rows == [user]
    with pytest.raises(WarehouseError):
        engine.execute_bounded("SELECT * FROM no_such_table")
    assert engine.execute(READ).rows == [user]


def test_dbt_duckdb_restores_the_values_after_a_cancel(dbt_duckdb_engine: Any) -> None:
    from tests.warehouse.test_engines import LONG_QUERY, _cancel_when_running

    engine = dbt_duckdb_engine
    user = engine.execute(READ).rows[0]
    token = CancelToken()
    watcher = _cancel_when_running(token)
    with pytest.raises(RunCancelledError), engine.bounded_scope():
        engine.execute_bounded(LONG_QUERY["dbt-duckdb"], cancel=token)
    watcher.join()
    assert engine.execute(READ).rows == [user]


def test_dbt_duckdb_runs_a_query_under_the_lowered_limits(dbt_duckdb_engine: Any) -> None:
    from recce_trio.warehouse.context import RunContext
    from recce_trio.warehouse.run_query import query_frame
    from tests.warehouse import data
    from tests.warehouse.test_query_bounded import main_frame

    engine = dbt_duckdb_engine
    user = engine.execute(READ).rows[0]
    ctx = RunContext(base=data.manifest("prod"), current=data.manifest("dev"), engine=engine)
    read = "SELECT current_setting('memory_limit') AS m, current_setting('threads') AS t"
    assert query_frame(ctx, read)["data"] == [list(LOWERED)]
    assert engine.execute(READ).rows == [user]
    # A wide plain read (a group of columns at a time) gives what one statement gives.
    for sql in ['select * from "wh"."dev"."wide"', "select * from dev.wide where w1 > 3"]:
        assert query_frame(ctx, sql) == main_frame(engine, sql)
    assert engine.execute(READ).rows == [user]
