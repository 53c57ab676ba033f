"""/api/checks and /api/runs in-process: Recce's shapes, status codes and error bodies."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
import trio

from recce_trio.core import runs as runs_module
from recce_trio.core.runs import NOT_CONFIGURED
from tests.api.helpers import call, ready_app

ORDERS = "model.shop.orders"
CHECK_KEYS = {"check_id", "name", "description", "type", "params", "view_options",
              "is_checked", "is_preset", "last_run", "is_outdated"}  # fmt: skip
RUN_KEYS = {"type", "name", "params", "check_id", "result", "error", "status", "progress",
            "run_id", "run_at", "triggered_by"}  # fmt: skip
# A run this server executed also says how long it took (recce-trio's addition, docs/api.md).
ENDED_RUN_KEYS = RUN_KEYS | {"duration"}


async def test_check_lifecycle(project: Path) -> None:
    async with ready_app(project) as (_, client):
        assert await call(client, "get", "/api/checks") == (200, [])
        status, check = await call(
            client, "post", "/api/checks", {"type": "schema_diff", "params": {"node_id": ORDERS}}
        )
        assert status == 201
        assert set(check) == CHECK_KEYS
        assert check["name"] == "Schema diff of orders"
        assert (check["is_checked"], check["is_preset"], check["last_run"]) == (False, False, None)
        cid = check["check_id"]

        status, listed = await call(client, "get", "/api/checks")
        assert status == 200 and [c["check_id"] for c in listed] == [cid]
        assert "last_run" not in listed[0] and "view_options" not in listed[0]  # None omitted

        status, patched = await call(client, "patch", f"/api/checks/{cid}",
                                     {"is_checked": True, "name": "Orders schema"})  # fmt: skip
        assert status == 200
        assert (patched["is_checked"], patched["name"]) == (True, "Orders schema")
        assert (await call(client, "get", f"/api/checks/{cid}"))[1]["is_checked"] is True

        status, run = await call(client, "post", f"/api/checks/{cid}/run", {})
        assert status == 201 and set(run) == ENDED_RUN_KEYS
        assert isinstance(run["duration"], float) and run["duration"] >= 0
        assert run["status"] == "Finished" and run["check_id"] == cid
        assert run["triggered_by"] == "user"
        assert ORDERS in run["result"]["nodes"]
        status, again = await call(client, "get", f"/api/checks/{cid}")
        assert again["last_run"]["run_id"] == run["run_id"]
        # Run after the artifacts were generated: its result holds.
        assert again["is_outdated"] is False

        assert await call(client, "delete", f"/api/checks/{cid}") == (200, {"check_id": cid})
        assert await call(client, "get", "/api/checks") == (200, [])
        # The run stays; deleting again still answers with the id.
        assert len((await call(client, "get", "/api/runs"))[1]) == 1
        assert await call(client, "delete", f"/api/checks/{cid}") == (200, {"check_id": cid})


async def test_check_errors(project: Path) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    async with ready_app(project) as (_, client):
        assert await call(client, "get", f"/api/checks/{missing}") == (404, {"detail": "Not Found"})
        assert await call(client, "patch", f"/api/checks/{missing}", {}) == (
            404, {"detail": "Not Found"})  # fmt: skip
        assert await call(client, "post", f"/api/checks/{missing}/run", {}) == (
            404, {"detail": f"Check ID '{missing}' not found"})  # fmt: skip
        status, body = await call(client, "get", "/api/checks/not-a-uuid")
        assert status == 422 and body["detail"][0]["loc"] == ["path", "check_id"]
        assert await call(client, "post", "/api/checks", {"run_id": missing}) == (
            404, {"detail": f"Run '{missing}' not found"})  # fmt: skip
        assert await call(
            client, "post", "/api/checks", {"type": "schema_diff", "params": {"node_id": "model.x"}}
        ) == (400, {"detail": "node_id 'model.x' not found in dbt manifest"})
        status, body = await call(client, "post", "/api/checks", {"type": "nope"})
        assert status == 422
        status, warehouse = await call(client, "post", "/api/checks",
                                       {"type": "row_count_diff", "params": {}})  # fmt: skip
        assert status == 201
        status, body = await call(client, "post", f"/api/checks/{warehouse['check_id']}/run", {})
        assert status == 400 and "needs a warehouse connection" in body["detail"]


async def test_reorder(project: Path) -> None:
    async with ready_app(project) as (_, client):
        ids = []
        for name in ("a", "b", "c"):
            ids.append((await call(client, "post", "/api/checks",
                                   {"name": name, "type": "simple"}))[1]["check_id"])  # fmt: skip
        assert await call(client, "post", "/api/checks/reorder",
                          {"source": 0, "destination": 2}) == (200, None)  # fmt: skip
        names = [c["name"] for c in (await call(client, "get", "/api/checks"))[1]]
        assert names == ["b", "c", "a"]
        out_of_range = {"source": 5, "destination": 0}
        assert await call(client, "post", "/api/checks/reorder", out_of_range) == (
            400, {"detail": "Failed to reorder checks. Source index out of range"})  # fmt: skip


async def test_check_from_a_run(project: Path) -> None:
    async with ready_app(project) as (_, client):
        body = {"type": "lineage_diff", "params": {"select": "state:modified"}}
        status, run = await call(client, "post", "/api/runs", body)
        assert status == 201 and run["status"] == "Finished"
        assert run["result"]["diff"][ORDERS]["change_status"] == "modified"
        status, check = await call(client, "post", "/api/checks", {"run_id": run["run_id"]})
        assert status == 201
        assert (check["type"], check["params"]) == ("lineage_diff", {"select": "state:modified"})
        assert check["last_run"]["run_id"] == run["run_id"]
        listed = (await call(client, "get", "/api/runs"))[1]
        assert listed[0]["check_id"] == check["check_id"]


@pytest.mark.parametrize(
    ("run_type", "detail"),
    [
        ("query_diff", f"Run type 'query_diff' {NOT_CONFIGURED}"),
        ("row_count_diff", f"Run type 'row_count_diff' {NOT_CONFIGURED}"),
        ("simple", "Run type 'simple' not supported"),
        ("bogus", "Run type 'bogus' not supported"),
    ],
)  # fmt: skip
async def test_runs_that_cannot_run(
    project: Path, run_type: str, detail: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # No profile anywhere: not in the project, not in ~/.dbt, not in DBT_PROFILES_DIR.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DBT_PROFILES_DIR", raising=False)
    async with ready_app(project) as (_, client):
        assert await call(client, "post", "/api/runs", {"type": run_type, "params": {}}) == (
            400, {"detail": detail})  # fmt: skip
        assert await call(client, "get", "/api/runs") == (200, [])


async def test_run_list_wait_search(project: Path) -> None:
    async with ready_app(project) as (_, client):
        first = (await call(client, "post", "/api/runs",
                            {"type": "schema_diff", "params": {"node_id": ORDERS}}))[1]  # fmt: skip
        body = {"type": "lineage_diff", "params": {}, "nowait": True}
        status, second = await call(client, "post", "/api/runs", body)
        assert status == 201 and second["status"] in ("Running", "Finished")
        status, waited = await call(client, "get", f"/api/runs/{second['run_id']}/wait?timeout=5")
        assert status == 200 and waited["status"] == "Finished" and waited["result"] is not None
        status, listed = await call(client, "get", "/api/runs")
        assert {r["run_id"] for r in listed} == {first["run_id"], second["run_id"]}
        assert set(listed[0]) == {"run_id", "run_at", "name", "type", "params", "status",
                                  "check_id", "error", "triggered_by", "duration"}  # fmt: skip
        assert all(r["duration"] >= 0 for r in listed)
        assert all(r["triggered_by"] == "user" and r["error"] is None for r in listed)
        query = {"type": "schema_diff", "params": {"node_id": ORDERS}}
        status, found = await call(client, "post", "/api/runs/search", query)
        assert status == 200 and [r["run_id"] for r in found] == [first["run_id"]]
        query = {"type": "schema_diff", "params": {"node_id": "x"}}
        assert (await call(client, "post", "/api/runs/search", query))[1] == []
        missing = "00000000-0000-4000-8000-000000000000"
        assert await call(client, "get", f"/api/runs/{missing}/wait") == (
            404, {"detail": f"Run ID '{missing}' not found"})  # fmt: skip
        # Recce answers cancelling an unknown run with 200 null.
        assert await call(client, "post", f"/api/runs/{missing}/cancel") == (200, None)
        # Cancelling a finished run changes nothing.
        assert await call(client, "post", f"/api/runs/{first['run_id']}/cancel") == (200, None)
        _, again = await call(client, "get", f"/api/runs/{first['run_id']}/wait")
        assert again["status"] == "Finished"


async def test_a_failed_run_is_201_with_the_error(project: Path) -> None:
    async with ready_app(project) as (_, client):
        body = {"type": "lineage_diff", "params": {"select": "bogus:x"}}
        status, run = await call(client, "post", "/api/runs", body)
        assert status == 201 and run["status"] == "Failed" and run["error"]
        _, listed = await call(client, "get", "/api/runs")
        assert listed[0]["error"] == run["error"] and "result" not in listed[0]


async def test_cancel_flips_status_at_once(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def stuck(*args: Any) -> Any:
        release.wait(10)
        return {}

    monkeypatch.setattr(runs_module, "execute", stuck)
    try:
        async with ready_app(project) as (_, client):
            body = {"type": "schema_diff", "params": {}, "nowait": True}
            status, run = await call(client, "post", "/api/runs", body)
            assert run["status"] == "Running"
            status, waited = await call(client, "get", f"/api/runs/{run['run_id']}/wait?timeout=0")
            assert waited["status"] == "Running"
            assert await call(client, "post", f"/api/runs/{run['run_id']}/cancel") == (200, None)
            with trio.fail_after(5):
                status, waited = await call(client, "get", f"/api/runs/{run['run_id']}/wait")
            assert (waited["status"], waited["error"], waited["result"]) == (
                "Cancelled", "Cancelled", None)  # fmt: skip
    finally:
        release.set()


async def test_aggregate_maps_row_counts_to_nodes(project: Path) -> None:
    state = project / "recce_state.json"
    state.write_text(json.dumps({
        "metadata": {"schema_version": "v0"},
        "runs": [{"type": "row_count_diff", "params": {}, "status": "Finished",
                  "run_id": "11111111-1111-4111-8111-111111111111",
                  "run_at": "2026-01-01T00:00:00Z",
                  "result": {"orders": {"base": 1, "curr": 2},
                             "stg_orders": {"base": 3, "curr": 3}}}],
        "checks": [],
    }))  # fmt: skip
    async with ready_app(project, state_file=state) as (_, client):
        status, body = await call(client, "post", "/api/runs/aggregate", {})
        assert status == 200
        assert body[ORDERS]["row_count_diff"] == {
            "run_id": "11111111-1111-4111-8111-111111111111",
            "result": {"base": 1, "curr": 2},
        }
        assert "model.shop.stg_orders" in body
        status, only = await call(client, "post", "/api/runs/aggregate",
                                  {"filter": {"nodes": [ORDERS]}})  # fmt: skip
        assert list(only) == [ORDERS]


async def test_preset_checks_from_recce_yml(project: Path) -> None:
    (project / "recce.yml").write_text(
        "checks:\n  - name: Schema diff\n    description: All nodes.\n    type: schema_diff\n"
    )
    async with ready_app(project) as (_, client):
        status, listed = await call(client, "get", "/api/checks")
        assert [(c["name"], c["is_preset"]) for c in listed] == [("Schema diff", True)]


async def test_invalid_recce_yml_fails_the_start(project: Path) -> None:
    (project / "recce.yml").write_text("checks:\n  - name: Rows\n    type: rowcount\n")
    async with ready_app(project) as (_, client):
        status, health = await call(client, "get", "/api/health")
        assert health["ready"] is False and health["error"] == "PresetCheckError"
        assert (await call(client, "get", "/api/checks"))[0] == 503


async def test_a_check_run_before_the_artifacts_were_built_is_outdated(project: Path) -> None:
    state = project / "recce_state.json"
    check = "22222222-2222-4222-8222-222222222222"
    state.write_text(json.dumps({
        "metadata": {"schema_version": "v0"},
        "checks": [{"check_id": check, "name": "Orders schema", "type": "schema_diff",
                    "params": {"node_id": ORDERS}, "description": "",
                    "created_at": "2025-06-01T00:00:00Z", "updated_at": "2025-06-01T00:00:00Z"},
                   {"check_id": "33333333-3333-4333-8333-333333333333", "name": "Never run",
                    "type": "simple", "params": {}, "description": "",
                    "created_at": "2025-06-01T00:00:00Z", "updated_at": "2025-06-01T00:00:00Z"}],
        # Run in 2025; the artifacts were generated on 2026-01-01.
        "runs": [{"type": "schema_diff", "params": {"node_id": ORDERS}, "status": "Finished",
                  "check_id": check, "run_id": "11111111-1111-4111-8111-111111111111",
                  "run_at": "2025-06-01T00:00:00Z", "result": {"nodes": {}}}],
    }))  # fmt: skip
    async with ready_app(project, state_file=state) as (_, client):
        _, listed = await call(client, "get", "/api/checks")
        assert [c["is_outdated"] for c in listed] == [True, False]
        # A state file written before triggered_by existed: null, as Recce reads it. Recce
        # records no duration: the run is listed in Recce's shape, without one.
        _, runs = await call(client, "get", "/api/runs")
        assert runs[0]["triggered_by"] is None
        assert "duration" not in runs[0]
        # Running the check again brings it up to date.
        await call(client, "post", f"/api/checks/{check}/run", {})
        _, again = await call(client, "get", f"/api/checks/{check}")
        assert again["is_outdated"] is False
