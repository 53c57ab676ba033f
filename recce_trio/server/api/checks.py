"""The checklist endpoints: /api/checks and its reorder and run routes (Recce's check_api)."""

from __future__ import annotations

from typing import Any

from quart import Quart, Response, current_app

from recce_trio.core.checks import (
    RUN_TYPES,
    Check,
    ChecklistError,
    is_outdated,
    to_builtins,
    utc_now,
)
from recce_trio.core.runs import check_name, run_name
from recce_trio.server.api._http import (
    HTTPError,
    field,
    json_body,
    path_uuid,
    server_state,
    session,
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
    name = field(body, "name", str)
    description = field(body, "description", str) or ""
    run_id = field(body, "run_id", str)
    view_options = field(body, "view_options", dict)
    if run_id is not None:
        run = review.checklist.run(run_id)
        if run is None:
            raise HTTPError(404, f"Run '{run_id}' not found")
        kind, params = run.type, run.params
        _validate(review, kind, params)
        if name is None:
            name = run_name(run, review.node_name)
    else:
        kind = field(body, "type", str)
        params = field(body, "params", dict)
        if kind is None:
            raise HTTPError(400, "type is required when run_id is not given")
        if kind not in RUN_TYPES:
            expected = f"Input should be one of {', '.join(RUN_TYPES)}"
            raise HTTPError(422, [{"type": "enum", "loc": ["body", "type"], "msg": expected}])
        if name is None:
            try:
                name = check_name(kind, params, view_options, review.node_name)
            except ChecklistError as exc:
                raise HTTPError(400, str(exc)) from None
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
        raise HTTPError(400, "node_id is required for schema diff")
    for uid in [node_id] if isinstance(node_id, str) else list(node_id):
        if review.node_name(uid) is None:
            raise HTTPError(400, f"node_id '{uid}' not found in dbt manifest")


def _find(review: ReviewSession, check_id: str) -> Check:
    check = review.checklist.check(path_uuid(check_id, "check_id"))
    if check is None:
        raise HTTPError(404, "Not Found")
    return check


async def get_check(check_id: str) -> Response:
    review = session()
    return json_response(check_out(review, _find(review, check_id), exclude_none=False))


async def update_check(check_id: str) -> Response:
    review = session()
    check = _find(review, check_id)
    body = await json_body()
    updates = {
        "name": field(body, "name", str),
        "description": field(body, "description", str),
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
    try:
        review.checklist.reorder(source, destination)
    except ChecklistError as exc:
        raise HTTPError(400, str(exc)) from None
    changed(review)
    return json_response(None)


async def run_check(check_id: str) -> Response:
    from recce_trio.server.api.runs import submit_and_answer

    review = session()
    canonical = path_uuid(check_id, "check_id")
    check = review.checklist.check(canonical)
    if check is None:
        raise HTTPError(404, f"Check ID '{canonical}' not found")
    body = await json_body(required=False)
    nowait = bool(field(body, "nowait", bool))
    return await submit_and_answer(check.type, check.params or {}, check.check_id, nowait=nowait)


async def http_error(exc: HTTPError) -> Response:
    return exc.response()


def register(app: Quart) -> None:
    app.register_error_handler(HTTPError, http_error)
    app.add_url_rule("/api/checks", view_func=list_checks, methods=["GET"])
    app.add_url_rule("/api/checks", view_func=create_check, methods=["POST"])
    app.add_url_rule("/api/checks/reorder", view_func=reorder_checks, methods=["POST"])
    app.add_url_rule("/api/checks/<check_id>", view_func=get_check, methods=["GET"])
    app.add_url_rule("/api/checks/<check_id>", view_func=update_check, methods=["PATCH"])
    app.add_url_rule("/api/checks/<check_id>", view_func=delete_check, methods=["DELETE"])
    app.add_url_rule("/api/checks/<check_id>/run", view_func=run_check, methods=["POST"])
