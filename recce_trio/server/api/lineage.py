"""Lineage endpoints: /api/info, /api/select, /api/model(s)/{id}, served from precomputed data."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import msgspec
import trio
from quart import Quart, Response, request

from recce_trio.core.checks import utc_now
from recce_trio.core.review import Review
from recce_trio.core.selector import SelectorError
from recce_trio.core.state import RECCE_VERSION, SCHEMA_VERSION
from recce_trio.server.api._http import server_state
from recce_trio.server.http import json_response

# Run types that need a warehouse; recce-trio reads artifacts only, so the UI greys them out.
WAREHOUSE_RUN_TYPES = (
    "query",
    "query_base",
    "query_diff",
    "value_diff",
    "value_diff_detail",
    "profile",
    "profile_diff",
    "row_count",
    "row_count_diff",
    "top_k_diff",
    "histogram_diff",
)


INFO_CHUNK_BYTES = 1 << 20
_encoder = msgspec.json.Encoder()


class SelectRequest(msgspec.Struct, forbid_unknown_fields=False):
    select: str | None = None
    exclude: str | None = None
    packages: list[str] | None = None
    view_mode: str | None = None


def _review() -> Review:
    review: Review = server_state().review
    return review


async def info() -> Response:
    state = server_state()
    review = _review()
    session = state.session
    state_file = session.state_file
    body: dict[str, Any] = {
        "state_metadata": {
            "schema_version": SCHEMA_VERSION,
            "recce_version": RECCE_VERSION,
            "generated_at": utc_now(),
        },
        "adapter_type": "dbt",
        "review_mode": state.config.review,
        "git": session.git,
        "pull_request": session.pull_request,
        "demo": state.config.demo,
        "codespace": os.environ.get("CODESPACES") == "true",
        "cloud_mode": False,
        "file_mode": state_file is not None,
        "filename": state_file.name if state_file is not None else None,
        "support_tasks": {**dict.fromkeys(WAREHOUSE_RUN_TYPES, False), "change_analysis": False},
    }
    # The lineage (36 MB on a 5,000-model project) goes out as it was encoded at load, a
    # megabyte at a time: no copy of it per request, and no long hold of the GIL.
    head = _encoder.encode(body)[:-1] + b',"lineage":'
    lineage = memoryview(review.lineage_json)

    async def chunks() -> AsyncIterator[bytes]:
        yield head
        for start in range(0, len(lineage), INFO_CHUNK_BYTES):
            yield bytes(lineage[start : start + INFO_CHUNK_BYTES])
        yield b"}"

    response = Response(chunks(), 200, mimetype="application/json")
    response.content_length = len(head) + len(lineage) + 1
    return response


async def select() -> Response:
    try:
        body = msgspec.json.decode(await request.get_data(), type=SelectRequest)
    except msgspec.DecodeError as exc:
        return json_response({"detail": f"invalid request body: {exc}"}, 400)
    review = _review()
    packages = body.packages
    if packages is None and review.project_name is not None:
        packages = [review.project_name]  # Recce's default: the root project's nodes only
    if body.view_mode not in (None, "all", "changed_models"):
        return json_response(
            {"detail": f"view_mode must be 'all' or 'changed_models', got {body.view_mode!r}"},
            400,
        )
    # In a worker thread: a selector not seen before can take tens of milliseconds on a big
    # project (its lookup tables are built on first use), and the event loop answers health
    # probes meanwhile. One at a time: the selector caches are shared.
    evaluate = partial(
        review.diff.select,
        select=body.select,
        exclude=body.exclude,
        packages=packages,
        view_mode=body.view_mode,
    )
    try:
        selected = await trio.to_thread.run_sync(evaluate, limiter=server_state().select_limiter)
    except SelectorError as exc:
        return json_response({"detail": str(exc)}, 400)
    nodes = sorted(uid for uid in selected if not uid.startswith(("test.", "unit_test.")))
    return json_response({"nodes": nodes})


async def model(model_id: str) -> Response:
    columns = _review().model_columns(model_id)
    if columns is None:
        return json_response({"detail": f"no node {model_id!r} in either environment"}, 404)
    return json_response({"model": columns})


def register(app: Quart) -> None:
    app.add_url_rule("/api/info", view_func=info, methods=["GET"])
    app.add_url_rule("/api/select", view_func=select, methods=["POST"])
    app.add_url_rule("/api/model/<path:model_id>", view_func=model, methods=["GET"])
    app.add_url_rule(
        "/api/models/<path:model_id>", view_func=model, methods=["GET"], endpoint="models"
    )
