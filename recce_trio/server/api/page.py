"""The web page: the built-in UI (or another build given by --ui-dir), served before readiness.

Files are read once (in a worker thread) and kept with their compressed forms and an ETag, so
a revalidation is a 304 and a repeat download is compressed only once. A file changed on disk
(a rebuilt --ui-dir) is read again.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from quart import Quart, Response, current_app
from werkzeug.routing import PathConverter
from werkzeug.security import safe_join

from recce_trio.errors import NotFoundError
from recce_trio.server import gateway
from recce_trio.server.compress import Representation

BUILTIN_UI = Path(__file__).resolve().parents[2] / "ui"
_STATIC_CACHE = "recce_trio.static"


def ui_dir() -> Path:
    configured = current_app.extensions["recce"].config.ui_dir
    return Path(configured) if configured is not None else BUILTIN_UI


def _media_type(path: str) -> str:
    guessed, _ = mimetypes.guess_type(path)
    if guessed is None:
        return "application/octet-stream"
    if guessed.startswith("text/") or guessed == "application/javascript":
        return f"{guessed}; charset=utf-8"
    return guessed


async def _representation(root: Path, path: str) -> Representation | None:
    """The representation of the file at ``path`` under ``root`` if it may be served
    (``servable``), read again only when its size or mtime changed: one trip off the event
    loop for the checks, the stat and any read (a page loads a few dozen files right after
    the server is ready, when each trip waits for the interpreter)."""
    if _hidden(path) or "\x00" in path:  # a NUL is in no file name, and breaks os calls
        return None
    joined = safe_join(str(root), path)
    if joined is None:
        return None
    cache: dict[Path, tuple[tuple[int, int], Representation]] = current_app.extensions.setdefault(
        _STATIC_CACHE, {}
    )

    def load() -> tuple[Path, tuple[tuple[int, int], Representation]] | None:
        target = servable(root, joined)
        if target is None:
            return None
        try:
            stat = target.stat()
            found = cache.get(target)
            key = (stat.st_mtime_ns, stat.st_size)
            if found is not None and found[0] == key:
                return target, found
            data = target.read_bytes()
        except OSError:
            return None
        return target, (key, Representation(data, media_type=_media_type(target.name)))

    loaded = await gateway.run(gateway.FILES, load)
    if loaded is None:
        return None
    target, entry = loaded
    cache[target] = entry
    return entry[1]


def _immutable(response: Response) -> None:
    response.cache_control.max_age = 31536000
    response.cache_control.immutable = True


def _revalidate(response: Response) -> None:
    response.cache_control.no_cache = True


def _no_store(response: Response) -> None:
    response.cache_control.no_store = True


def servable(root: Path, joined: str) -> Path | None:
    """The file at ``joined`` (a path under ``root``, from ``safe_join``) if it may be served:
    a regular file, really inside ``root`` once symlinks are followed (a link out of the
    folder is refused). Blocking: file system calls."""
    real_root, real = os.path.realpath(root), os.path.realpath(joined)
    if os.path.commonpath([real_root, real]) != real_root or not os.path.isfile(real):
        return None
    return Path(real)


def _hidden(path: str) -> bool:
    return any(part.startswith(".") for part in PurePosixPath(path).parts)


async def _send(
    root: Path, path: str, cache_control: Callable[[Response], None]
) -> Response | None:
    representation = await _representation(root, path)
    if representation is None:
        return None
    return await representation.respond(cache_control=cache_control)


async def page(path: str) -> Response:
    if _hidden(path):
        raise NotFoundError("Not Found")  # no dotfiles, and no client route looks like one
    root = ui_dir()
    if path:
        # Content-hashed names of a built UI never change; plain names (the built-in page)
        # are revalidated by ETag, so an upgrade is seen at once.
        hashed = "/assets/" in f"/{path}" or path.startswith("_next/")
        response = await _send(root, path, _immutable if hashed else _revalidate)
        if response is None and path == "favicon.ico":
            response = await _send(BUILTIN_UI, path, _revalidate)  # a build without an icon
        if response is not None:
            return response
    if PurePosixPath(path).suffix:
        # A missing file (a script, an image): the app shell in its place would only confuse.
        raise NotFoundError("Not Found")
    # Client-side routes (e.g. /lineage/) get the app shell; a static export may have its own.
    for candidate in (f"{path.rstrip('/')}/index.html", "index.html"):
        response = await _send(root, candidate.lstrip("/"), _no_store)
        if response is not None:
            return response
    raise NotFoundError("Not Found")


class PagePathConverter(PathConverter):
    """Any path but the API's: an unknown ``/api/`` path matches no route at all, so it is a
    404 whatever the method, and a known one with the wrong method a 405."""

    regex = r"(?!api/)[^/].*?"


def register(app: Quart) -> None:
    app.url_map.converters["page_path"] = PagePathConverter
    app.add_url_rule("/", view_func=page, defaults={"path": ""}, methods=["GET"])
    app.add_url_rule("/<page_path:path>", view_func=page, methods=["GET"])
