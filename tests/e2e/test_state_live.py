"""The checklist over real HTTP: concurrent edits all reach the state file; the CI commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import partial
from pathlib import Path

import httpx
import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from recce_trio.config import ServerConfig
from recce_trio.server.app import create_app
from tests.conftest import STATE_CORPUS
from tests.unit.test_state import validate_v0


async def test_100_concurrent_check_edits_are_all_saved(project: Path) -> None:
    state = project / "recce_state.json"
    config = Config.from_mapping(
        bind=["127.0.0.1:0"], accesslog=None, errorlog=None, graceful_timeout=5
    )
    stop = trio.Event()
    app = create_app(ServerConfig(project_dir=project, state_file=state, loader="thread"))
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(partial(serve, app, config, shutdown_trigger=stop.wait))
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=binds[0], timeout=60, limits=limits) as client:
            created: list[str] = []

            async def create(i: int) -> None:
                body = {"name": f"c{i}", "type": "simple"}
                response = await client.post("/api/checks", json=body)
                assert response.status_code == 201
                created.append(response.json()["check_id"])

            async with trio.open_nursery() as edits:
                for i in range(100):
                    edits.start_soon(create, i)

            async def approve(check_id: str) -> None:
                response = await client.patch(f"/api/checks/{check_id}", json={"is_checked": True})
                assert response.status_code == 200

            async with trio.open_nursery() as edits:
                for check_id in created[::2]:
                    edits.start_soon(approve, check_id)
        stop.set()  # graceful shutdown: pending saves finish, then the final save
    doc = json.loads(state.read_bytes())
    validate_v0(doc)
    saved = {c["check_id"]: c for c in doc["checks"]}
    assert set(saved) == set(created)
    assert {cid for cid, c in saved.items() if c["is_checked"]} == set(created[::2])


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "recce_trio", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )


def test_run_writes_state_and_summary_and_exits_0(project: Path) -> None:
    (project / "recce.yml").write_text(
        "checks:\n"
        "  - name: Schema diff\n    type: schema_diff\n"
        "  - name: Row counts\n    type: row_count_diff\n    params: {select: 'state:modified'}\n"
    )
    result = run_cli("run", "--summary", "out/summary.md", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "[Skipped] Row counts (row_count_diff): needs a warehouse connection" in result.stdout
    doc = json.loads((project / "recce_state.json").read_bytes())
    validate_v0(doc)
    assert [(c["name"], c["is_preset"]) for c in doc["checks"]] == [
        ("Schema diff", True), ("Row counts", True)]  # fmt: skip
    assert [r["type"] for r in doc["runs"]] == ["schema_diff"]
    assert doc["runs"][0]["duration"] >= 0  # how long it took (recce-trio's addition)
    summary = (project / "out" / "summary.md").read_text()
    assert "| orders | model | modified |" in summary
    assert "```mermaid" in summary and "| Schema diff | Schema Diff | ✅ Approved |" in summary
    # The written state reads back in review mode for the summary command.
    result = run_cli("summary", "recce_state.json", cwd=project)
    assert result.returncode == 0 and "| Row counts | Row Count Diff |" in result.stdout


def test_run_and_summary_fail_clearly_on_bad_input(tmp_path: Path) -> None:
    result = run_cli("run", cwd=tmp_path)
    assert result.returncode == 1
    assert "manifest" in result.stderr and "not found" in result.stderr
    (tmp_path / "broken.json").write_text("{")
    result = run_cli("summary", "broken.json", cwd=tmp_path)
    assert result.returncode == 1 and "broken.json" in result.stderr
    assert "Traceback" not in result.stderr


def test_summary_of_a_recce_state_file(tmp_path: Path) -> None:
    source = STATE_CORPUS / "doriwilson__recce-super-demo" / "recce_state.json"
    if not source.is_file():
        import pytest

        pytest.skip(f"corpus state file absent: {source}")
    result = run_cli("summary", str(source), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "| Row count diff | Row Count Diff | ✅ Approved |" in result.stdout
