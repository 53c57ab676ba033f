"""Lineage endpoints: /api/info, /api/select, /api/model(s)/{id}, served from precomputed data."""

from __future__ import annotations

import logging
import os
from functools import partial
from typing import Any, cast

import msgspec
import trio
from quart import Quart, Response, current_app, request
from quart_trio import QuartTrio

from recce_trio.core.checks import WAREHOUSE_RUN_TYPES
from recce_trio.core.review import Review
from recce_trio.core.state import RECCE_VERSION, SCHEMA_VERSION
from recce_trio.errors import RequestError
from recce_trio.server import gateway
from recce_trio.server.api._http import json_body, server_state
from recce_trio.server.compress import Representation
from recce_trio.server.http import json_response
from recce_trio.server.runtime import ServerState

log = logging.getLogger("recce_trio.server")


_encoder = msgspec.json.Encoder()
# The lineage forms of /api/info: the merged graph Recce's UI reads (default), the own page's
# lighter subset of it (``?lineage=page``), or both of Recce's forms with every node's columns
# and code (``?lineage=full``; tens of megabytes).
LINEAGE_FORMS = ("merged", "page", "full")


class SelectRequest(msgspec.Struct, forbid_unknown_fields=False):
    select: str | None = None
    exclude: str | None = None
    packages: list[str] | None = None
    view_mode: str | None = None


def _review() -> Review:
    review: Review = server_state().review
    return review


def _info_head(state: ServerState, review: Review) -> dict[str, Any]:
    session = state.session
    state_file = session.state_file
    return {
        "state_metadata": {
            "schema_version": SCHEMA_VERSION,
            "recce_version": RECCE_VERSION,
            "generated_at": review.built_at,
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
        "support_tasks": {
            **dict.fromkeys(sorted(WAREHOUSE_RUN_TYPES), state.warehouse.enabled),
            # Recce's UI counts a missing key as available: say no to the one run type
            # recce-trio does not have (Recce's DuckDB-only profile_distribution).
            "profile_distribution": False,
            "change_analysis": True,
        },
    }


async def _info_body(state: ServerState, form: str) -> Representation:
    # support_tasks says whether a profile is configured: known a moment after readiness
    # (profiles.yml is read then), and never guessed, so the body does not flip.
    await state.warehouse.resolved.wait()
    review = state.review
    return await state.info.get(review, _encoder.encode(_info_head(state, review)), form)


# The forms built and compressed ahead of any request: the own page's first (a page waiting
# for the server asks for it the moment it is ready), then Recce's.
AHEAD_FORMS = ("page", "merged")


async def build_info(state: ServerState) -> None:
    """Build the /api/info bodies of ``AHEAD_FORMS`` (off the loop): the first thing after
    ready, since a page's request is waiting. Never raises: a failure here only means a
    request does the work (and reports it)."""
    try:
        for form in AHEAD_FORMS:
            await _info_body(state, form)
    except Exception:
        log.exception("could not build /api/info")


async def prepare_info(state: ServerState) -> None:
    """Compress the /api/info bodies of ``AHEAD_FORMS`` at the kept level of every coding, and
    evaluate the page-load selections, in worker threads, so later requests find them ready.
    Never raises: a failure here only means a request does the work."""
    cache = state.info
    if cache.prepared is state.review:
        return
    cache.prepared = state.review
    try:
        representations = [await _info_body(state, form) for form in AHEAD_FORMS]
        async with trio.open_nursery() as nursery:
            for representation in representations:
                nursery.start_soon(representation.prepare)
            # The selections the lineage page asks for next (selector caches: one at a time).
            nursery.start_soon(partial(gateway.run, gateway.SELECTORS, state.review.warm))
    except Exception:
        log.exception("could not prepare /api/info and the page-load selections")


def _revalidate(response: Response) -> None:
    response.cache_control.no_cache = True  # may be stored, but asked about each time (ETag)


async def info() -> Response:
    form = request.args.get("lineage", "merged")
    if form not in LINEAGE_FORMS:
        raise RequestError(f"lineage must be one of {', '.join(LINEAGE_FORMS)}; got {form!r}")
    state = server_state()
    representation = await _info_body(state, form)
    cache = state.info
    if cache.prepared is not state.review and cache.answered.is_set():
        # A new review (the artifacts were reloaded): compress the other codings meanwhile.
        # (At startup the background does it, once this first answer has been sent.)
        cast(QuartTrio, current_app).nursery.start_soon(prepare_info, state)
    return await representation.respond(cache_control=_revalidate, sent=cache.answered.set)


async def select() -> Response:
    try:
        body = msgspec.convert(await json_body(), type=SelectRequest)
    except msgspec.ValidationError as exc:
        raise RequestError(f"invalid request body: {exc}") from None
    review = _review()
    if body.view_mode not in (None, "all", "changed_models"):
        raise RequestError(f"view_mode must be 'all' or 'changed_models', got {body.view_mode!r}")

    # In a worker thread: a selector not seen before can take tens of milliseconds on a big
    # project (its lookup tables are built on first use), and the event loop answers health
    # probes meanwhile. One at a time: the selector caches are shared.
    # (The selector graph itself is built on first use, ~0.1 s at 5,000 models: there too.)
    def evaluate() -> set[str]:
        graph = review.diff.graph
        return graph.select(
            select=body.select,
            exclude=body.exclude,
            packages=graph.root_packages(body.packages),
            view_mode=body.view_mode,
        )

    # SelectorError: 400
    selected = await gateway.run(gateway.SELECTORS, evaluate)
    # Only what the lineage shows: no tests, unit tests, or operation hooks.
    base, current = review.diff.base["nodes"], review.diff.current["nodes"]
    nodes = sorted(uid for uid in selected if uid in current or uid in base)
    return json_response({"nodes": nodes})


async def model(model_id: str) -> Response:
    # An id neither side knows is {"base": {}, "current": {}} with 200, as Recce answers.
    return json_response({"model": _review().model_details(model_id)})


def register(app: Quart) -> None:
    app.add_url_rule("/api/info", view_func=info, methods=["GET"])
    app.add_url_rule("/api/select", view_func=select, methods=["POST"])
    app.add_url_rule("/api/model/<path:model_id>", view_func=model, methods=["GET"])
    app.add_url_rule(
        "/api/models/<path:model_id>", view_func=model, methods=["GET"], endpoint="models"
    )
