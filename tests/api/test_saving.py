"""The state file follows every check change, without a browser; a failed save is shown."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import trio
from werkzeug.datastructures import FileStorage

from tests.api.helpers import call, ready_app


def saved_checks(state_file: Path) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = json.loads(state_file.read_bytes())["checks"]
    return checks


async def test_every_check_change_is_in_the_state_file_at_once(project: Path) -> None:
    state_file = project / "recce_state.json"
    async with ready_app(project, state_file=state_file) as (app, client):
        session = app.extensions["recce"].session

        async def change(method: str, path: str, body: Any = None) -> Any:
            status, out = await call(client, method, path, body)
            assert status in (200, 201), out
            # The background save that follows the change; no shutdown save has run yet.
            with trio.fail_after(10):
                await session.wait_saved()
            return out

        first = await change("post", "/api/checks", {"name": "first", "type": "simple"})
        assert [c["name"] for c in saved_checks(state_file)] == ["first"]
        await change("post", "/api/checks", {"name": "second", "type": "simple"})
        assert [c["name"] for c in saved_checks(state_file)] == ["first", "second"]
        await change("patch", f"/api/checks/{first['check_id']}", {"is_checked": True})
        assert saved_checks(state_file)[0]["is_checked"] is True
        await change("patch", f"/api/checks/{first['check_id']}", {"description": "looked"})
        assert saved_checks(state_file)[0]["description"] == "looked"
        await change("post", "/api/checks/reorder", {"source": 0, "destination": 1})
        assert [c["name"] for c in saved_checks(state_file)] == ["second", "first"]
        await change("delete", f"/api/checks/{first['check_id']}")
        assert [c["name"] for c in saved_checks(state_file)] == ["second"]
        upload = {"checks": [{**saved_checks(state_file)[0], "check_id": first["check_id"],
                              "name": "imported"}], "runs": []}  # fmt: skip
        response = await client.post(
            "/api/import",
            form={"checks_only": "true"},
            files={"file": FileStorage(io.BytesIO(json.dumps(upload).encode()), "s.json")},
        )
        assert response.status_code == 200
        with trio.fail_after(10):
            await session.wait_saved()
        assert [c["name"] for c in saved_checks(state_file)] == ["second", "imported"]


async def wait_for_save_error(client: Any, expected: str | None) -> dict[str, Any]:
    with trio.fail_after(10):
        while True:
            _, health = await call(client, "get", "/api/health")
            if health["save_error"] == expected:
                return dict(health)
            await trio.sleep(0.01)


async def test_a_failed_save_is_shown_in_health_until_a_save_succeeds(project: Path) -> None:
    state_file = project / "recce_state.json"
    async with ready_app(project, state_file=state_file) as (app, client):
        _, health = await call(client, "get", "/api/health")
        assert health["save_error"] is None
        await call(client, "post", "/api/checks", {"name": "kept", "type": "simple"})
        with trio.fail_after(10):
            await app.extensions["recce"].session.wait_saved()
        state_file.chmod(0o444)  # refused by the atomic write, even for root
        await call(client, "post", "/api/checks", {"name": "unsaved", "type": "simple"})
        health = await wait_for_save_error(client, "PermissionError")
        assert str(project) not in json.dumps(health)
        assert health["ready"] is True
        state_file.chmod(0o644)
        await call(client, "post", "/api/checks", {"name": "saved again", "type": "simple"})
        await wait_for_save_error(client, None)
    assert [c["name"] for c in saved_checks(state_file)] == ["kept", "unsaved", "saved again"]
