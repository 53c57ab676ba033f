"""Real warehouses for the engine tests: a DuckDB file and a PostgreSQL server started here."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from recce_trio.warehouse.context import RunContext
from recce_trio.warehouse.profiles import WarehouseTarget
from tests.warehouse import data

PG_BIN = Path("/usr/lib/postgresql/15/bin")


@pytest.fixture(scope="session")
def duckdb_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import duckdb

    path = tmp_path_factory.mktemp("duck") / f"{data.DATABASE}.duckdb"
    con = duckdb.connect(str(path))
    for statement in data.statements():
        con.execute(statement)
    con.close()
    return path


def duckdb_target(path: Path, *, threads: int = 2) -> WarehouseTarget:
    return WarehouseTarget(
        profile="shop",
        target="dev",
        type="duckdb",
        threads=threads,
        settings={"type": "duckdb", "path": str(path)},
        profiles_path=path.parent / "profiles.yml",
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """A throwaway PostgreSQL cluster, run as the ``postgres`` user when we are root."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.data = root / "data"
        self.log = root / "server.log"
        self.socket_dir = root

    def _run(self, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        env = {**os.environ, "TZ": "UTC", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        subprocess.run([*prefix, *args], check=True, capture_output=True, env=env, cwd=self.root)

    def start(self) -> None:
        self._run(
            str(PG_BIN / "initdb"),
            "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root}"
            " -c fsync=off -c timezone=UTC"
        )
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
            "-o", options, "-w", "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def settings(self, dbname: str = data.DATABASE) -> dict[str, object]:
        return {
            "type": "postgres",
            "host": "127.0.0.1",
            "port": self.port,
            "user": "postgres",
            "password": "",
            "dbname": dbname,
            "schema": "dev",
        }


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL 15 binaries not found in {PG_BIN} (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="recce-pg-"))
    root.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    server = PostgresServer(root, _free_port())
    try:
        server.start()
    except subprocess.CalledProcessError as e:
        shutil.rmtree(root, ignore_errors=True)
        detail = e.stderr.decode(errors="replace")
        raise RuntimeError(f"PostgreSQL did not start: {detail}") from None
    try:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=server.port, user="postgres",
                             dbname="postgres", autocommit=True) as conn:  # fmt: skip
            conn.execute(f"CREATE DATABASE {data.DATABASE}")
        with psycopg.connect(host="127.0.0.1", port=server.port, user="postgres",
                             dbname=data.DATABASE, autocommit=True) as conn:  # fmt: skip
            for statement in data.statements():
                conn.execute(statement)  # type: ignore[arg-type]
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def postgres_target(server: PostgresServer, *, threads: int = 2) -> WarehouseTarget:
    return WarehouseTarget(
        profile="shop",
        target="pg",
        type="postgres",
        threads=threads,
        settings=server.settings(),
        profiles_path=server.root / "profiles.yml",
    )


def _has_dbt_duckdb() -> bool:
    try:
        return importlib.util.find_spec("dbt.adapters.duckdb") is not None
    except ModuleNotFoundError:
        return False


# The battery runs on each native engine, and through dbt's adapter API where dbt-duckdb is
# installed (tox -e dbt); without it that variant is not collected at all.
ENGINES = ["duckdb", "postgres", *(["dbt-duckdb"] if _has_dbt_duckdb() else [])]


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def dbt_duckdb_engine(tmp_path_factory: pytest.TempPathFactory, duckdb_file: Path):  # type: ignore[no-untyped-def]
    """The same data through dbt-duckdb: a project whose profile opens a copy of the file
    read-only (dbt-duckdb's ``config_options``). Opened once: importing dbt takes seconds."""
    from recce_trio.warehouse.connect import open_engine
    from recce_trio.warehouse.profiles import load_target

    project = tmp_path_factory.mktemp("dbt_project")
    shutil.copy(duckdb_file, project / duckdb_file.name)
    (project / "dbt_project.yml").write_text('name: shop\nversion: "1.0"\nprofile: shop\n')
    (project / "profiles.yml").write_text(
        "shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: {project / duckdb_file.name}\n      threads: 2\n"
        "      config_options: {access_mode: READ_ONLY, enable_external_access: false}\n"
    )
    engine = open_engine(load_target(project_dir=project, env={}), use_dbt=True)
    yield engine
    engine.close()


@pytest.fixture
def engine(engine_name: str, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    from recce_trio.warehouse.connect import open_engine

    if engine_name == "dbt-duckdb":
        yield request.getfixturevalue("dbt_duckdb_engine")
        return
    if engine_name == "duckdb":
        target = duckdb_target(request.getfixturevalue("duckdb_file"))
    else:
        target = postgres_target(request.getfixturevalue("postgres_server"))
    eng = open_engine(target)
    yield eng
    eng.close()


@pytest.fixture
def ctx(engine):  # type: ignore[no-untyped-def]
    """A run's context on ``engine``: the shop's two manifests, vars and env, and the progress
    it reports (``ctx.seen_progress``)."""
    progress: list[tuple[str, float | None]] = []
    context = RunContext(
        base=data.manifest("prod"),
        current=data.manifest("dev"),
        engine=engine,
        progress=lambda m, p: progress.append((m, p)),
        project_vars={"min_amount": 5},
        env={"SHOP_STATUS": "placed"},
    )
    context.seen_progress = progress  # type: ignore[attr-defined]
    return context
