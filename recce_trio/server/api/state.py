"""State file endpoints: save, save-as, rename, export, import; and the save at shutdown."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

import trio
from quart import Quart, Response, current_app, request

from recce_trio.core import state as statefile
from recce_trio.core.artifactset import merge_newer_artifacts
from recce_trio.errors import (
    ConflictError,
    InvalidRequestError,
    RequestError,
    StateSaveError,
)
from recce_trio.server.api._http import field, json_body, server_state, session
from recce_trio.server.http import UPLOAD_LIMIT_BYTES, json_response
from recce_trio.server.session import resolve_new_name

log = logging.getLogger("recce_trio.core.state")

# The longest file name most filesystems take (NAME_MAX), in bytes.
MAX_FILENAME_BYTES = 255


async def save() -> Response:
    review = session()
    if review.state_file is None:
        raise RequestError("Not file mode or cloud mode")
    await _write(review.save(force=True), review.state_file)
    return Response("", 200, mimetype="text/plain")


async def _write(saving: object, path: Path) -> None:
    try:
        await saving  # type: ignore[misc]
    except (OSError, statefile.StateFileError) as exc:
        log.error("could not save the state file %s: %s", path, exc)
        # The client is told the file's name and the reason, never a server path.
        if isinstance(exc, OSError):
            why = exc.strerror or type(exc).__name__
        else:
            why = "a dbt artifact could not be read (the server log says which)"
        raise StateSaveError(f"Could not save the state file {path.name}: {why}.") from None


async def _save_as(*, rename: bool) -> Response:
    review = session()
    body = await json_body()
    overwrite = bool(field(body, "overwrite", bool))
    filename = body.get("filename")
    if isinstance(filename, str) and len(filename.encode(errors="replace")) > MAX_FILENAME_BYTES:
        raise RequestError(f"The new filename is too long: at most {MAX_FILENAME_BYTES} bytes")
    old = review.state_file
    new, error, status = resolve_new_name(
        old, filename, project_dir=server_state().config.project_dir
    )
    if new is None:
        raise RequestError(error or "The new filename is not valid", status=status)
    if new.is_dir():
        raise RequestError(f"The file {new.name} exists and is a directory")
    if new.exists() and not overwrite:
        raise ConflictError(f"The file {new.name} already exists")
    await _write(review.save(new, force=True), new)
    review.set_state_file(new)
    if rename and old is not None and old != new:
        with contextlib.suppress(FileNotFoundError):
            await trio.to_thread.run_sync(os.remove, old)
    return Response("", 200, mimetype="text/plain")


async def save_as() -> Response:
    return await _save_as(rename=False)


async def rename() -> Response:
    return await _save_as(rename=True)


async def export() -> Response:
    data = await session().encode()
    return Response(data, 200, mimetype="text/plain")


async def import_state() -> Response:
    review = session()
    form = await request.form
    files = await request.files
    upload = files.get("file")
    if upload is None:
        raise InvalidRequestError(["body", "file"], "Field required", "missing")
    raw_flag = form.get("checks_only")
    if raw_flag is None:
        raise InvalidRequestError(["body", "checks_only"], "Field required", "missing")
    checks_only = raw_flag.strip().lower() in ("1", "true", "yes", "on")
    data = upload.read()
    try:
        imported = await trio.to_thread.run_sync(
            lambda: statefile.decode_state(data, path=upload.filename or "upload")
        )
    except statefile.StateFileError as exc:
        raise RequestError(exc.message) from None
    except RecursionError:
        raise RequestError("The uploaded state file nests too deeply to be read.") from None
    if checks_only:
        _, merged_checks = review.checklist.merge(imported.checks, [])
        review.note_change()
        current_app.add_background_task(review.save_in_background)
        return json_response({"runs": 0, "checks": merged_checks})
    merged_runs, merged_checks = review.checklist.merge(imported.checks, imported.runs)
    review.note_change()
    # As Recce: any of the file's artifacts newer than the served one replaces it, and then
    # the review is built again (in the background: the answer does not wait for it).
    current_app.add_background_task(
        adopt_newer_artifacts, imported, upload.filename or "the imported state"
    )
    return json_response({"runs": merged_runs, "checks": merged_checks})


async def adopt_newer_artifacts(imported: statefile.RecceState, name: str) -> None:
    state = server_state()
    review = state.session
    if state.artifacts is None:
        return
    current = state.artifacts
    sources = dict(review.sources)
    merged = await trio.to_thread.run_sync(
        lambda: merge_newer_artifacts(current, sources, imported, path=Path(name))
    )
    if all(
        getattr(merged, field) is getattr(current, field)
        for field in ("base_manifest", "current_manifest", "base_catalog", "current_catalog")
    ):
        return
    from recce_trio.core.review import build_review
    from recce_trio.server.watch import broadcast

    new_review = await trio.to_thread.run_sync(build_review, merged)
    if state.artifacts is not current:
        return  # the files changed meanwhile and were reloaded: they are newer still
    state.artifacts, state.review = merged, new_review
    review.sources = sources
    review.artifacts_reloaded(merged, None)
    await broadcast(state, {"command": "refresh", "event": {"eventType": "imported"}})


async def save_on_shutdown() -> None:
    review = server_state().session
    if review is not None:
        await review.save_at_shutdown()


def register(app: Quart) -> None:
    app.config["MAX_CONTENT_LENGTH"] = UPLOAD_LIMIT_BYTES
    app.after_serving(save_on_shutdown)
    app.add_url_rule("/api/save", view_func=save, methods=["POST"])
    app.add_url_rule("/api/save-as", view_func=save_as, methods=["POST"])
    app.add_url_rule("/api/rename", view_func=rename, methods=["POST"])
    app.add_url_rule("/api/export", view_func=export, methods=["POST"])
    app.add_url_rule("/api/import", view_func=import_state, methods=["POST"])
