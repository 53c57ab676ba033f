"""Warehouse runs through the real app: every run type on the demo's DuckDB (values worked out
from recce_trio/demo/build_db.py), cancelling, the health states, no profile, a broken one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
import trio

from recce_trio.demo.build_db import build
from recce_trio.warehouse import run_models
from tests.api.helpers import call, ready_app
from tests.conftest import STATE_CORPUS

DEMO_ARTIFACTS = Path(__file__).resolve().parents[2] / "recce_trio" / "demo"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The demo database goes into a cache folder of this test; no ~/.dbt of the machine counts.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for var in ("DBT_PROFILES_DIR", "RECCE_PROFILES_DIR", "DBT_PROFILE", "DBT_TARGET"):
        monkeypatch.delenv(var, raising=False)


async def _settled(app: Any) -> None:
    with trio.fail_after(30):
        await app.extensions["recce"].warehouse.settled.wait()


async def _run(client: Any, run_type: str, **params: Any) -> Any:
    status, body = await call(client, "post", "/api/runs", {"type": run_type, "params": params})
    assert status == 201, body
    assert body["status"] == "Finished", body["error"]
    return body


def _rows(table: dict[str, Any]) -> list[dict[str, Any]]:
    keys = [c["key"] for c in table["columns"]]
    return [dict(zip(keys, row, strict=True)) for row in table["data"]]


async def test_every_run_type_on_the_demo_warehouse() -> None:
    async with ready_app(Path("."), demo=True, watch=False) as (app, client):
        await _settled(app)
        _, health = await call(client, "get", "/api/health")
        assert health["warehouse"] == {"state": "ready", "error": None}
        _, info = await call(client, "get", "/api/info")
        assert info["support_tasks"]["query_diff"] is True
        assert info["support_tasks"]["histogram_diff"] is True
        # not built: said outright, since Recce's UI takes a missing key as "available"
        assert info["support_tasks"]["profile_distribution"] is False

        names = ["orders", "customers", "payment_methods", "customer_segments"]
        counts = (await _run(client, "row_count_diff", node_names=names))["result"]
        assert (counts["orders"]["base"], counts["orders"]["curr"]) == (6, 7)
        assert (counts["customers"]["base"], counts["customers"]["curr"]) == (5, 5)
        assert counts["payment_methods"]["curr"] is None  # gone on the current branch
        assert counts["customer_segments"]["base"] is None  # new on it

        single = (await _run(client, "row_count", node_names=["orders"]))["result"]
        assert single["orders"]["curr"] == 7

        # Without a node list, as in Recce: the root project's models, not installed packages'.
        every = (await _run(client, "row_count_diff"))["result"]
        assert "orders" in every and "pkg_calendar" not in every
        package = (await _run(client, "row_count_diff", packages=["local_pkg"]))["result"]
        assert set(package) == {"pkg_calendar", "pkg_weekdays"}

        sql = "select customer_id, lifetime_value from {{ ref('customers') }}"
        diff = await _run(client, "query_diff", sql_template=sql, primary_keys=["customer_id"])
        rows = _rows(diff["result"]["diff"])
        # Only Shawn (customer 2) paid for the new order: 6.00 + 3.00, then + 12.50.
        assert [(r["customer_id"], r["in_a"], r["in_b"]) for r in rows] == [
            (2, True, False),
            (2, False, True),
        ]
        assert diff["params"]["primary_keys"] == ["customer_id"]

        base = (await _run(client, "query_base", sql_template=sql + " order by 1"))["result"]
        assert _rows(base)[1]["lifetime_value"] == "9.00"  # a decimal, as Recce writes it
        current = (await _run(client, "query", sql_template=sql + " order by 1"))["result"]
        assert float(_rows(current)[1]["lifetime_value"]) == 21.5
        assert current["more"] is False

        values = (await _run(client, "value_diff", model="customers", primary_key="customer_id"))[
            "result"
        ]
        assert values["summary"] == {"total": 5, "added": 0, "removed": 0}
        matched = {r["column"]: r["matched"] for r in _rows(values["data"])}
        assert matched["lifetime_value"] in (4, "4") and matched["first_name"] in (5, "5")

        detail = await _run(
            client, "value_diff_detail", model="customers", primary_key="customer_id"
        )
        assert {r["customer_id"] for r in _rows(detail["result"])} == {2}

        profile = (await _run(client, "profile_diff", model="orders"))["result"]
        base_rows = {r["column_name"]: r for r in _rows(profile["base"])}
        current_rows = {r["column_name"]: r for r in _rows(profile["current"])}
        assert base_rows["order_id"]["row_count"] == 6
        assert current_rows["order_id"]["row_count"] == 7
        assert "is_returned" in current_rows and "is_returned" not in base_rows

        top = (await _run(client, "top_k_diff", model="orders", column_name="status", k=3))[
            "result"
        ]
        assert top["base"]["counts"][top["base"]["values"].index("placed")] == 1
        assert top["current"]["counts"][top["current"]["values"].index("placed")] == 2

        hist = await _run(
            client,
            "histogram_diff",
            model="orders",
            column_name="amount",
            column_type="DOUBLE",
        )
        assert sum(hist["result"]["base"]["counts"]) == 6
        assert sum(hist["result"]["current"]["counts"]) == 7
        assert (hist["result"]["min"], hist["result"]["max"]) == (1, 25)


async def test_a_cancelled_query_ends_cancelled_and_the_next_run_works() -> None:
    async with ready_app(Path("."), demo=True, watch=False) as (app, client):
        await _settled(app)
        endless = "select count(*) from range(1000000000) a, range(1000) b where a.range <> b.range"
        status, run = await call(
            client,
            "post",
            "/api/runs",
            {"type": "query", "params": {"sql_template": endless}, "nowait": True},
        )
        assert status == 201 and run["status"] == "Running"
        assert (await call(client, "post", f"/api/runs/{run['run_id']}/cancel"))[0] == 200
        _, ended = await call(client, "get", f"/api/runs/{run['run_id']}/wait?timeout=30")
        assert ended["status"] == "Cancelled"
        assert ended["result"] is None
        after = await _run(client, "query", sql_template="select 41 + 1 as answer")
        assert after["result"]["data"] == [[42]]
        # Queries run in the bounded DuckDB instance (24 MB): it was cancelled there, and
        # still runs the next one.
        where = await _run(
            client, "query", sql_template="select current_setting('memory_limit') as m"
        )
        assert where["result"]["data"] == [["22.8 MiB"]]


async def test_no_profile_health_none_and_runs_refused_with_how_to(tmp_path: Path) -> None:
    project = tmp_path / "project"
    for env in ("target", "target-base"):
        (project / env).mkdir(parents=True)
        for name in ("manifest.json", "catalog.json"):
            (project / env / name).write_bytes((DEMO_ARTIFACTS / env / name).read_bytes())
    async with ready_app(project, watch=False) as (app, client):
        await _settled(app)
        _, health = await call(client, "get", "/api/health")
        assert health["warehouse"] == {"state": "none", "error": None}
        _, info = await call(client, "get", "/api/info")
        assert info["support_tasks"]["query"] is False
        status, body = await call(
            client, "post", "/api/runs", {"type": "query", "params": {"sql_template": "select 1"}}
        )
        assert status == 400
        assert "--profiles-dir" in body["detail"] and "DBT_PROFILES_DIR" in body["detail"]
        # The artifact-only runs still work.
        status, body = await call(
            client, "post", "/api/runs", {"type": "lineage_diff", "params": {}}
        )
        assert status == 201 and body["status"] == "Finished"


async def test_a_profile_that_points_nowhere_fails_clearly(tmp_path: Path) -> None:
    project = tmp_path / "project"
    for env in ("target", "target-base"):
        (project / env).mkdir(parents=True)
        for name in ("manifest.json", "catalog.json"):
            (project / env / name).write_bytes((DEMO_ARTIFACTS / env / name).read_bytes())
    profiles = tmp_path / "secret-profiles"
    profiles.mkdir()
    missing = tmp_path / "nowhere" / "shop.duckdb"
    (profiles / "profiles.yml").write_text(
        f"shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: {missing}\n      threads: 2\n"
    )
    async with ready_app(project, watch=False, profiles_dir=profiles, profile="shop") as (
        app,
        client,
    ):
        await _settled(app)
        status, health = await call(client, "get", "/api/health")
        assert health["warehouse"]["state"] == "failed"
        assert health["warehouse"]["error"] == "WarehouseConnectError"
        assert str(tmp_path) not in str(health)
        status, info = await call(client, "get", "/api/info")
        assert status == 200 and "orders" in str(info["lineage"])  # lineage still served
        assert info["support_tasks"]["value_diff"] is False
        status, run = await call(
            client, "post", "/api/runs", {"type": "query", "params": {"sql_template": "select 1"}}
        )
        assert status == 201
        assert run["status"] == "Failed"
        assert "warehouse connection failed" in run["error"]
        assert str(tmp_path) not in run["error"]


async def test_an_old_state_files_query_diff_results_render(tmp_path: Path) -> None:
    # The real dbt-ci-cd state file (its query_diff columns lack "key"), copied: never written
    # where it lies.
    source = STATE_CORPUS / "doriwilson__dbt-ci-cd"
    if not (source / "recce_state.json").is_file():
        pytest.skip("the shared corpus is not here")
    state_file = tmp_path / "recce_state.json"
    state_file.write_bytes((source / "recce_state.json").read_bytes())
    async with ready_app(tmp_path, state_file=state_file, review=True, watch=False) as (
        _,
        client,
    ):
        _, listed = await call(client, "get", "/api/runs")
        query_diffs = [r for r in listed if r["type"] == "query_diff"]
        assert len(query_diffs) == 6
        for entry in query_diffs:
            _, run = await call(client, "get", f"/api/runs/{entry['run_id']}/wait")
            assert run["status"] == "Finished"
            for side in ("base", "current"):
                columns = run["result"][side]["columns"]
                assert columns and all(c["key"] == c["name"] for c in columns)


async def test_a_warehouse_check_reruns() -> None:
    async with ready_app(Path("."), demo=True, watch=False) as (app, client):
        await _settled(app)
        run = await _run(client, "row_count_diff", node_names=["orders"])
        status, check = await call(client, "post", "/api/checks", {"run_id": run["run_id"]})
        assert status == 201 and check["type"] == "row_count_diff"
        status, rerun = await call(client, "post", f"/api/checks/{check['check_id']}/run", {})
        assert status == 201
        assert rerun["status"] == "Finished" and rerun["run_id"] != run["run_id"]
        assert rerun["check_id"] == check["check_id"]
        assert rerun["result"]["orders"]["curr"] == 7


async def test_a_row_count_diff_over_several_models_reports_its_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The demo's artifacts and database, except that the current order_revenue is a view whose
    # count never ends: the run stays on its third model until it is cancelled. Two models
    # are counted per statement here (25 by default), so the third one starts a statement.
    monkeypatch.setattr(run_models, "COUNT_CHUNK", 2)
    project = tmp_path / "project"
    for env in ("target", "target-base"):
        (project / env).mkdir(parents=True)
        for name in ("manifest.json", "catalog.json"):
            (project / env / name).write_bytes((DEMO_ARTIFACTS / env / name).read_bytes())
    db = tmp_path / "shop.duckdb"
    build(db)
    con = duckdb.connect(str(db))
    con.execute("DROP TABLE main.order_revenue")
    con.execute(
        "CREATE VIEW main.order_revenue AS SELECT a.range AS x FROM range(1000000000) a, "
        "range(1000) b WHERE a.range <> b.range"
    )
    con.close()
    (project / "profiles.yml").write_text(
        f"shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: {db}\n      threads: 2\n"
    )
    names = ["orders", "customers", "order_revenue", "payment_methods"]
    async with ready_app(project, watch=False, profiles_dir=project, profile="shop") as (
        app,
        client,
    ):
        await _settled(app)
        status, run = await call(
            client,
            "post",
            "/api/runs",
            {"type": "row_count_diff", "params": {"node_names": names}, "nowait": True},
        )
        assert status == 201 and run["status"] == "Running"
        seen: list[dict[str, Any]] = []
        with trio.fail_after(60):
            while not seen or "order_revenue" not in seen[-1]["message"]:
                _, now = await call(client, "get", f"/api/runs/{run['run_id']}/wait?timeout=0")
                assert now["status"] == "Running"
                if now["progress"] is not None and now["progress"] not in seen:
                    seen.append(now["progress"])
                await trio.sleep(0.01)
        # Each record is Recce's "Diff: <name> [i/N]" at (i - 1) / N, and they only go up;
        # the run got to its third model after reporting the first two as done.
        for record in seen:
            i = int(record["message"].split("[")[1].split("/")[0])
            assert record == {"message": f"Diff: {names[i - 1]} [{i}/4]", "percentage": (i - 1) / 4}
        fractions = [record["percentage"] for record in seen]
        assert fractions == sorted(set(fractions))
        assert seen[-1] == {"message": "Diff: order_revenue [3/4]", "percentage": 0.5}

        await call(client, "post", f"/api/runs/{run['run_id']}/cancel")
        _, ended = await call(client, "get", f"/api/runs/{run['run_id']}/wait?timeout=30")
        assert ended["status"] == "Cancelled" and ended["progress"] is None
        # Without the endless model the same run finishes, and its progress is cleared.
        done = await _run(client, "row_count_diff", node_names=["orders", "customers"])
        assert done["progress"] is None
        assert (done["result"]["orders"]["base"], done["result"]["orders"]["curr"]) == (6, 7)


async def test_exporting_a_state_files_query_run_without_a_warehouse_says_how_to_get_one(
    tmp_path: Path,
) -> None:
    source = STATE_CORPUS / "doriwilson__dbt-ci-cd"
    if not (source / "recce_state.json").is_file():
        pytest.skip("the shared corpus is not here")
    state_file = tmp_path / "recce_state.json"
    state_file.write_bytes((source / "recce_state.json").read_bytes())
    async with ready_app(tmp_path, state_file=state_file, review=True, watch=False) as (
        app,
        client,
    ):
        await _settled(app)
        _, listed = await call(client, "get", "/api/runs")
        run_id = next(r["run_id"] for r in listed if r["type"] == "query_diff")
        status, body = await call(client, "get", f"/api/runs/{run_id}/export?format=tsv")
        # The same 400 as submitting a warehouse run with no profile.
        assert status == 400
        assert body["detail"].startswith("Run type 'query_diff' needs a warehouse connection")
        assert "--profiles-dir" in body["detail"]
