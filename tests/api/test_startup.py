"""The startup path in-process: background load, readiness gate, health and its progress."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio
from trio.testing import MockClock, wait_all_tasks_blocked

from recce_trio.config import ServerConfig
from recce_trio.server.app import create_app
from tests.api.helpers import use_drained_client
from tests.artifact_json import write_project
from tests.held import HeldFile

GATED = "/api/flag"


@asynccontextmanager
async def running(project: Path, **settings: Any) -> AsyncIterator[Any]:
    settings.setdefault("loader", "thread")
    app = use_drained_client(create_app(ServerConfig(project_dir=project, **settings)))
    async with app.test_app() as test_app:
        yield app, test_app.test_client()


async def get_json(client: Any, path: str) -> tuple[int, Any]:
    response = await client.get(path)
    return response.status_code, json.loads(await response.get_data())


async def manifest_state(client: Any) -> str:
    _, health = await get_json(client, "/api/health")
    state: str = health["artifacts"]["curr_manifest"]["state"]
    return state


async def wait_until_ready(client: Any) -> dict[str, Any]:
    app_state = client.app.extensions["recce"]
    with trio.fail_after(20):
        await app_state.ready_event.wait()
    _, body = await get_json(client, "/api/health")
    return body


@pytest.mark.parametrize("loader", ["thread", "process"])
async def test_ready_after_load_and_api_opens(project: Path, loader: str) -> None:
    async with running(project, loader=loader) as (_, client):
        health = await wait_until_ready(client)
        assert health["status"] == "ok"
        assert health["ready"] is True
        assert health["error"] is None
        assert {k: v["state"] for k, v in health["artifacts"].items()} == {
            "curr_manifest": "loaded",
            "base_manifest": "loaded",
            "curr_catalog": "loaded",
            "base_catalog": "loaded",
        }
        sizes = {k: v["bytes"] for k, v in health["artifacts"].items()}
        assert sizes["curr_manifest"] == (project / "target/manifest.json").stat().st_size
        status, body = await get_json(client, GATED)
        assert status == 200
        assert body["single_env_onboarding"] is False


@pytest.mark.parametrize("loader", ["thread", "process"])
async def test_health_answers_while_loading_and_gate_waits_then_passes(
    project: Path, loader: str
) -> None:
    with HeldFile(project / "target" / "manifest.json") as held:
        async with running(project, loader=loader) as (_, client):
            status, health = await get_json(client, "/api/health")
            assert status == 200
            assert health["ready"] is False
            assert health["error"] is None
            results: dict[str, Any] = {}

            async def gated_request() -> None:
                results["gated"] = await get_json(client, GATED)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(gated_request)
                # The page and health pass while the gated request is held.
                page = await client.get("/")
                assert page.status_code == 200
                with trio.fail_after(10):
                    while await manifest_state(client) != "loading":  # noqa: ASYNC110 - HTTP
                        await trio.sleep(0.01)
                assert "gated" not in results
                await trio.to_thread.run_sync(held.release)
            assert results["gated"][0] == 200
            _, health = await get_json(client, "/api/health")
            assert health["ready"] is True


@pytest.mark.parametrize(("timeout_s", "said"), [(0.5, "0.5s"), (1, "1s")])
async def test_timeout_gives_503_names_the_timeout_and_stops_the_load(
    project: Path, timeout_s: float, said: str, caplog: pytest.LogCaptureFixture
) -> None:
    with HeldFile(project / "target" / "manifest.json"):  # the load cannot finish
        async with running(project, loader="process", startup_timeout_s=timeout_s) as (_, client):
            with trio.fail_after(10), caplog.at_level(logging.ERROR, logger="recce_trio"):
                status, body = await get_json(client, GATED)
            assert (status, body) == (
                503,
                {"error": f"Server startup did not complete within {said}."},
            )
            _, health = await get_json(client, "/api/health")
            assert health["ready"] is False
            assert health["error"] == "StartupTimeoutError"
            assert health["artifacts"]["curr_manifest"]["state"] == "failed"
            # The artifact names the documented error, not the cancellation that stopped it.
            assert health["artifacts"]["curr_manifest"]["error"] == "StartupTimeoutError"
            (line,) = [
                r.getMessage() for r in caplog.records if "StartupTimeoutError" in r.getMessage()
            ]
            assert f"within {said[:-1]} s. Raise --startup-timeout" in line  # two sentences
            # Later requests are refused at once, not after another wait.
            with trio.fail_after(1):
                status, _ = await get_json(client, "/api/info")
            assert status == 503


def _break_missing(project: Path) -> str:
    (project / "target" / "manifest.json").unlink()
    return "ArtifactNotFoundError"


def _break_truncated(project: Path) -> str:
    path = project / "target-base" / "manifest.json"
    path.write_bytes(path.read_bytes()[:200])
    return "ArtifactDecodeError"


def _break_foreign(project: Path) -> str:
    (project / "target" / "manifest.json").write_text(
        json.dumps({"name": "my-app", "version": "1"})
    )
    return "NotADbtArtifactError"


def _break_directory(project: Path) -> str:
    path = project / "target" / "manifest.json"
    path.unlink()
    path.mkdir()
    return "ArtifactReadError"


def _break_too_new(project: Path) -> str:
    path = project / "target" / "manifest.json"
    data = json.loads(path.read_text())
    data["metadata"]["dbt_schema_version"] = "https://schemas.getdbt.com/dbt/manifest/v99.json"
    path.write_text(json.dumps(data))
    return "UnsupportedSchemaVersionError"


@pytest.mark.parametrize(
    "breakage",
    [_break_missing, _break_truncated, _break_foreign, _break_directory, _break_too_new],
    ids=["missing", "truncated", "foreign", "directory", "too-new"],
)
@pytest.mark.parametrize("loader", ["thread", "process"])
async def test_failed_start_gives_503_and_names_the_error(
    project: Path, breakage: Any, loader: str, caplog: pytest.LogCaptureFixture
) -> None:
    expected = breakage(project)
    async with running(project, loader=loader) as (_, client):
        health = await wait_until_ready(client)
        status, body = await get_json(client, GATED)
    assert (status, body) == (
        503,
        {"error": "Server startup failed. Check server logs for details."},
    )
    assert health["ready"] is False
    assert health["error"] == expected
    failed = [k for k, v in health["artifacts"].items() if v["state"] == "failed"]
    assert len(failed) == 1
    # Health never reveals paths or messages; the log says what and where, once.
    assert str(project) not in json.dumps(health)
    errors = [
        r for r in caplog.records if r.levelname == "ERROR" and "startup failed" in r.getMessage()
    ]
    assert len(errors) == 1
    assert "manifest" in errors[0].getMessage()


async def test_missing_base_manifest_log_says_how_to_build_it(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (project / "target-base" / "manifest.json").unlink()
    async with running(project) as (_, client):
        health = await wait_until_ready(client)
    assert health["error"] == "ArtifactNotFoundError"
    message = next(r.getMessage() for r in caplog.records if "startup failed" in r.getMessage())
    assert "target-base" in message
    assert "dbt docs generate --target-path target-base" in message


async def test_missing_catalog_is_allowed(project: Path) -> None:
    (project / "target" / "catalog.json").unlink()
    async with running(project) as (_, client):
        health = await wait_until_ready(client)
        status, _ = await get_json(client, GATED)
    assert health["ready"] is True
    assert health["artifacts"]["curr_catalog"] == {
        "state": "missing",
        "bytes": None,
        "seconds": None,
        "error": None,
    }
    assert status == 200


async def test_single_env_fallback_without_target_base(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    project = write_project(tmp_path, with_base=False)
    async with running(project) as (app, client):
        health = await wait_until_ready(client)
        _, flags = await get_json(client, "/api/flag")
        _, info = await get_json(client, "/api/instance-info")
        loaded = app.extensions["recce"].artifacts
    assert health["ready"] is True
    assert health["single_env"] is True
    assert health["artifacts"]["base_manifest"]["state"] == "missing"
    assert flags["single_env_onboarding"] is True
    assert info["single_env"] is True
    assert loaded.base_manifest is loaded.current_manifest
    assert any("single-environment mode" in r.getMessage() for r in caplog.records)


async def test_websocket_answers_ping_before_ready(project: Path) -> None:
    with HeldFile(project / "target" / "manifest.json") as held:
        async with running(project, loader="process") as (_, client):
            async with client.websocket("/api/ws") as ws:
                await ws.send("ping")
                assert await ws.receive() == "pong"
                await ws.send('{"type": "ping"}')
                assert json.loads(await ws.receive()) == {"type": "pong"}
            _, health = await get_json(client, "/api/health")
            assert health["ready"] is False
            await trio.to_thread.run_sync(held.release)


async def test_unknown_api_path_is_json_404_once_ready(project: Path) -> None:
    async with running(project) as (_, client):
        await wait_until_ready(client)
        status, body = await get_json(client, "/api/does-not-exist")
    assert (status, body) == (404, {"detail": "Not Found"})


async def test_startup_perf_reports_each_artifact(project: Path) -> None:
    async with running(project) as (_, client):
        await wait_until_ready(client)
        status, perf = await get_json(client, "/api/startup-perf")
    assert status == 200
    assert perf["phase"] == "ready"
    for key in ("curr_manifest", "base_manifest", "curr_catalog", "base_catalog"):
        assert perf["timings"][key] >= 0
        assert perf["artifact_sizes"][key] > 0
    assert perf["timings"]["startup_total"] >= perf["timings"]["artifact_load"]


def app_noting_shutdown(project: Path, **settings: Any) -> tuple[Any, Any, trio.Event]:
    """An app whose timers, when they fire, set the returned event instead of signalling."""
    app = create_app(ServerConfig(project_dir=project, loader="thread", watch=False, **settings))
    state = app.extensions["recce"]
    stopped = trio.Event()
    state.activity.request_shutdown = stopped.set
    return app, state, stopped


async def advance(clock: MockClock, seconds: float) -> None:
    """Move the clock on and let every timer that is now due run."""
    clock.jump(seconds)
    await wait_all_tasks_blocked()


async def test_idle_timeout_shuts_down_unless_kept_alive(
    project: Path, mock_clock: MockClock
) -> None:
    mock_clock.rate = 1  # real time flows too (the load runs in threads); the test jumps it
    app, state, stopped = app_noting_shutdown(project, idle_timeout_s=60)
    async with app.test_app() as test_app:
        client = test_app.test_client()
        await wait_until_ready(client)
        await wait_all_tasks_blocked()
        await advance(mock_clock, 45)
        keep = await (await client.post("/api/keep-alive")).get_json()
        assert keep == {"status": "ok", "idle_timeout_enabled": True}
        # 90 s after ready: without the keep-alive at 45 s, it would have stopped at 60 s.
        await advance(mock_clock, 45)
        assert not stopped.is_set()
        # Health probes do not count as activity: 60 s after the keep-alive, it stops.
        assert (await client.get("/api/health")).status_code == 200
        await advance(mock_clock, 16)
        assert stopped.is_set()


async def test_idle_timer_not_armed_when_startup_failed(
    project: Path, mock_clock: MockClock
) -> None:
    mock_clock.rate = 1
    (project / "target" / "manifest.json").unlink()
    app, state, stopped = app_noting_shutdown(project, idle_timeout_s=60, lifetime_s=120)
    async with app.test_app() as test_app:
        await wait_until_ready(test_app.test_client())
        await wait_all_tasks_blocked()
        await advance(mock_clock, 3600)  # an armed timer would have fired long ago
        assert not stopped.is_set()
    assert state.activity.last_activity is None
    assert state.lifetime_expired_at is None


async def test_lifetime_shuts_down_after_load_and_is_reported(
    project: Path, mock_clock: MockClock
) -> None:
    mock_clock.rate = 1
    app, state, stopped = app_noting_shutdown(project, lifetime_s=120)
    async with app.test_app() as test_app:
        client = test_app.test_client()
        await wait_until_ready(client)
        await wait_all_tasks_blocked()
        _, info = await get_json(client, "/api/instance-info")
        assert "lifetime_expired_at" in info
        await advance(mock_clock, 100)
        # Activity does not extend a lifetime (only the idle timeout).
        await client.post("/api/keep-alive")
        await advance(mock_clock, 10)
        assert not stopped.is_set()
        await advance(mock_clock, 15)
        assert stopped.is_set()
