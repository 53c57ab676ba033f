"""docs/api.md names every API route the server has, and the docs name no route it lacks."""

from __future__ import annotations

import re
from pathlib import Path

from recce_trio.config import ServerConfig
from recce_trio.server.app import create_app
from tests.conftest import REPO

API_DOC = REPO / "docs" / "api.md"
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# "GET /api/info", "POST `/api/runs/{id}/cancel`", "WS /api/ws"
METHOD_PATH = re.compile(r"\b(GET|POST|PATCH|PUT|DELETE|WS) `?(/api/[\w./{}-]*\w}?)")
PARAMETER = re.compile(r"<[^>]+>|\{[^}]+\}")


def served_routes() -> set[tuple[str, str]]:
    """(method, path) of each API route, parameters written as ``{id}``."""
    app = create_app(ServerConfig(project_dir=Path("/nonexistent")))
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = PARAMETER.sub("{id}", rule.rule)
        methods = {"WS"} if rule.websocket else set(rule.methods or ()) - {"HEAD", "OPTIONS"}
        routes |= {(method, path) for method in methods}
    return routes


def test_every_api_route_is_in_docs_api_md() -> None:
    text = PARAMETER.sub("{id}", API_DOC.read_text())
    missing = sorted(
        (method, path)
        for method, path in served_routes()
        if not re.search(re.escape(path) + r"(?![\w/-])", text)
    )
    assert not missing, f"routes docs/api.md does not name: {missing}"


def test_every_route_the_docs_name_is_served() -> None:
    served = served_routes()
    named = {
        (doc.name, method, PARAMETER.sub("{id}", path))
        for doc in DOCS
        for method, path in METHOD_PATH.findall(doc.read_text())
    }
    assert len(named) > 20  # the endpoint tables were read
    unknown = sorted(entry for entry in named if entry[1:] not in served)
    assert not unknown, f"the docs name routes the server does not have: {unknown}"
