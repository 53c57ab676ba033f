"""Runs: which types recce-trio can execute, the ones it computes from the artifacts
(``lineage_diff``, ``schema_diff``), their names, and the queries over past runs."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import Any

from recce_trio.core.checks import (
    SERVER_RUN_TYPES,
    WAREHOUSE_RUN_TYPES,
    ChecklistError,
    Run,
    to_builtins,
)
from recce_trio.core.diff import LineageDiff, compare_columns


class RunRequestError(ChecklistError):
    """A run that cannot be submitted (HTTP 400)."""


NOT_CONFIGURED = (
    "needs a warehouse connection, and none is configured. Point recce-trio at your dbt "
    "profiles.yml with --profiles-dir (or DBT_PROFILES_DIR, or a profiles.yml in the project "
    "folder or ~/.dbt), with --profile and --target if needed, and start it again. "
    "`recce-trio server --demo` shows every data diff on a bundled DuckDB."
)


def check_run_type(run_type: Any, *, warehouse: bool = False) -> str:
    """The run type if recce-trio can execute it (the warehouse types only when a warehouse is
    configured); else ``RunRequestError`` saying why not."""
    if run_type in SERVER_RUN_TYPES or (warehouse and run_type in WAREHOUSE_RUN_TYPES):
        return str(run_type)
    if run_type in WAREHOUSE_RUN_TYPES:
        raise RunRequestError(f"Run type '{run_type}' {NOT_CONFIGURED}")
    raise RunRequestError(f"Run type '{run_type}' not supported")


def check_params(run_type: str, params: dict[str, Any]) -> None:
    """``RunRequestError`` (HTTP 400) for params of a server-side run that have the wrong
    type: ``node_id`` is a unique id or a list of them; ``select``, ``exclude`` and
    ``view_mode`` are strings; ``packages`` a list of strings."""
    if run_type not in SERVER_RUN_TYPES:
        return
    node_id = params.get("node_id")
    if node_id is not None and not (isinstance(node_id, str) or _strings(node_id)):
        raise RunRequestError("node_id must be a node's unique_id or a list of them")
    for name in ("select", "exclude", "view_mode"):
        if params.get(name) is not None and not isinstance(params[name], str):
            raise RunRequestError(f"{name} must be a string, such as 'state:modified+'")
    if params.get("view_mode") not in (None, "all", "changed_models"):
        raise RunRequestError(
            f"view_mode must be 'all' or 'changed_models', got {params['view_mode']!r}"
        )
    packages = params.get("packages")
    if packages is not None and not _strings(packages):
        raise RunRequestError("packages must be a list of package names")


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def execute(run_type: str, params: dict[str, Any], lineage_diff: LineageDiff) -> Any:
    """Compute a server-side run's result. Pure and synchronous: call it in a worker thread."""
    check_params(run_type, params)
    if run_type == "lineage_diff":
        return lineage_diff_result(lineage_diff, params)
    if run_type == "schema_diff":
        return schema_diff_result(lineage_diff, params)
    raise RunRequestError(f"Run type '{run_type}' not supported")


def selected_nodes(lineage_diff: LineageDiff, params: dict[str, Any]) -> list[str]:
    """The lineage nodes a lineage or schema diff covers: ``node_id`` (one or a list), or else
    Recce's selector params (``select``, ``exclude``, ``packages``, ``view_mode``). As in
    Recce, ``packages`` defaults to the root project: installed packages' nodes only when
    named."""
    known = lineage_diff.base["nodes"].keys() | lineage_diff.current["nodes"].keys()
    node_id = params.get("node_id")
    if node_id is not None:
        ids = [node_id] if isinstance(node_id, str) else list(node_id)
        missing = [uid for uid in ids if uid not in known]
        if missing:
            raise RunRequestError(f"node_id '{missing[0]}' not found in dbt manifest")
        return ids
    graph = lineage_diff.graph
    chosen = graph.select(
        select=params.get("select"),
        exclude=params.get("exclude"),
        packages=graph.root_packages(params.get("packages")),
        view_mode=params.get("view_mode"),
    )
    return sorted(uid for uid in chosen if uid in known and not uid.startswith("test."))


def lineage_diff_result(lineage_diff: LineageDiff, params: dict[str, Any]) -> dict[str, Any]:
    """``{"nodes": [unique_id...], "diff": {unique_id: {change_status, change}}}`` for the
    selected nodes (the diff holds only the changed ones)."""
    nodes = selected_nodes(lineage_diff, params)
    return {
        "nodes": nodes,
        "diff": {uid: lineage_diff.diff[uid] for uid in nodes if uid in lineage_diff.diff},
    }


def _columns(node: dict[str, Any] | None) -> dict[str, str | None] | None:
    if node is None or "columns" not in node:
        return None
    return {name: col.get("type") for name, col in node["columns"].items()}


def schema_diff_result(lineage_diff: LineageDiff, params: dict[str, Any]) -> dict[str, Any]:
    """Per selected node: base and current columns (name -> type; None where the catalog has
    no entry) and which were added, removed or changed type."""
    base_nodes, current_nodes = lineage_diff.base["nodes"], lineage_diff.current["nodes"]
    nodes: dict[str, Any] = {}
    changed = 0
    for uid in selected_nodes(lineage_diff, params):
        base_node, current_node = base_nodes.get(uid), current_nodes.get(uid)
        node = current_node or base_node
        base, current = _columns(base_node), _columns(current_node)
        before, after = base or {}, current or {}
        changes = compare_columns(before, after)
        added = [name for name, kind in changes.items() if kind == "added"]
        removed = [name for name, kind in changes.items() if kind == "removed"]
        retyped = {
            name: {"base": before[name], "current": after[name]}
            for name, kind in changes.items()
            if kind == "modified"
        }
        if added or removed or retyped:
            changed += 1
        diff_entry = lineage_diff.diff.get(uid) or {}
        nodes[uid] = {
            "name": node["name"] if node else uid,
            "resource_type": node.get("resource_type") if node else None,
            "change_status": diff_entry.get("change_status"),
            "base": base,
            "current": current,
            "added": added,
            "removed": removed,
            "changed": retyped,
        }
    return {"nodes": nodes, "summary": {"nodes": len(nodes), "schema_changed": changed}}


def schema_unchanged(result: dict[str, Any]) -> bool:
    """Whether a schema diff found nothing added, removed or retyped (``recce run`` approves
    such a check)."""
    return bool(result.get("summary", {}).get("schema_changed") == 0)


# ---- names ----

_REF = re.compile(r"""\bref\(["']?(\w+)["']?\)\s*}}""")


def _ref_model(sql_template: Any) -> str | None:
    matches = _REF.findall(sql_template) if isinstance(sql_template, str) else []
    return matches[0] if len(matches) == 1 else None


def run_name(run: Run, node_name: Callable[[str], str | None]) -> str:
    """Recce's ``generate_run_name``, plus names for the runs only recce-trio executes."""
    params = run.params or {}
    kind = run.type
    if kind in ("query", "query_diff"):
        ref = _ref_model(params.get("sql_template"))
        label = kind.replace("_", " ")
        return f"{label} of {ref}".capitalize() if ref else f"{label.capitalize()} - {_when(run)}"
    if kind in ("value_diff", "value_diff_detail", "profile_diff"):
        return f"{kind.replace('_', ' ')} of {params.get('model')}".capitalize()
    if kind == "row_count_diff":
        names = params.get("node_names")
        if names and len(names) == 1:
            return f"row count diff of {names[0]}".capitalize()
        if names:
            return f"row count of {len(names)} nodes".capitalize()
        return "Row count of multiple nodes"
    if kind in ("top_k_diff", "histogram_diff"):
        label = "top-k diff" if kind == "top_k_diff" else "histogram diff"
        return f"{label} of {params.get('model')}.{params.get('column_name')} ".capitalize()
    if kind in ("schema_diff", "lineage_diff"):
        return check_name(kind, params, None, node_name, now=_when(run))
    return f"Run - {_when(run)}"


def check_name(
    kind: str,
    params: dict[str, Any] | None,
    view_options: dict[str, Any] | None,
    node_name: Callable[[str], str | None],
    *,
    now: str | None = None,
) -> str:
    """Recce's ``_generate_check_name`` for a check made without a run."""
    params = params or {}
    today = now or dt.datetime.now(dt.UTC).strftime("%d %b %Y")
    if kind == "schema_diff":
        node_id = params.get("node_id")
        if node_id:
            ids = node_id if isinstance(node_id, list) else [node_id]
            if not all(isinstance(uid, str) for uid in ids):
                raise RunRequestError("node_id must be a node's unique_id or a list of them")
            if len(ids) == 1:
                name = node_name(ids[0])
                if name is None:
                    raise RunRequestError(f"node_id '{ids[0]}' not found in dbt manifest")
                return f"schema diff of {name}".capitalize()
            return f"schema diff of {len(ids)} nodes".capitalize()
        return f"Schema diff - {today}"
    if kind == "lineage_diff":
        nodes = (view_options or {}).get("node_ids") if view_options else params.get("node_ids")
        if isinstance(nodes, list):
            return f"lineage diff of {len(nodes)} nodes".capitalize()
        return f"Lineage diff - {today}"
    return f"Check - {today}"


def _when(run: Run) -> str:
    # Recce prints dateutil's parse of run_at: "2026-01-01 00:00:00+00:00".
    try:
        return str(dt.datetime.fromisoformat(run.run_at))
    except ValueError:
        return run.run_at


# ---- queries over runs ----


def list_entry(run: Run) -> dict[str, Any]:
    """A run as ``GET /api/runs`` lists it (no result, no progress; its ``duration`` when
    known, recce-trio's addition)."""
    entry: dict[str, Any] = {
        "run_id": run.run_id,
        "run_at": run.run_at,
        "name": run.name,
        "type": run.type,
        "params": run.params,
        "status": run.status,
        "check_id": run.check_id,
        "error": run.error,
        "triggered_by": run.triggered_by,
    }
    if run.duration is not None:
        entry["duration"] = run.duration
    return entry


def newest_first(runs: Iterable[Run]) -> list[Run]:
    return sorted(runs, key=lambda r: r.run_at, reverse=True)


def search(
    runs: Iterable[Run], *, run_type: str, params: dict[str, Any], limit: int | None
) -> list[dict[str, Any]]:
    """Runs of ``run_type`` whose params match every given key; the last ``limit`` of them."""
    found = [
        to_builtins(r)
        for r in runs
        if r.type == run_type and all((r.params or {}).get(k) == v for k, v in params.items())
    ]
    return found[-limit:] if limit else found


def aggregate(
    runs: Iterable[Run], *, name_to_id: dict[str, str], nodes: list[str] | None
) -> dict[str, dict[str, Any]]:
    """Recce's ``materialize_run_results``: the latest row count (diff) result per node."""
    result: dict[str, dict[str, Any]] = {}
    wanted = set(nodes) if nodes else None
    for run in runs:
        if not run.result or run.type not in ("row_count_diff", "row_count"):
            continue
        if not isinstance(run.result, dict):
            continue
        by_model: dict[str, Any] = run.result
        for model_name, node_result in by_model.items():
            key = name_to_id.get(model_name, model_name)
            if wanted is not None and key not in wanted:
                continue
            result.setdefault(key, {})[run.type] = {"run_id": run.run_id, "result": node_result}
    return result
