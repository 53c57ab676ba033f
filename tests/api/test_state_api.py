"""The state file through the app: review mode on Recce's own files, saves, refusals."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import trio
from quart.datastructures import FileStorage

from tests.api.helpers import call, ready_app
from tests.conftest import STATE_CORPUS
from tests.unit.test_state import validate_v0

CORPUS = {
    "doriwilson__dbt-ci-cd": (10, 8),
    "doriwilson__recce-super-demo": (2, 1),
}


def corpus_state(name: str) -> Any:
    """One parameter per state file of the corpus; skipped, with the reason, if absent.
    (A ``pytest.skip()`` inside a trio test loses its reason, so it is decided here.)"""
    source = STATE_CORPUS / name / "recce_state.json"
    absent = pytest.mark.skipif(not source.is_file(), reason=f"corpus state file absent: {source}")
    return pytest.param(name, marks=absent, id=name)


@pytest.mark.parametrize("name", [corpus_state(name) for name in sorted(CORPUS)])
async def test_review_mode_opens_recces_state_files(tmp_path: Path, name: str) -> None:
    source = STATE_CORPUS / name / "recce_state.json"
    original = json.loads(source.read_bytes())
    state = tmp_path / "recce_state.json"
    state.write_bytes(source.read_bytes())
    async with ready_app(tmp_path, state_file=state, review=True) as (_, client):
        _, health = await call(client, "get", "/api/health")
        assert health["ready"] is True, health
        assert all(a["state"] == "loaded" for a in health["artifacts"].values())
        status, checks = await call(client, "get", "/api/checks")
        assert status == 200
        assert [c["check_id"] for c in checks] == [c["check_id"] for c in original["checks"]]
        assert [c["name"] for c in checks] == [c["name"] for c in original["checks"]]
        status, runs = await call(client, "get", "/api/runs")
        assert len(runs) == CORPUS[name][1] and {r["status"] for r in runs} == {"Finished"}
        first = original["checks"][0]
        status, check = await call(client, "get", f"/api/checks/{first['check_id']}")
        expected_runs = [r for r in original["runs"] if r["check_id"] == first["check_id"]]
        assert check["last_run"]["run_id"] == expected_runs[-1]["run_id"]
        assert check["last_run"]["result"] == expected_runs[-1]["result"]
        # A schema diff over the state's own artifacts works without target/.
        status, run = await call(client, "post", "/api/runs", {"type": "schema_diff", "params": {}})
        assert status == 201 and run["status"] == "Finished" and run["result"]["nodes"]
        # Export: the artifacts are Recce's, byte for byte in meaning.
        status, text = await call(client, "post", "/api/export")
        exported = text if isinstance(text, dict) else json.loads(text)
        validate_v0(exported)
        assert exported["artifacts"] == original["artifacts"]
        assert exported["git"] == original["git"]
        assert len(exported["checks"]) == CORPUS[name][0]


async def test_missing_state_file_is_created_on_the_first_change(project: Path) -> None:
    state = project / "recce_state.json"
    async with ready_app(project, state_file=state) as (_, client):
        assert not state.exists()
        _, check = await call(client, "post", "/api/checks", {"name": "kept", "type": "simple"})
    doc = json.loads(state.read_bytes())  # saved by then, at the latest at shutdown
    validate_v0(doc)
    assert [c["name"] for c in doc["checks"]] == ["kept"]
    manifest = json.loads((project / "target" / "manifest.json").read_bytes())
    assert doc["artifacts"]["current"]["manifest"] == manifest
    # Started again: the check is back, and a second one joins it.
    async with ready_app(project, state_file=state) as (_, client):
        _, listed = await call(client, "get", "/api/checks")
        assert [c["check_id"] for c in listed] == [check["check_id"]]
        await call(client, "patch", f"/api/checks/{check['check_id']}", {"is_checked": True})
    assert json.loads(state.read_bytes())["checks"][0]["is_checked"] is True


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b'{"metadata": {"schema_version": "v0"}, "checks": [', "StateFileCorruptError"),
        (None, "NotAStateFileError"),  # a dbt manifest given by mistake
        (b'{"metadata": {"schema_version": "v9"}, "checks": []}', "UnsupportedStateVersionError"),
    ],
)
async def test_bad_state_file_fails_the_start_and_is_never_overwritten(
    project: Path, content: bytes | None, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    state = project / "recce_state.json"
    state.write_bytes(content or (project / "target" / "manifest.json").read_bytes())
    before = state.read_bytes()
    async with ready_app(project, state_file=state) as (_, client):
        _, health = await call(client, "get", "/api/health")
        assert (health["ready"], health["error"]) == (False, error)
        assert (await call(client, "post", "/api/checks", {"type": "simple"}))[0] == 503
    assert state.read_bytes() == before
    assert str(state) in caplog.text


async def test_review_mode_needs_both_manifests(tmp_path: Path) -> None:
    state = tmp_path / "recce_state.json"
    state.write_text('{"metadata": {"schema_version": "v0"}, "checks": [], "runs": [],'
                     ' "artifacts": {"base": {}, "current": {}}}')  # fmt: skip
    async with ready_app(tmp_path, state_file=state, review=True) as (_, client):
        _, health = await call(client, "get", "/api/health")
        assert health["error"] == "StateArtifactsMissingError"


async def test_save_save_as_rename(project: Path) -> None:
    async with ready_app(project) as (_, client):
        assert await call(client, "post", "/api/save") == (
            400, {"detail": "Not file mode or cloud mode"})  # fmt: skip
    state = project / "recce_state.json"
    async with ready_app(project, state_file=state) as (app, client):
        assert await call(client, "post", "/api/save") == (200, None)
        validate_v0(json.loads(state.read_bytes()))
        for name, detail in (
            ("sub/x.json", "The new filename should not contain directory"),
            ("../x.json", "The new filename should not contain directory"),
            ("x.txt", "The new filename should end with .json"),
            ("recce_state.json", "The new filename is the same as the current filename"),
        ):
            assert await call(client, "post", "/api/save-as", {"filename": name}) == (
                400, {"detail": detail})  # fmt: skip
        (project / "taken.json").write_text("{}")
        assert await call(client, "post", "/api/save-as", {"filename": "taken.json"}) == (
            409, {"detail": "The file taken.json already exists"})  # fmt: skip
        assert await call(client, "post", "/api/save-as",
                          {"filename": "taken.json", "overwrite": True}) == (200, None)  # fmt: skip
        taken = json.loads((project / "taken.json").read_bytes())
        assert taken["metadata"]["schema_version"] == "v0"
        assert await call(client, "post", "/api/rename", {"filename": "final.json"}) == (200, None)
        assert not (project / "taken.json").exists() and (project / "final.json").is_file()
        await call(client, "post", "/api/checks", {"name": "after rename", "type": "simple"})
    names = [c["name"] for c in json.loads((project / "final.json").read_bytes())["checks"]]
    assert names == ["after rename"]
    assert json.loads(state.read_bytes())["checks"] == []  # the first file stays as it was


ROW_COUNT_CHECK = "7f2d0c1e-5b1a-4c8e-9d37-2a4f6b8e1c01"
SCHEMA_CHECK = "b3e9a7d2-0c4f-4e61-8a5b-d9c2e1f07a02"
RUN_ID = "5c1e8f0a-3d2b-4f7e-b6a9-0e4d7c2b9f03"
ROW_COUNTS = {"orders": {"base": 120, "curr": 123}}


def state_to_import() -> bytes:
    """A Recce state file as Recce 1.x writes it: two checks, and one run of the first."""
    common = {
        "description": "",
        "view_options": None,
        "session_id": None,
        "is_checked": False,
        "is_preset": False,
        "created_by": "ana@example.com",
        "updated_by": "ana@example.com",
        "created_at": "2026-01-02T09:58:12Z",
        "updated_at": "2026-01-02T10:01:40Z",
    }
    row_count = {"node_names": ["orders"]}
    run = {
        "type": "row_count_diff",
        "name": "Row count diff",
        "params": row_count,
        "check_id": ROW_COUNT_CHECK,
        "result": ROW_COUNTS,
        "error": None,
        "status": "Finished",
        "progress": None,
        "run_id": RUN_ID,
        "run_at": "2026-01-02T10:01:39Z",
        "triggered_by": "user",
    }
    checks = [
        {"name": "Row count diff", "type": "row_count_diff", "params": row_count,
         "check_id": ROW_COUNT_CHECK, **common},
        {"name": "Schema diff", "type": "schema_diff", "params": {"node_id": "model.shop.orders"},
         "check_id": SCHEMA_CHECK, **common},
    ]  # fmt: skip
    metadata = {"schema_version": "v0", "recce_version": "1.69.1", "generated_at": "2026-01-02"}
    doc = {
        "metadata": metadata,
        "runs": [run],
        "checks": checks,
        "artifacts": {"base": {}, "current": {}},
        "git": {"branch": "feature/orders"},
    }
    return json.dumps(doc).encode()


async def test_import(project: Path) -> None:
    data = state_to_import()
    state = project / "recce_state.json"
    async with ready_app(project, state_file=state) as (app, client):

        async def upload(content: bytes, checks_only: str) -> tuple[int, object]:
            response = await client.post(
                "/api/import",
                form={"checks_only": checks_only},
                files={"file": FileStorage(io.BytesIO(content), filename="s.json")},
            )
            return response.status_code, json.loads(await response.get_data())

        assert await upload(data, "true") == (200, {"runs": 0, "checks": 2})
        # Again with the runs: the checks are there already, the run is new.
        assert await upload(data, "false") == (200, {"runs": 1, "checks": 0})
        status, body = await upload(b"{not json", "false")
        assert status == 400 and "not valid JSON" in body["detail"]
        app.config["MAX_CONTENT_LENGTH"] = len(data) // 2
        status, body = await upload(data, "true")
        assert status == 413
        listed = (await call(client, "get", "/api/checks"))[1]
        assert [(c["check_id"], c["name"]) for c in listed] == [
            (ROW_COUNT_CHECK, "Row count diff"),
            (SCHEMA_CHECK, "Schema diff"),
        ]
        runs = (await call(client, "get", "/api/runs"))[1]
        assert [(r["check_id"], r["run_id"]) for r in runs] == [(ROW_COUNT_CHECK, RUN_ID)]
        status, run = await call(client, "get", f"/api/runs/{RUN_ID}/wait")
        assert (status, run["result"]) == (200, ROW_COUNTS)
    assert len(json.loads(state.read_bytes())["checks"]) == 2


async def test_newer_state_artifact_wins_over_target(project: Path) -> None:
    current = json.loads((project / "target" / "manifest.json").read_bytes())
    newer = json.loads(json.dumps(current))
    newer["metadata"]["generated_at"] = "2030-01-01T00:00:00Z"
    newer["nodes"]["model.shop.orders"]["raw_code"] = "select 'from the state'"
    state = project / "recce_state.json"
    kept = {"base": {}, "current": {"manifest": newer}}
    state.write_text(json.dumps({"checks": [], "runs": [], "artifacts": kept}))
    async with ready_app(project, state_file=state) as (app, client):
        artifacts = app.extensions["recce"].artifacts
        orders = artifacts.current_manifest.nodes["model.shop.orders"]
        assert orders.raw_code == "select 'from the state'"
        status, text = await call(client, "post", "/api/export")
        exported = text if isinstance(text, dict) else json.loads(text)
        assert exported["artifacts"]["current"]["manifest"] == newer
        assert exported["artifacts"]["base"]["manifest"] == json.loads(
            (project / "target-base" / "manifest.json").read_bytes())  # fmt: skip


async def test_full_import_adopts_newer_artifacts_and_rebuilds_the_review(project: Path) -> None:
    newer = json.loads((project / "target" / "manifest.json").read_bytes())
    newer["metadata"]["generated_at"] = "2030-01-01T00:00:00Z"
    newer["nodes"]["model.shop.stg_orders"]["raw_code"] = "select 'imported'"
    upload_doc = {
        "checks": [],
        "runs": [],
        "artifacts": {"base": {}, "current": {"manifest": newer}},
    }
    async with ready_app(project) as (app, client):
        state = app.extensions["recce"]
        _, before = await call(client, "post", "/api/select", {"select": "state:modified"})
        assert before["nodes"] == ["model.shop.orders"]
        review = state.review
        response = await client.post(
            "/api/import",
            form={"checks_only": "false"},
            files={"file": FileStorage(io.BytesIO(json.dumps(upload_doc).encode()), "s.json")},
        )
        assert response.status_code == 200
        with trio.fail_after(10):
            while state.review is review:  # noqa: ASYNC110 - the swap has no event of its own
                await trio.sleep(0.01)
        _, after = await call(client, "post", "/api/select", {"select": "state:modified"})
    assert after["nodes"] == ["model.shop.orders", "model.shop.stg_orders"]
