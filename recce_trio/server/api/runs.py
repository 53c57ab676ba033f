"""The run endpoints: submit, list, wait, cancel, search, aggregate, export (Recce's run_api).

recce-trio computes lineage_diff and schema_diff from the artifacts, and the warehouse types
(query, row counts, profiles, value, top-k and histogram diffs) in the warehouse of the dbt
profile (``server/warehouse_runs.py``); without a profile those are refused with 400. Each run
is a task in the server's nursery with its own cancel scope.
"""

from __future__ import annotations

import logging
from typing import Any, cast

import trio
from quart import Quart, Response, current_app, request
from quart_trio import QuartTrio

from recce_trio.core import runs
from recce_trio.core.checks import (
    CANCELLED,
    FAILED,
    FINISHED,
    RUNNING,
    WAREHOUSE_RUN_TYPES,
    Run,
    to_builtins,
)
from recce_trio.core.runsql import export as export_rules
from recce_trio.core.runsql.params import normalise_params
from recce_trio.errors import (
    InvalidRequestError,
    NotFoundError,
    RecceTrioError,
    RequestError,
    RunCancelledError,
)
from recce_trio.server import gateway
from recce_trio.server.api._http import (
    field,
    json_body,
    path_uuid,
    server_state,
    session,
)
from recce_trio.server.export import export_response
from recce_trio.server.http import json_response
from recce_trio.server.runtime import ServerState
from recce_trio.server.session import ReviewSession, RunningTask
from recce_trio.server.warehouse import NONE
from recce_trio.server.warehouse_runs import execute_warehouse_run
from recce_trio.warehouse.engine import CancelToken

log = logging.getLogger("recce_trio.core.runs")

# GET /api/runs/{id}/wait holds a request at most this long (Recce waits forever without a
# timeout, which ties up a connection for as long as a run lasts; the UI asks for 2 s anyway).
WAIT_CAP_S = 60.0


async def submit(
    run_type: Any, params: dict[str, Any], check_id: str | None
) -> tuple[Run, RunningTask]:
    """Start a run: it is listed at once as Running and computed in a worker thread."""
    state = server_state()
    warehouse = False
    if run_type in WAREHOUSE_RUN_TYPES:
        await state.warehouse.resolved.wait()  # reading profiles.yml: a moment at most
        warehouse = state.warehouse.state != NONE
    kind = runs.check_run_type(run_type, warehouse=warehouse)  # RunRequestError: 400
    runs.check_params(kind, params)
    if warehouse:
        normalise_params(kind, params)  # RunParamsError: 400 before anything runs
    review = session()
    await review.lookups_ready()
    lineage_diff = state.review.diff
    run = Run(type=kind, params=params, check_id=check_id, status=RUNNING, triggered_by="user")
    run.name = runs.run_name(run, review.node_name)
    review.checklist.runs.append(run)
    task = RunningTask(token=CancelToken() if warehouse else None)
    review.running[run.run_id] = task
    nursery = cast(QuartTrio, current_app).nursery
    nursery.start_soon(_execute, state, review, run, task, lineage_diff, trio.current_time())
    return run, task


async def _execute(
    state: ServerState,
    review: ReviewSession,
    run: Run,
    task: RunningTask,
    lineage_diff: Any,
    submitted: float,
) -> None:
    try:
        with task.scope:
            if task.token is not None:
                output = await execute_warehouse_run(state, run, task.token)
                run.result, run.params = output.result, output.params
            else:
                run.result = await gateway.run(
                    gateway.RUNS, runs.execute, run.type, run.params or {}, lineage_diff
                )
            run.status = FINISHED
        if task.scope.cancelled_caught:
            run.error = "Cancelled"
    except RunCancelledError:
        run.status, run.error = CANCELLED, "Cancelled"
    except Exception as exc:
        if not isinstance(exc, RecceTrioError):
            log.exception("run %s (%s) failed", run.run_id, run.type)
        run.error = str(exc) or repr(exc)
        if run.status != CANCELLED:
            run.status = FAILED
    finally:
        run.progress = None
        run.duration = round(trio.current_time() - submitted, 3)
        review.running.pop(run.run_id, None)
        task.done.set()


async def submit_and_answer(
    run_type: Any, params: dict[str, Any], check_id: str | None, *, nowait: bool
) -> Response:
    """201 with the run: at once with ``nowait``, else once it has ended."""
    run, task = await submit(run_type, params, check_id)
    if not nowait:
        await task.done.wait()
    return json_response(to_builtins(run), 201)


async def create_run() -> Response:
    body = await json_body()
    run_type = field(body, "type", str, required=True)
    params = field(body, "params", dict, required=True)
    check_id = field(body, "check_id", str)
    nowait = bool(field(body, "nowait", bool))
    return await submit_and_answer(run_type, params, check_id, nowait=nowait)


async def list_runs() -> Response:
    review = session()
    return json_response([runs.list_entry(r) for r in runs.newest_first(review.checklist.runs)])


def _find(review: ReviewSession, run_id: str) -> Run:
    canonical = path_uuid(run_id, "run_id")
    run = review.checklist.run(canonical)
    if run is None:
        raise NotFoundError(f"Run ID '{canonical}' not found")
    return run


async def wait_run(run_id: str) -> Response:
    review = session()
    run = _find(review, run_id)
    raw = request.args.get("timeout")
    try:
        timeout = WAIT_CAP_S if raw is None else min(float(int(raw)), WAIT_CAP_S)
    except ValueError:
        raise InvalidRequestError(
            ["query", "timeout"], "Input should be a valid integer", "int_parsing"
        ) from None
    task = review.running.get(run.run_id)
    if task is not None:
        with trio.move_on_after(max(timeout, 0.0)):
            await task.done.wait()
    return json_response(to_builtins(run))


async def cancel_run(run_id: str) -> Response:
    review = session()
    run = review.checklist.run(path_uuid(run_id, "run_id"))
    if run is None:
        return json_response(None)  # Recce answers an unknown run with 200 null too
    task = review.running.get(run.run_id)
    if task is not None and run.status == RUNNING:
        run.status = CANCELLED  # at once, whatever the computation is doing
        task.cancel()  # the scope, and a warehouse statement on the connection
    return json_response(None)


async def search_runs() -> Response:
    body = await json_body()
    run_type = field(body, "type", str, required=True)
    params = field(body, "params", dict, required=True)
    limit = field(body, "limit", int)
    review = session()
    return json_response(
        runs.search(review.checklist.runs, run_type=run_type, params=params, limit=limit)
    )


async def aggregate_runs() -> Response:
    body = await json_body(required=False)
    filter_ = body.get("filter") or {}
    nodes = filter_.get("nodes") if isinstance(filter_, dict) else None
    if nodes is not None and not (
        isinstance(nodes, list) and all(isinstance(node, str) for node in nodes)
    ):
        # Recce answers 405 when the aggregation fails, as it does on such a filter.
        raise RequestError("filter.nodes must be a list of node ids or names", status=405)
    review = session()
    await review.lookups_ready()
    result = runs.aggregate(review.checklist.runs, name_to_id=review.name_to_id(), nodes=nodes)
    return json_response(result)


async def export_run(run_id: str) -> Response:
    """The rows of a query, query_base or query_diff run as a CSV, TSV or xlsx file, its SQL
    run again in the warehouse (``server/export.py``)."""
    review = session()
    canonical = path_uuid(run_id, "run_id")
    fmt = export_rules.check_format(request.args.get("format"))
    run = _find(review, canonical)
    export_rules.check_exportable(run.type, run.params or {}, run.result, fmt)
    return await export_response(server_state(), run, fmt, head=request.method == "HEAD")


def register(app: Quart) -> None:
    app.add_url_rule("/api/runs", view_func=create_run, methods=["POST"])
    app.add_url_rule("/api/runs", view_func=list_runs, methods=["GET"])
    app.add_url_rule("/api/runs/search", view_func=search_runs, methods=["POST"])
    app.add_url_rule("/api/runs/aggregate", view_func=aggregate_runs, methods=["POST"])
    app.add_url_rule("/api/runs/<run_id>/wait", view_func=wait_run, methods=["GET"])
    app.add_url_rule("/api/runs/<run_id>/cancel", view_func=cancel_run, methods=["POST"])
    app.add_url_rule("/api/runs/<run_id>/export", view_func=export_run, methods=["GET"])
