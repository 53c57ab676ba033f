"""No file system or subprocess call made by recce_trio runs on the event loop: every one goes
through the gateway's worker threads. Checked by recording each such call's thread while a real
app starts (with decoder processes), serves the page and the API, saves, reloads, imports and
shuts down."""

from __future__ import annotations

import builtins
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trio
from werkzeug.datastructures import FileStorage

from recce_trio.config import ServerConfig
from recce_trio.server import watch
from recce_trio.server.app import create_app
from tests.artifact_json import manifest

PACKAGE = str(Path(__file__).resolve().parents[2] / "recce_trio") + os.sep
BLOCKING = [
    (os, name)
    for name in ("stat", "lstat", "open", "replace", "rename", "remove", "unlink", "scandir",
                 "listdir", "fsync", "mkdir", "waitpid")
] + [(builtins, "open"), (io, "open")]  # fmt: skip
# Not listed: os.kill. Signalling a process returns at once; it is how a deadline stops a
# decoder process without waiting for it (its exit is then awaited in a worker thread).


def _package_frame() -> str | None:
    """Where in recce_trio the current call comes from (the innermost package frame); None
    for a call from elsewhere, or from a module being imported (imports read files anyway)."""
    frame = sys._getframe(2)
    where = None
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return None
        if where is None and frame.f_code.co_filename.startswith(PACKAGE):
            where = f"{frame.f_code.co_filename[len(PACKAGE) :]}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return where


@pytest.fixture
def on_loop(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every blocking call made on the trio thread from recce_trio code, as 'call at file:line'."""
    calls: list[str] = []

    def recording(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if trio.lowlevel.in_trio_task():
                where = _package_frame()
                if where is not None:
                    calls.append(f"{name} at {where}")
            return original(*args, **kwargs)

        return wrapper

    for module, name in BLOCKING:
        monkeypatch.setattr(module, name, recording(name, getattr(module, name)))
    popen_init = subprocess.Popen.__init__
    monkeypatch.setattr(subprocess.Popen, "__init__", recording("Popen", popen_init))
    return calls


async def swapped(state: Any, review: Any) -> None:
    with trio.fail_after(10):
        while state.review is review:  # noqa: ASYNC110 - the swap has no event of its own
            await trio.sleep(0.01)


async def test_no_blocking_call_runs_on_the_event_loop(
    project: Path, on_loop: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watch, "POLL_INTERVAL_S", 0.05)
    state_file = project / "recce_state.json"
    config = ServerConfig(project_dir=project, state_file=state_file, loader="process")
    app = create_app(config)
    state = app.extensions["recce"]
    async with app.test_app() as test_app:
        client = test_app.test_client()
        with trio.fail_after(30):
            await state.ready_event.wait()
        for path in ("/", "/app.js", "/lineage/", "/api/health", "/api/info", "/api/flag"):
            assert (await client.get(path)).status_code == 200, path
        selected = await client.post("/api/select", json={"select": "state:modified"})
        assert selected.status_code == 200
        created = await client.post("/api/checks", json={"name": "c", "type": "simple"})
        assert created.status_code == 201
        with trio.fail_after(10):
            await state.session.wait_saved()
        assert (await client.post("/api/save")).status_code == 200
        assert (
            await client.post("/api/save-as", json={"filename": "other.json"})
        ).status_code == 200
        assert (await client.post("/api/export")).status_code == 200
        # The files change: the watcher reloads them.
        review = state.review
        models = {"stg_orders": "select 1", "orders": "select 3", "new_model": "select 4"}
        (project / "target" / "manifest.json").write_text(json.dumps(manifest(models)))
        await swapped(state, review)
        # A full import whose manifest is newer: a rebuild from it.
        newer = manifest({"stg_orders": "select 9"}, generated_at="2030-01-01T00:00:00Z")
        upload = {
            "checks": [],
            "runs": [],
            "artifacts": {"base": {}, "current": {"manifest": newer}},
        }
        review = state.review
        response = await client.post(
            "/api/import",
            form={"checks_only": "false"},
            files={"file": FileStorage(io.BytesIO(json.dumps(upload).encode()), "s.json")},
        )
        assert response.status_code == 200
        await swapped(state, review)
    # Shut down (the final save ran): nothing ran on the loop at any point.
    assert json.loads((project / "other.json").read_bytes())["checks"][0]["name"] == "c"
    assert on_loop == [], "\n".join(on_loop)
