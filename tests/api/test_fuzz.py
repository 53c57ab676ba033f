"""Property-based fuzzing of every HTTP endpoint (issue 12, item 4).

Arbitrary JSON, fields of the wrong type and raw bytes go to every route of the app's url_map
(new endpoints are covered as they are added), against a real Hypercorn. Whatever is sent:
no 5xx, every error in the one shape (``{"detail": str | [problem, ...]}``), no server path
in an error body, and the server healthy afterwards. Bounded for CI: a fixed number of
examples per test, derandomized when ``CI`` is set (as tox passes it).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recce_trio.config import ServerConfig
from recce_trio.core.checks import RUN_TYPES
from recce_trio.server.app import create_app
from tests.artifact_json import write_project

FUZZ_SETTINGS = settings(
    max_examples=int(os.environ.get("RECCE_FUZZ_EXAMPLES", "100")),  # more for a deeper run
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# The names Recce's request bodies use: wrong values for them reach deeper than random keys.
FIELDS = (
    "name", "description", "type", "params", "run_id", "check_id", "view_options",
    "is_checked", "source", "destination", "nowait", "limit", "filter", "nodes", "select",
    "exclude", "packages", "view_mode", "node_id", "node_ids", "filename", "overwrite",
)  # fmt: skip
CONTENT_TYPES = (
    "application/json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "",
)


@dataclass
class Server:
    url: str
    root: Path
    endpoints: list[tuple[str, str]]  # (method, rule)
    stop: Callable[[], None]
    ids: list[str]  # of a check and a run that exist, for the routes that take one


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real Hypercorn on 127.0.0.1:0 in a thread of its own, shared by the fuzz tests."""
    root = tmp_path_factory.mktemp("fuzz")
    project = write_project(root / "project")
    config = ServerConfig(
        project_dir=project, state_file=project / "recce_state.json", loader="thread"
    )
    started = threading.Event()
    found: dict[str, Any] = {}

    async def main() -> None:
        stop = trio.Event()
        token = trio.lowlevel.current_trio_token()
        found["stop"] = partial(token.run_sync_soon, stop.set)
        app = create_app(config)
        found["endpoints"] = [
            (method, rule.rule)
            for rule in app.url_map.iter_rules()
            if not rule.websocket
            for method in sorted(rule.methods or ())
            if method not in ("HEAD", "OPTIONS")
        ]
        hypercorn = Config.from_mapping(
            bind=["127.0.0.1:0"], accesslog=None, errorlog=None, graceful_timeout=1
        )
        async with trio.open_nursery() as nursery:
            binds = await nursery.start(partial(serve, app, hypercorn, shutdown_trigger=stop.wait))
            found["url"] = binds[0]
            started.set()

    def run() -> None:
        try:
            trio.run(main)
        finally:
            started.set()

    thread = threading.Thread(target=run, name="fuzz server", daemon=True)
    thread.start()
    assert started.wait(30) and "url" in found, "the server did not start"
    fuzzed = Server(found["url"], root, found["endpoints"], found["stop"], [])
    with httpx.Client(base_url=fuzzed.url, timeout=30) as client:
        assert client.get("/api/flag").status_code == 200  # waits for the load
        for path, body in (
            ("/api/checks", {"type": "schema_diff", "params": {"node_id": "model.shop.orders"}}),
            ("/api/runs", {"type": "lineage_diff", "params": {}}),
        ):
            created = client.post(path, json=body).json()
            fuzzed.ids.append(created.get("check_id") or created["run_id"])
    yield fuzzed
    fuzzed.stop()
    thread.join(30)


def test_every_endpoint_is_fuzzed(server: Server) -> None:
    rules = {rule for _, rule in server.endpoints}
    # The url_map is the source: a handful of routes this suite is known to reach.
    assert {"/api/checks", "/api/runs", "/api/select", "/api/import", "/<page_path:path>"} <= rules
    assert len(server.endpoints) >= 30


JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
SHALLOW_VALUES = (
    JSON_LEAVES
    | st.lists(JSON_LEAVES, max_size=3)
    | st.dictionaries(st.text(max_size=6), JSON_LEAVES, max_size=3)
)
PATH_VALUES = st.one_of(
    st.uuids().map(str),
    st.text(min_size=1, max_size=24),
    st.sampled_from(
        ["model.shop.orders", "source.shop.raw.orders", ".env", "..", "%", "\x00", "a\x00.js"]
    ),
)
WRONG_TYPED_BODIES = st.fixed_dictionaries(
    {},
    optional={
        **{name: SHALLOW_VALUES for name in FIELDS},
        "type": st.sampled_from(RUN_TYPES) | SHALLOW_VALUES,
        "params": st.dictionaries(st.sampled_from(FIELDS), SHALLOW_VALUES, max_size=4),
    },
)


def fill_path(rule: str, values: list[str]) -> str:
    parts = iter(values)
    return re.sub(r"<(?:\w+:)?\w+>", lambda _: quote(next(parts), safe=""), rule)


def draw_endpoint(data: st.DataObject, server: Server) -> tuple[str, str]:
    method, rule = data.draw(st.sampled_from(server.endpoints), label="endpoint")
    holes = len(re.findall(r"<[^>]+>", rule))
    known = st.sampled_from(server.ids)
    values = data.draw(st.lists(PATH_VALUES | known, min_size=holes, max_size=holes), label="path")
    return method, fill_path(rule, values)


def check_answer(server: Server, what: str, response: httpx.Response) -> None:
    status = response.status_code
    assert status < 500, f"{what} -> {status} {response.text[:300]}"
    if status < 400:
        return
    assert response.headers.get("content-type", "").startswith("application/json"), what
    body = response.json()
    assert isinstance(body, dict) and list(body) == ["detail"], f"{what} -> {body}"
    detail = body["detail"]
    if isinstance(detail, list):  # FastAPI's 422: a list of problems
        assert detail and all({"type", "loc", "msg"} <= problem.keys() for problem in detail)
    else:
        assert isinstance(detail, str) and detail, f"{what} -> {body}"
    assert str(server.root) not in response.text, f"{what} names a server path: {body}"


def assert_healthy(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        health = client.get("/api/health")
        checks = client.get("/api/checks")
        info = client.get("/api/info")
    assert health.status_code == 200 and health.json()["ready"] is True
    assert checks.status_code == 200 and isinstance(checks.json(), list)
    assert info.status_code == 200 and "lineage" in info.json()


def fuzz(server: Server, body: st.SearchStrategy[dict[str, Any]]) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:

        @FUZZ_SETTINGS
        @given(data=st.data())
        def one_request(data: st.DataObject) -> None:
            method, path = draw_endpoint(data, server)
            request = data.draw(body, label="request")
            response = client.request(method, path, **request)
            check_answer(server, f"{method} {path} {str(request)[:200]}", response)

        one_request()
    assert_healthy(server)


def test_arbitrary_json(server: Server) -> None:
    fuzz(server, st.builds(lambda value: {"json": value}, JSON_VALUES))


def test_known_fields_with_wrong_types(server: Server) -> None:
    fuzz(
        server,
        st.builds(
            lambda value, timeout: {"json": value, "params": timeout},
            WRONG_TYPED_BODIES,
            st.fixed_dictionaries({}, optional={"timeout": st.text(max_size=12)}),
        ),
    )


def test_raw_bytes_under_any_content_type(server: Server) -> None:
    fuzz(
        server,
        st.builds(
            lambda data, content_type: {
                "content": data,
                "headers": {"Content-Type": content_type} if content_type else {},
            },
            st.binary(max_size=300),
            st.sampled_from(CONTENT_TYPES),
        ),
    )


def test_multipart_uploads(server: Server) -> None:
    fuzz(
        server,
        st.builds(
            lambda content, flag, name: {
                "files": {"file": (name, content, "application/json")},
                "data": {} if flag is None else {"checks_only": flag},
            },
            st.binary(max_size=300) | JSON_VALUES.map(lambda v: repr(v).encode()),
            st.none() | st.sampled_from(["true", "false", ""]) | st.text(max_size=8),
            st.text(max_size=20),
        ),
    )
