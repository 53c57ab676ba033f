"""Running one warehouse run type end to end: params in, Recce's result shape out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from recce_trio.core.checks import WAREHOUSE_RUN_TYPES
from recce_trio.core.runsql.params import normalise_params
from recce_trio.errors import RunParamsError
from recce_trio.warehouse.context import RunContext
from recce_trio.warehouse.run_diffs import (
    run_histogram_diff,
    run_top_k_diff,
    run_value_diff,
    run_value_diff_detail,
)
from recce_trio.warehouse.run_models import run_profile, run_row_count
from recce_trio.warehouse.run_query import run_query, run_query_diff


class RunOutput(NamedTuple):
    """A finished run: its result, and its params as Recce writes them back (defaults filled
    in, primary keys spelt as the columns are)."""

    result: Any
    params: dict[str, Any]


_TASKS: dict[str, Callable[[RunContext, dict[str, Any]], Any]] = {
    "query": lambda ctx, p: run_query(ctx, p, env_name="current"),
    "query_base": lambda ctx, p: run_query(ctx, p, env_name="base"),
    "query_diff": run_query_diff,
    "row_count": lambda ctx, p: run_row_count(ctx, p, diff=False),
    "row_count_diff": lambda ctx, p: run_row_count(ctx, p, diff=True),
    "profile": lambda ctx, p: run_profile(ctx, p, diff=False),
    "profile_diff": lambda ctx, p: run_profile(ctx, p, diff=True),
    "value_diff": run_value_diff,
    "value_diff_detail": run_value_diff_detail,
    "top_k_diff": run_top_k_diff,
    "histogram_diff": run_histogram_diff,
}
assert set(_TASKS) == set(WAREHOUSE_RUN_TYPES)


def execute_run(run_type: str, params: dict[str, Any] | None, ctx: RunContext) -> RunOutput:
    """Run ``run_type`` against the warehouse, blocking until it is done.

    Raises ``RunParamsError`` for bad params, ``TemplateError`` / ``MacroNotAvailableError``
    for a template that cannot render, ``ModelNotFoundError``, ``WarehouseError`` (the
    warehouse's message, naming the relation) and ``RunCancelledError`` once
    ``ctx.cancel`` is cancelled.
    """
    task = _TASKS.get(run_type)
    if task is None:
        raise RunParamsError(f"Run type '{run_type}' not supported")
    normalised = normalise_params(run_type, params)
    ctx.cancel.check()
    result = task(ctx, normalised)
    ctx.cancel.check()
    return RunOutput(result, normalised)
