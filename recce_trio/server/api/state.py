"""State file endpoints: save, save-as, rename, export, import; and the save at shutdown."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from quart import Quart, Response, current_app, request

from recce_trio.core import state as statefile
from recce_trio.core.artifactset import merge_newer_artifacts
from recce_trio.errors import (
    ConflictError,
    InvalidRequestError,
    RequestError,
    StateSaveError,
)
from recce_trio.server import gateway
from recce_trio.server.api._http import field, json_body, server_state, session
from recce_trio.server.http import UPLOAD_LIMIT_BYTES, json_response
from recce_trio.server.lifecycle import Candidate, refresh
from recce_trio.server.session import ReviewSession, resolve_new_name

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
    is_dir, exists = await gateway.run(gateway.FILES, _what_is, new)
    if is_dir:
        raise RequestError(f"The file {new.name} exists and is a directory")
    if exists and not overwrite:
        raise ConflictError(f"The file {new.name} already exists")
    await _write(review.save(new, force=True), new)
    await review.set_state_file(new)
    if rename and old is not None and old != new:
        await gateway.run(gateway.STATE_FILE, _remove, old)
    return Response("", 200, mimetype="text/plain")


def _what_is(path: Path) -> tuple[bool, bool]:
    return path.is_dir(), path.exists()


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


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
        imported = await gateway.run(
            gateway.STATE_FILE,
            lambda: statefile.decode_state(data, path=upload.filename or "upload"),
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


class _NothingNewer(Exception):
    """None of the imported artifacts is newer than the served one."""


async def adopt_newer_artifacts(imported: statefile.RecceState, name: str) -> None:
    """Serve any of the imported state's artifacts that are newer than the served ones."""
    state = server_state()

    async def obtain() -> Candidate:
        served = state.served
        if served is None:
            raise _NothingNewer
        current = served.review.artifacts
        sources = dict(state.session.sources)
        merged = await gateway.run(
            gateway.ARTIFACTS,
            lambda: merge_newer_artifacts(current, sources, imported, path=Path(name)),
        )
        if all(
            getattr(merged, field) is getattr(current, field)
            for field in ("base_manifest", "current_manifest", "base_catalog", "current_catalog")
        ):
            raise _NothingNewer

        async def adopt(review: ReviewSession) -> None:
            review.sources = sources
            review.artifacts_reloaded(merged, None)

        return Candidate(merged, served.snapshot, adopt)

    try:
        await refresh(state, obtain, announce="imported", derived=True)
    except _NothingNewer:
        pass
    except Exception:
        log.exception("the imported state's artifacts could not be served")


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
