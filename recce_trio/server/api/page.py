"""The web page: the built-in UI (or another build given by --ui-dir), served before readiness."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import trio
from quart import Quart, Response, current_app, send_from_directory
from werkzeug.security import safe_join

BUILTIN_UI = Path(__file__).resolve().parents[2] / "ui"


def ui_dir() -> Path:
    configured = current_app.extensions["recce"].config.ui_dir
    return Path(configured) if configured is not None else BUILTIN_UI


async def page(path: str) -> Response:
    root = ui_dir()
    target = safe_join(str(root), path) if path else None
    if target is not None and await trio.Path(target).is_file():
        response = await send_from_directory(root, path)
        if "/assets/" in f"/{path}" or path.startswith("_next/"):
            # Content-hashed names of a built UI: they never change.
            response.cache_control.max_age = 31536000
            response.cache_control.immutable = True
        else:
            # Plain names (the built-in page): revalidate by ETag, so an upgrade is seen at once.
            response.cache_control.no_cache = True
        return response
    if PurePosixPath(path).suffix:
        # A missing file (a script, an image): the app shell in its place would only confuse.
        return Response("Not Found", 404, mimetype="text/plain")
    # Client-side routes (e.g. /lineage/) get the app shell; a static export may have its own.
    for candidate in (f"{path.rstrip('/')}/index.html", "index.html"):
        if await trio.Path(root / candidate).is_file():
            response = await send_from_directory(root, candidate)
            response.cache_control.no_store = True
            return response
    return Response("Not Found", 404, mimetype="text/plain")


def register(app: Quart) -> None:
    app.add_url_rule("/", view_func=page, defaults={"path": ""}, methods=["GET"])
    app.add_url_rule("/<path:path>", view_func=page, methods=["GET"])
