"""One warehouse run, executed: ``execute_run`` in a worker thread of the gateway, under the
warehouse's limiter (sized by the profile's ``threads``), with a cancel token that interrupts
the statement on the connection, and progress handed back to the event loop."""

from __future__ import annotations

import contextlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

import trio

from recce_trio.core.checks import Run
from recce_trio.server import gateway
from recce_trio.server.cll_work import fast_switching
from recce_trio.server.runtime import ServerState
from recce_trio.warehouse.engine import CancelToken

if TYPE_CHECKING:
    from recce_trio.warehouse.runner import RunOutput


def progress_setter(run: Run) -> Any:
    """A progress callback for worker threads: each report is handed to the event loop
    (``run_sync_soon``: thread-safe, never blocks the worker), which sets ``run.progress``."""
    token = trio.lowlevel.current_trio_token()

    def apply(message: str, percentage: float | None) -> None:
        if run.status == "Running":
            run.progress = {"message": message, "percentage": percentage}

    def report(message: str, percentage: float | None) -> None:
        with contextlib.suppress(trio.RunFinishedError):
            token.run_sync_soon(apply, message, percentage)

    return report


def _run_layer() -> tuple[ModuleType, ModuleType]:
    """The run layer, imported on the first run in a worker thread (sqlglot, off startup)."""
    from recce_trio.warehouse import configured, runner

    return configured, runner


async def execute_warehouse_run(state: ServerState, run: Run, token: CancelToken) -> RunOutput:
    """Run ``run`` in the warehouse; raises what ``execute_run`` raises, or
    ``WarehouseConnectError`` when the connection failed. A cancellation (the run's scope or
    shutdown) cancels ``token`` too, so the statement is interrupted, not left running."""
    configured, runner = await gateway.run(gateway.FILES, _run_layer)
    engine, limiter = await state.warehouse.ready_engine()
    review = state.review
    ctx = configured.run_context(
        review.artifacts,
        review.diff,
        engine,
        state.warehouse.target,
        cancel=token,
        progress=progress_setter(run),
        sources=state.session.sources,
    )
    # The keyed diffs' rows are kept as the JSON text the API sends (msgspec.Raw): a wide
    # diff's 2,000 rows are some 4 MB so, against 25 MB as Python values.
    ctx.packed_frames = True
    done = False
    try:
        # A driver's Python (dbt's above all) and its short C calls run in the worker thread
        # meanwhile: the lowered switch interval gives the event loop the interpreter sooner.
        with fast_switching():
            output: RunOutput = await gateway.run_limited(
                limiter,
                runner.execute_run,
                run.type,
                dict(run.params or {}),
                ctx,
                abandon_on_cancel=True,
                thread_name=f"recce-trio run {run.type}",
            )
        done = True
        return output
    finally:
        if not done:
            token.cancel()  # a cancellation or an error: nothing keeps running in the warehouse
