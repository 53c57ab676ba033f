"""Rewritten artifacts are reloaded and pages told; a broken rewrite changes nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import trio

from recce_trio.server import watch
from tests.api.test_startup import get_json, running, wait_until_ready
from tests.artifact_json import manifest, write_project


@pytest.fixture(autouse=True)
def fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch, "POLL_INTERVAL_S", 0.05)


async def test_rewritten_manifest_is_reloaded_and_pages_told(project: Path) -> None:
    async with running(project) as (_, client):
        await wait_until_ready(client)
        _, before = await get_json(client, "/api/info")
        assert "model.shop.new_model" not in before["lineage"]["nodes"]
        async with client.websocket("/api/ws") as ws:
            await ws.send("ping")
            assert await ws.receive() == "pong"
            models = {"stg_orders": "select 1", "orders": "select 3", "new_model": "select 4"}
            (project / "target" / "manifest.json").write_text(json.dumps(manifest(models)))
            with trio.fail_after(10):
                message = json.loads(await ws.receive())
        assert message["command"] == "refresh"
        _, after = await get_json(client, "/api/info")
    assert after["lineage"]["nodes"]["model.shop.new_model"]["change_status"] == "added"


async def test_broken_rewrite_keeps_the_previous_review(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(project) as (app, client):
        await wait_until_ready(client)
        state = app.extensions["recce"]
        review = state.review
        (project / "target" / "manifest.json").write_text('{"metadata": {')
        with trio.fail_after(10):
            while not any("could not be loaded" in r.getMessage() for r in caplog.records):  # noqa: ASYNC110
                await trio.sleep(0.02)
        _, health = await get_json(client, "/api/health")
        status, _ = await get_json(client, "/api/info")
    assert state.review is review
    assert health["ready"] is True
    assert status == 200


async def test_base_appearing_leaves_single_environment_mode(tmp_path: Path) -> None:
    project = write_project(tmp_path, with_base=False)
    async with running(project) as (app, client):
        health = await wait_until_ready(client)
        assert health["single_env"] is True
        write_project(tmp_path)  # now with target-base/
        state = app.extensions["recce"]
        with trio.fail_after(10):
            while state.single_env:  # noqa: ASYNC110 - the state has no event for this
                await trio.sleep(0.02)
        _, info = await get_json(client, "/api/info")
    assert info["lineage"]["nodes"]["model.shop.orders"]["change_status"] == "modified"


async def test_deleted_base_keeps_the_last_review_and_warns(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(project) as (app, client):
        await wait_until_ready(client)
        state = app.extensions["recce"]
        review = state.review
        shutil.rmtree(project / "target-base")
        with trio.fail_after(10):
            while not any("is gone" in r.getMessage() for r in caplog.records):  # noqa: ASYNC110
                await trio.sleep(0.02)
        _, health = await get_json(client, "/api/health")
        _, info = await get_json(client, "/api/info")
    assert state.review is review
    assert health["single_env"] is False
    assert info["lineage"]["nodes"]["model.shop.orders"]["change_status"] == "modified"
    warning = next(r for r in caplog.records if "is gone" in r.getMessage())
    assert warning.levelname == "WARNING"
    assert "keeping the last review" in warning.getMessage()
