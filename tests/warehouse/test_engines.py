"""Engines against real warehouses: cancelling, read-only, concurrency and failures."""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from recce_trio.errors import (
    ExternalAccessBlockedError,
    RunCancelledError,
    WarehouseConnectError,
    WarehouseError,
)
from recce_trio.warehouse.connect import open_engine
from recce_trio.warehouse.context import RunContext
from recce_trio.warehouse.engine import CancelToken
from recce_trio.warehouse.profiles import WarehouseTarget
from recce_trio.warehouse.runner import execute_run
from tests.warehouse import data
from tests.warehouse.conftest import duckdb_target

LONG_QUERY = {
    "duckdb": "SELECT COUNT(*) FROM range(200000) a, range(200000) b WHERE a.range + b.range < 0",
    "dbt-duckdb": (
        "SELECT COUNT(*) FROM range(200000) a, range(200000) b WHERE a.range + b.range < 0"
    ),
    "postgres": (
        "SELECT COUNT(*) FROM generate_series(1, 200000) a, generate_series(1, 200000) b "
        "WHERE a + b < 0"
    ),
}


def _cancel_when_running(token: CancelToken) -> threading.Thread:
    """Cancel from another thread as soon as the statement is attached to the token."""

    def watch() -> None:
        while not token.running:  # the engine is starting the statement
            threading.Event().wait(0.005)
        token.cancel()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_cancel_interrupts_the_statement_and_the_engine_still_works(
    engine, engine_name: str
) -> None:  # type: ignore[no-untyped-def]
    token = CancelToken()
    watcher = _cancel_when_running(token)
    with pytest.raises(RunCancelledError, match="Cancelled"):
        engine.execute(LONG_QUERY[engine_name], cancel=token)
    watcher.join()
    assert engine.execute("SELECT 41 + 1 AS answer").rows == [(42,)]


def test_cancelled_run_stops_before_its_next_statement(engine) -> None:  # type: ignore[no-untyped-def]
    ctx = RunContext(base=data.manifest("prod"), current=data.manifest("dev"), engine=engine)
    seen: list[str] = []

    def progress(message: str, fraction: float | None) -> None:
        seen.append(message)
        if len(seen) == 2:
            ctx.cancel.cancel()

    ctx.progress = progress
    with pytest.raises(RunCancelledError):
        execute_run("row_count_diff", {"node_names": ["customers", "orders", "events"]}, ctx)
    assert seen == ["Diff: customers [1/3]", "Diff: orders [2/3]"]


def test_interrupt_all_stops_every_running_statement(engine, engine_name: str) -> None:  # type: ignore[no-untyped-def]
    errors: list[BaseException] = []
    tokens = [CancelToken(), CancelToken()]

    def run(token: CancelToken) -> None:
        try:
            engine.execute(LONG_QUERY[engine_name], cancel=token)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    while not all(t.running for t in tokens):
        threading.Event().wait(0.005)
    engine.interrupt()
    for t in threads:
        t.join(timeout=30)
    assert len(errors) == 2
    assert all(isinstance(e, RunCancelledError | WarehouseError) for e in errors)
    assert engine.execute("SELECT 1 AS one").rows == [(1,)]


def test_concurrent_statements_on_one_engine(engine) -> None:  # type: ignore[no-untyped-def]
    results: list[list[tuple[object, ...]]] = []
    sql = 'SELECT COUNT(*) AS n FROM "wh"."dev"."orders"'

    def run() -> None:
        for _ in range(20):
            results.append(engine.execute(sql).rows)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [[(5,)]] * 80


def test_read_only_warehouse_refuses_writes(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(WarehouseError) as info:
        engine.execute('DROP TABLE "wh"."dev"."orders"')
    assert "read-only" in str(info.value).lower() or "read only" in str(info.value).lower()
    with pytest.raises(WarehouseError):
        engine.execute("CREATE TABLE dev.intruder (x INTEGER)")
    assert engine.execute('SELECT COUNT(*) FROM "wh"."dev"."orders"').rows == [(5,)]


def test_duckdb_external_access_is_off_unless_asked(tmp_path: Path, duckdb_file: Path) -> None:
    csv = tmp_path / "x.csv"
    csv.write_text("a\n1\n")
    engine = open_engine(duckdb_target(duckdb_file))
    try:
        with pytest.raises(ExternalAccessBlockedError, match="--duckdb-external-access"):
            engine.execute(f"SELECT * FROM read_csv_auto('{csv}')")
    finally:
        engine.close()
    engine = open_engine(duckdb_target(duckdb_file), duckdb_external_access=True)
    try:
        assert engine.execute(f"SELECT * FROM read_csv_auto('{csv}')").rows == [(1,)]
    finally:
        engine.close()


def test_duckdb_file_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(WarehouseConnectError, match="'missing.duckdb' does not exist"):
        open_engine(duckdb_target(tmp_path / "missing.duckdb"))


def test_postgres_that_points_nowhere_names_no_secret(postgres_server) -> None:  # type: ignore[no-untyped-def]
    settings = {**postgres_server.settings(), "port": 1, "password": "s3cret-pw"}
    settings["host"] = "127.0.0.1"
    target = WarehouseTarget(
        profile="shop",
        target="broken",
        type="postgres",
        threads=1,
        settings=settings,
        profiles_path=Path("profiles.yml"),
    )
    with pytest.raises(WarehouseConnectError) as info:
        open_engine(target)
    text = str(info.value)
    assert "profile 'shop', target 'broken'" in text
    assert "127.0.0.1" not in text and "s3cret-pw" not in text
    assert "s3cret-pw" not in repr(target)


def test_postgres_unknown_database(postgres_server) -> None:  # type: ignore[no-untyped-def]
    target = WarehouseTarget(
        profile="shop",
        target="pg",
        type="postgres",
        threads=1,
        settings=postgres_server.settings("no_such_db"),
        profiles_path=Path("profiles.yml"),
    )
    with pytest.raises(WarehouseConnectError) as info:
        open_engine(target)
    assert "no_such_db" not in str(info.value)


def test_postgres_never_reuses_a_connection_left_in_an_aborted_transaction(
    postgres_server,  # type: ignore[no-untyped-def]
) -> None:
    """A cancel request that lands on the end of a transaction (its CLOSE or ROLLBACK)
    leaves it aborted; the next statement must not get that connection."""
    import psycopg

    from tests.warehouse.conftest import postgres_target

    engine = open_engine(postgres_target(postgres_server, threads=1))  # a pool of one
    try:
        conn = engine.acquire()  # type: ignore[attr-defined]
        conn.execute("BEGIN")
        with pytest.raises(psycopg.errors.DivisionByZero):
            conn.execute("SELECT 1 / 0")
        engine.release(conn)  # type: ignore[attr-defined]
        assert engine.execute("SELECT 41 + 1 AS answer").rows == [(42,)]
        assert conn.closed
    finally:
        engine.close()


def test_duckdb_profile_settings_apply_but_not_access(duckdb_file: Path) -> None:
    target = duckdb_target(duckdb_file)
    target = WarehouseTarget(
        profile=target.profile,
        target=target.target,
        type="duckdb",
        threads=1,
        settings={
            "path": str(duckdb_file),
            "settings": {"memory_limit": "300MB", "enable_external_access": True},
        },
        profiles_path=target.profiles_path,
    )
    engine = open_engine(target)
    try:
        sql = "SELECT current_setting('memory_limit'), current_setting('enable_external_access')"
        limit, external = engine.execute(sql).rows[0]
        assert limit.startswith("286") and external is False  # 300 MB = 286.1 MiB
    finally:
        engine.close()


def test_a_native_engine_refuses_macros_and_says_how_to_get_them(duckdb_file: Path) -> None:
    """The run context of the server and `run`: on native DuckDB a macro call is refused,
    naming it; with the dbt extra installed, the hint is --dbt-adapter, else installing it."""
    import importlib.metadata

    from recce_trio.core.artifactset import LoadedArtifacts
    from recce_trio.core.diff import build_lineage_diff
    from recce_trio.errors import MacroNotAvailableError
    from recce_trio.warehouse.configured import run_context

    base, current = data.manifest("prod"), data.manifest("dev")
    artifacts = LoadedArtifacts(base, current, None, None, single_env=False)
    engine = open_engine(duckdb_target(duckdb_file))
    try:
        ctx = run_context(
            artifacts, build_lineage_diff(base, None, current, None), engine, None, sources={}
        )
        with pytest.raises(MacroNotAvailableError) as info:
            execute_run(
                "query", {"sql_template": "select {{ dbt_utils.star(ref('orders')) }}"}, ctx
            )
    finally:
        engine.close()
    assert info.value.macro == "dbt_utils.star"
    assert info.value.status == 400
    try:
        importlib.metadata.version("dbt-core")
    except importlib.metadata.PackageNotFoundError:
        assert "pip install 'recce-trio[dbt]'" in info.value.hint
    else:
        assert "--dbt-adapter" in info.value.hint and "duckdb engine" in info.value.hint


def test_duckdb_spills_into_a_private_folder_not_next_to_the_file(duckdb_file: Path) -> None:
    # A copy in a folder of its own: anything DuckDB writes beside the file would show there.
    folder = duckdb_file.parent / "spill_check"
    folder.mkdir()
    db = folder / duckdb_file.name
    shutil.copy(duckdb_file, db)
    engine = open_engine(duckdb_target(db))
    try:
        sql = "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
        limit, temp = engine.execute(sql).rows[0]
        assert limit == "488.2 MiB"  # recce-trio's default: 512 MB
        assert Path(temp).is_dir() and Path(temp).parent == Path(tempfile.gettempdir())
        # A sort of ~100 MB under a 24 MB limit has to spill, and still finishes.
        engine.execute("SET memory_limit = '24MB'")
        engine.execute("SET threads = 1")
        big = "SELECT range AS n, repeat('x', 40) AS s FROM range(2000000) ORDER BY n DESC"
        assert engine.execute(big, limit=1).rows == [(1999999, "x" * 40)]
        # What cannot spill fails, saying which setting to raise.
        with pytest.raises(WarehouseError, match="Out of Memory") as info:
            engine.execute("SELECT list(range) FROM range(20000000)")
        assert "memory_limit under the profile's settings: in profiles.yml" in str(info.value)
    finally:
        engine.close()
    assert sorted(p.name for p in folder.iterdir()) == [db.name]


def test_a_spill_folder_removed_by_a_temp_cleaner_is_made_again(duckdb_file: Path) -> None:
    # A long-running server: /tmp cleaners (systemd-tmpfiles...) may remove an idle folder.
    engine = open_engine(duckdb_target(duckdb_file))
    try:
        temp = Path(engine.execute("SELECT current_setting('temp_directory')").rows[0][0])
        assert temp.is_dir()
    finally:
        engine.close()
    shutil.rmtree(temp)
    engine = open_engine(duckdb_target(duckdb_file))
    try:
        again = engine.execute("SELECT current_setting('temp_directory')").rows[0][0]
        assert Path(again) == temp and temp.is_dir()  # the same settings as before
        assert (temp.stat().st_mode & 0o777) == 0o700
        engine.execute("SET memory_limit = '24MB'")
        engine.execute("SET threads = 1")
        big = "SELECT range AS n, repeat('x', 40) AS s FROM range(2000000) ORDER BY n DESC"
        assert engine.execute(big, limit=1).rows == [(1999999, "x" * 40)]  # spills there
    finally:
        engine.close()
