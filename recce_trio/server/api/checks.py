"""The checklist endpoints: /api/checks and its reorder and run routes (Recce's check_api)."""

from __future__ import annotations

from typing import Any

from quart import Quart, Response, current_app

from recce_trio.core.checks import RUN_TYPES, Check, is_outdated, to_builtins, utc_now
from recce_trio.core.runs import check_name, run_name
from recce_trio.errors import InvalidRequestError, NotFoundError, RequestError
from recce_trio.server.api._http import (
    MAX_DESCRIPTION_CHARS,
    MAX_NAME_CHARS,
    field,
    json_body,
    path_uuid,
    server_state,
    session,
    text_field,
)
from recce_trio.server.http import json_response
from recce_trio.server.session import ReviewSession


def check_out(review: ReviewSession, check: Check, *, exclude_none: bool) -> dict[str, Any]:
    """Recce's ``CheckOut``: the check with its last run."""
    last_run = review.checklist.last_run(check.check_id)
    out: dict[str, Any] = {
        "check_id": check.check_id,
        "name": check.name,
        "description": check.description,
        "type": check.type,
        "params": check.params,
        "view_options": check.view_options,
        "is_checked": check.is_checked,
        "is_preset": check.is_preset,
        "last_run": None if last_run is None else to_builtins(last_run, exclude_none=exclude_none),
        "is_outdated": is_outdated(last_run, _generated_at()),
    }
    if exclude_none:
        out = {key: value for key, value in out.items() if value is not None}
    return out


def _generated_at() -> list[str | None]:
    artifacts = server_state().artifacts
    if artifacts is None:
        return []
    parts = (
        artifacts.base_manifest,
        artifacts.current_manifest,
        artifacts.base_catalog,
        artifacts.current_catalog,
    )
    return [part.metadata.generated_at for part in parts if part is not None]


def changed(review: ReviewSession) -> None:
    """A check changed: note it and save in the background, as Recce does."""
    review.note_change()
    current_app.add_background_task(review.save_in_background)


async def list_checks() -> Response:
    review = session()
    return json_response([check_out(review, c, exclude_none=True) for c in review.checklist.checks])


async def create_check() -> Response:
    review = session()
    body = await json_body()
    await review.lookups_ready()
    name = text_field(body, "name", max_chars=MAX_NAME_CHARS)
    description = text_field(body, "description", max_chars=MAX_DESCRIPTION_CHARS) or ""
    run_id = field(body, "run_id", str)
    view_options = field(body, "view_options", dict)
    if run_id is not None:
        run = review.checklist.run(run_id)
        if run is None:
            raise NotFoundError(f"Run '{run_id}' not found")
        kind, params = run.type, run.params
        _validate(review, kind, params)
        if name is None:
            name = run_name(run, review.node_name)
    else:
        kind = field(body, "type", str)
        params = field(body, "params", dict)
        if kind is None:
            raise RequestError("type is required when run_id is not given")
        if kind not in RUN_TYPES:
            expected = f"Input should be one of {', '.join(RUN_TYPES)}"
            raise InvalidRequestError(["body", "type"], expected, "enum")
        if kind == "schema_diff":
            _validate_node_ids(params)
        if name is None:
            name = check_name(kind, params, view_options, review.node_name)
    check = Check(
        name=name, description=description, type=kind, params=params, view_options=view_options
    )
    review.checklist.checks.append(check)
    if run_id is not None:
        assert run is not None
        run.check_id = check.check_id
    changed(review)
    return json_response(check_out(review, check, exclude_none=False), 201)


def _validate(review: ReviewSession, kind: str, params: dict[str, Any] | None) -> None:
    # Recce's validate_schema_diff_check, for checks made from a run.
    if kind != "schema_diff":
        return
    node_id = (params or {}).get("node_id")
    if node_id is None:
        raise RequestError("node_id is required for schema diff")
    for uid in _validate_node_ids(params):
        if review.node_name(uid) is None:
            raise RequestError(f"node_id '{uid}' not found in dbt manifest")


def _validate_node_ids(params: dict[str, Any] | None) -> list[str]:
    """A schema diff's ``node_id``: one unique id or a list of them (400 otherwise)."""
    node_id = (params or {}).get("node_id")
    if node_id is None:
        return []
    ids = [node_id] if isinstance(node_id, str) else node_id
    if not isinstance(ids, list) or not all(isinstance(uid, str) for uid in ids):
        raise RequestError("node_id must be a node's unique_id or a list of them")
    return ids


def _find(review: ReviewSession, check_id: str) -> Check:
    check = review.checklist.check(path_uuid(check_id, "check_id"))
    if check is None:
        raise NotFoundError("Not Found")
    return check


async def get_check(check_id: str) -> Response:
    review = session()
    return json_response(check_out(review, _find(review, check_id), exclude_none=False))


async def update_check(check_id: str) -> Response:
    review = session()
    check = _find(review, check_id)
    body = await json_body()
    updates = {
        "name": text_field(body, "name", max_chars=MAX_NAME_CHARS),
        "description": text_field(body, "description", max_chars=MAX_DESCRIPTION_CHARS),
        "params": field(body, "params", dict),
        "view_options": field(body, "view_options", dict),
        "is_checked": field(body, "is_checked", bool),
    }
    for name, value in updates.items():
        if value is not None:
            setattr(check, name, value)
    check.updated_at = utc_now()
    changed(review)
    return json_response(check_out(review, check, exclude_none=True))


async def delete_check(check_id: str) -> Response:
    review = session()
    canonical = path_uuid(check_id, "check_id")
    review.checklist.delete(canonical)
    changed(review)
    return json_response({"check_id": canonical})


async def reorder_checks() -> Response:
    review = session()
    body = await json_body()
    source = field(body, "source", int, required=True)
    destination = field(body, "destination", int, required=True)
    review.checklist.reorder(source, destination)  # ChecklistError: 400
    changed(review)
    return json_response(None)


async def run_check(check_id: str) -> Response:
    from recce_trio.server.api.runs import submit_and_answer

    review = session()
    canonical = path_uuid(check_id, "check_id")
    check = review.checklist.check(canonical)
    if check is None:
        raise NotFoundError(f"Check ID '{canonical}' not found")
    body = await json_body(required=False)
    nowait = bool(field(body, "nowait", bool))
    return await submit_and_answer(check.type, check.params or {}, check.check_id, nowait=nowait)


def register(app: Quart) -> None:
    app.add_url_rule("/api/checks", view_func=list_checks, methods=["GET"])
    app.add_url_rule("/api/checks", view_func=create_check, methods=["POST"])
    app.add_url_rule("/api/checks/reorder", view_func=reorder_checks, methods=["POST"])
    app.add_url_rule("/api/checks/<check_id>", view_func=get_check, methods=["GET"])
    app.add_url_rule("/api/checks/<check_id>", view_func=update_check, methods=["PATCH"])
    app.add_url_rule("/api/checks/<check_id>", view_func=delete_check, methods=["DELETE"])
    app.add_url_rule("/api/checks/<check_id>/run", view_func=run_check, methods=["POST"])
