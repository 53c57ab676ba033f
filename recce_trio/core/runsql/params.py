"""Checking a warehouse run's params and filling in Recce's defaults (before it runs)."""

from __future__ import annotations

from typing import Any

from recce_trio.core.runsql.histogram import check_column_type
from recce_trio.errors import RunParamsError

_VIEW_MODES = (None, "all", "changed_models")


def _str(params: dict[str, Any], key: str, *, required: bool) -> str | None:
    value = params.get(key)
    if value is None:
        if required:
            raise RunParamsError(f"The run's params need '{key}'.")
        return None
    if not isinstance(value, str):
        raise RunParamsError(f"Param '{key}' must be a string.")
    return value


def _str_list(params: dict[str, Any], key: str) -> list[str] | None:
    value = params.get(key)
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, list):
        raise RunParamsError(f"Param '{key}' must be a list of strings.")
    if not all(isinstance(v, str) for v in value):
        raise RunParamsError(f"Param '{key}' must be a list of strings.")
    return list(value)


def _int(params: dict[str, Any], key: str, default: int) -> int:
    value = params.get(key)
    if value is None or value == 0:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise RunParamsError(f"Param '{key}' must be a whole number.")
    if value < 0:
        raise RunParamsError(f"Param '{key}' must be positive.")
    return value


def normalise_params(run_type: str, params: dict[str, Any] | None) -> dict[str, Any]:
    """The params with Recce's defaults filled in and unknown keys dropped, as Recce writes
    them back into the run; ``RunParamsError`` (HTTP 400) if they are invalid."""
    p = dict(params or {})
    if run_type in ("query", "query_base"):
        return {"sql_template": _str(p, "sql_template", required=True)}
    if run_type == "query_diff":
        return {
            "sql_template": _str(p, "sql_template", required=True),
            "base_sql_template": _str(p, "base_sql_template", required=False),
            "primary_keys": _str_list(p, "primary_keys"),
            "current_model": _str(p, "current_model", required=False),
        }
    if run_type == "row_count":
        return {"node_names": _str_list(p, "node_names"), "node_ids": _str_list(p, "node_ids")}
    if run_type == "row_count_diff":
        view_mode = p.get("view_mode")
        if view_mode not in _VIEW_MODES:
            raise RunParamsError("Param 'view_mode' must be 'all' or 'changed_models'.")
        return {
            "node_names": _str_list(p, "node_names"),
            "node_ids": _str_list(p, "node_ids"),
            "select": _str(p, "select", required=False),
            "exclude": _str(p, "exclude", required=False),
            "packages": _str_list(p, "packages"),
            "view_mode": view_mode,
        }
    if run_type in ("profile", "profile_diff"):
        return {"model": _str(p, "model", required=True), "columns": _str_list(p, "columns")}
    if run_type in ("value_diff", "value_diff_detail"):
        pk = p.get("primary_key")
        if pk is None:
            raise RunParamsError("The run's params need 'primary_key'.")
        if not isinstance(pk, str) and _str_list(p, "primary_key") is None:
            raise RunParamsError("Param 'primary_key' must be a string or a list of strings.")
        return {
            "model": _str(p, "model", required=True),
            "primary_key": pk,
            "columns": _str_list(p, "columns"),
        }
    if run_type == "top_k_diff":
        return {
            "model": _str(p, "model", required=True),
            "column_name": _str(p, "column_name", required=True),
            "k": _int(p, "k", 10),
        }
    if run_type == "histogram_diff":
        column_type = _str(p, "column_type", required=True)
        assert column_type is not None
        check_column_type(column_type)
        return {
            "model": _str(p, "model", required=True),
            "column_name": _str(p, "column_name", required=True),
            "column_type": column_type,
            "num_bins": _int(p, "num_bins", 50),
        }
    raise RunParamsError(f"Run type '{run_type}' not supported")
