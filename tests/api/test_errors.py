"""One error path: every client mistake is a 4xx with a message a person understands, in
Recce's ``{"detail": ...}`` shape; failures of the server are a generic 500, logged once."""

from __future__ import annotations

import io
import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import FileStorage

from recce_trio.errors import INTERNAL_ERROR_DETAIL
from recce_trio.server.http import JSON_BODY_LIMIT_BYTES
from tests.api.helpers import call, ready_app
from tests.artifact_json import manifest, write_project

JSON = {"Content-Type": "application/json"}
DEEP = "[" * 100_000 + "]" * 100_000


async def send(client: Any, method: str, path: str, data: bytes | str) -> tuple[int, Any]:
    response = await client.open(path, method=method, data=data, headers=JSON)
    body = await response.get_data()
    assert response.mimetype == "application/json", body[:200]
    return response.status_code, json.loads(body)


def schema_diff(node_id: Any) -> str:
    return json.dumps({"type": "schema_diff", "params": {"node_id": node_id}})


# (method, path, body, status, words the message must contain)
CLIENT_MISTAKES = [
    ("POST", "/api/runs", schema_diff("x"), 400, "node_id 'x' not found"),
    ("POST", "/api/checks", schema_diff("x"), 400, "node_id 'x' not found"),
    ("POST", "/api/checks", schema_diff([{}]), 400, "node_id must be"),
    ("POST", "/api/checks", schema_diff({"a": 1}), 400, "node_id must be"),
    ("POST", "/api/runs", schema_diff([{}]), 400, "node_id must be"),
    (
        "POST",
        "/api/runs",
        json.dumps({"type": "lineage_diff", "params": {"select": 5}}),
        400,
        "select must be a string",
    ),
    (
        "POST",
        "/api/runs",
        json.dumps({"type": "lineage_diff", "params": {"view_mode": "some"}}),
        400,
        "view_mode must be",
    ),
    ("POST", "/api/runs/aggregate", '{"filter": {"nodes": 5}}', 405, "filter.nodes must be"),
    ("POST", "/api/select", '{"select": 5}', 400, "Expected `str | null`"),
    ("POST", "/api/select", DEEP, 400, "nests deeper than 64 levels"),
    ("POST", "/api/checks", DEEP, 400, "nests deeper than 64 levels"),
    ("POST", "/api/runs/search", '{"a":' * 5000 + "1" + "}" * 5000, 400, "nests deeper"),
    ("POST", "/api/save-as", DEEP, 400, "nests deeper"),
    ("PUT", "/api/checks", "{}", 405, "Method Not Allowed"),
    ("POST", "/api/not-a-route", '{"a": 1}', 404, "Not Found"),
    ("DELETE", "/api/runs/x/y/z", "", 404, "Not Found"),
    ("POST", "/api/health", "{}", 405, "Method Not Allowed"),
]
BAD_UTF8_PATHS = [
    "/api/checks",
    "/api/checks/reorder",
    "/api/runs",
    "/api/runs/search",
    "/api/runs/aggregate",
    "/api/select",
    "/api/save-as",
    "/api/rename",
]


async def test_client_mistakes_are_4xx_with_a_message(project: Path) -> None:
    async with ready_app(project) as (_app, client):
        for method, path, body, status, words in CLIENT_MISTAKES:
            answer = await send(client, method, path, body)
            assert answer[0] == status, (method, path, body[:80], answer)
            assert list(answer[1]) == ["detail"]
            assert words in answer[1]["detail"], (path, answer)
        for path in BAD_UTF8_PATHS:
            status, body = await send(client, "POST", path, b'{"name": "\xff\xfe"}')
            assert (status, list(body)) == (400, ["detail"]), (path, body)
            assert "not valid JSON" in body["detail"] and "UTF-8" in body["detail"]
        allow = (await client.post("/api/health")).headers["Allow"]
        assert "GET" in allow.split(", ") and "POST" not in allow
        # Nothing was added by the refused requests.
        assert await call(client, "get", "/api/checks") == (200, [])
        assert await call(client, "get", "/api/runs") == (200, [])


async def test_fastapi_shapes_are_kept_for_wrong_types(project: Path) -> None:
    async with ready_app(project) as (_app, client):
        status, body = await send(client, "POST", "/api/checks", "[1, 2]")
        assert status == 422
        assert body == {
            "detail": [
                {
                    "type": "model_type",
                    "loc": ["body"],
                    "msg": "Input should be a valid dictionary or object",
                }
            ]
        }
        status, body = await send(client, "POST", "/api/checks/reorder", '{"source": "a"}')
        assert status == 422 and body["detail"][0]["loc"] == ["body", "source"]


async def test_size_limits_on_bodies_and_names(project: Path) -> None:
    async with ready_app(project) as (_app, client):
        huge = json.dumps({"name": "x" * (50 * 1024 * 1024), "type": "simple"})
        status, body = await send(client, "POST", "/api/checks", huge)
        assert status == 413
        assert body == {"detail": "Request body too large: at most 8 MiB is accepted here."}
        assert JSON_BODY_LIMIT_BYTES == 8 * 1024 * 1024  # the figure docs/api.md gives
        long_name = json.dumps({"name": "n" * 1001, "type": "simple"})
        status, body = await send(client, "POST", "/api/checks", long_name)
        assert status == 413
        assert body == {"detail": "name is too long: 1,001 characters, at most 1,000 are accepted."}
        ok = await call(client, "post", "/api/checks", {"name": "n" * 1000, "type": "simple"})
        assert ok[0] == 201
        check_id = ok[1]["check_id"]
        long_text = {"description": "d" * 100_001}
        status, body = await call(client, "patch", f"/api/checks/{check_id}", long_text)
        assert status == 413 and "description is too long" in body["detail"]
        status, body = await call(client, "post", "/api/save-as", {"filename": "a" * 300 + ".json"})
        assert (status, body) == (
            400,
            {"detail": "The new filename is too long: at most 255 bytes"},
        )
        listed = (await call(client, "get", "/api/checks"))[1]
        assert [len(c["name"]) for c in listed] == [1000]


async def test_unexpected_failure_is_a_generic_500_logged_once(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with ready_app(project) as (app, client):

        def broken() -> Any:
            raise RuntimeError(f"secret detail in {project}")

        # A route of our own that fails the way a bug would.
        app.add_url_rule("/api/broken-for-test", view_func=broken, methods=["GET"])
        with caplog.at_level(logging.ERROR, logger="recce_trio"):
            status, body = await call(client, "get", "/api/broken-for-test")
        assert (status, body) == (500, {"detail": INTERNAL_ERROR_DETAIL})
        logged = [r for r in caplog.records if r.exc_info is not None]
        assert len(logged) == 1 and "secret detail" in str(logged[0].exc_info[1])
        assert (await call(client, "get", "/api/health"))[1]["ready"] is True


async def test_error_bodies_never_name_server_paths(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project")
    reviews = project / "reviews"
    reviews.mkdir()
    state = reviews / "recce_state.json"
    async with ready_app(project, state_file=state) as (_app, client):
        (reviews / "taken.json").mkdir()  # save-as writes beside the state file
        answers = [
            await call(client, "post", "/api/save-as", {"filename": "taken.json"}),
            await call(client, "post", "/api/rename", {"filename": "taken.json"}),
        ]
        shutil.rmtree(reviews)  # the state file's folder is gone: the save fails
        answers.append(await call(client, "post", "/api/save"))
    assert answers[0] == (400, {"detail": "The file taken.json exists and is a directory"})
    assert answers[2][0] == 500
    assert answers[2][1]["detail"].startswith("Could not save the state file recce_state.json:")
    for status, body in answers:
        assert status >= 400
        assert str(tmp_path) not in json.dumps(body), body


async def test_select_returns_only_ids_the_lineage_has(tmp_path: Path) -> None:
    current = manifest({"stg_orders": "select 1", "orders": "select 3"})
    hook = dict(current["nodes"]["model.shop.orders"])
    hook.update(
        unique_id="operation.shop.shop-on-run-end-0",
        name="shop-on-run-end-0",
        resource_type="operation",
        fqn=["shop", "hooks", "shop-on-run-end-0"],
        depends_on={"macros": [], "nodes": []},
    )
    current["nodes"][hook["unique_id"]] = hook
    current["parent_map"][hook["unique_id"]] = []
    project = write_project(tmp_path, current=current)
    async with ready_app(project) as (_app, client):
        status, body = await call(client, "post", "/api/select", {})
        _, info = await call(client, "get", "/api/info")
    assert status == 200
    known = set(info["lineage"]["nodes"])
    assert body["nodes"] and set(body["nodes"]) <= known
    assert "operation.shop.shop-on-run-end-0" not in body["nodes"]


async def test_a_deeply_nested_state_file_upload_is_400(project: Path) -> None:
    deep = b'{"checks": [{"type": "simple", "params": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_000
    deep += b"}]}"
    async with ready_app(project) as (_app, client):
        response = await client.post(
            "/api/import",
            form={"checks_only": "true"},
            files={"file": FileStorage(io.BytesIO(deep), filename="deep.json")},
        )
        body = await response.get_json()
        assert (response.status_code, list(body)) == (400, ["detail"])
        assert "nests too deeply" in body["detail"]
        assert await call(client, "get", "/api/checks") == (200, [])
