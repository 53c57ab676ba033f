"""row_count, row_count_diff, profile and profile_diff: per-model statistics."""

from __future__ import annotations

from typing import Any

from recce_trio.core.runresults.frames import dataframe
from recce_trio.core.runsql import partitions, queries
from recce_trio.core.runsql.queries import column_class
from recce_trio.core.runsql.relations import Relation, RelationResolver
from recce_trio.errors import RunParamsError, TemplateError, WarehouseError
from recce_trio.warehouse.context import RunContext

_COUNTABLE_TYPES = ("model", "snapshot")
# Models whose row counts one statement takes (both sides of each for a diff).
COUNT_CHUNK = 25
_COUNTABLE_MATERIALIZATIONS = (None, "table", "view", "incremental", "snapshot")
_SELECTABLE_PREFIXES = ("model.", "snapshot.", "seed.")
_DENIED = ("NOT AUTHORIZED", "PERMISSION DENIED", "ACCESS DENIED", "INSUFFICIENT PRIVILEGES")
_NOT_FOUND = (
    "DOES NOT EXIST",
    "42S02",
    "42P01",
    "TABLE OR VIEW NOT FOUND",
    "OBJECT DOES NOT EXIST",
    "INVALID OBJECT NAME",
    "NOT FOUND",
)
PROFILE_COLUMNS = (
    ("column_name", "text"),
    ("data_type", "text"),
    ("row_count", "integer"),
    ("not_null_proportion", "float"),
    ("distinct_proportion", "float"),
    ("distinct_count", "integer"),
    ("is_unique", "boolean"),
    ("min", "text"),
    ("max", "text"),
    ("avg", "float"),
    ("median", "float"),
)


def node_names(ctx: RunContext, params: dict[str, Any]) -> list[str]:
    """The model names a row count covers: the given ids and names, or dbt's selection."""
    given: list[str] = []
    if params.get("node_ids") or params.get("node_names"):
        ids = params.get("node_ids") or []
        given = params.get("node_names") or []
    else:
        if ctx.select_nodes is None:
            raise RunParamsError("A row count needs node_names or node_ids here.")
        ids = sorted(u for u in ctx.select_nodes(params) if u.startswith(_SELECTABLE_PREFIXES))
    names: list[str] = []
    for uid in ids:
        node = ctx.current.nodes.get(uid) or ctx.base.nodes.get(uid)
        if node is not None:
            names.append(node.name)
    return list(dict.fromkeys([*names, *given]))


def _target(ctx: RunContext, name: str, env_name: str) -> tuple[Relation | None, dict[str, Any]]:
    """The relation to count, or None and the meta that says why not (no statement runs)."""
    resolver: RelationResolver = ctx.resolver(env_name)
    node = resolver.find_model(name)
    if node is None:
        message = f"Model '{name}' not found in {env_name} manifest"
        return None, {"status": "not_in_manifest", "message": message}
    if node.resource_type not in _COUNTABLE_TYPES:
        message = f"Resource type '{node.resource_type}' does not support row counts"
        return None, {"status": "unsupported_resource_type", "message": message}
    materialized = node.config.get("materialized") if node.config else None
    if materialized not in _COUNTABLE_MATERIALIZATIONS:
        message = f"Materialization '{materialized}' does not support row counts"
        return None, {"status": "unsupported_materialization", "message": message}
    try:
        return resolver.relation(node), {}
    except TemplateError as e:
        return None, {"status": "unsupported_materialization", "message": e.message}


def _count(ctx: RunContext, name: str, env_name: str) -> tuple[int | None, dict[str, Any]]:
    """One model's row count on one side, in a statement of its own."""
    relation, meta = _target(ctx, name, env_name)
    if relation is None:
        return None, meta
    try:
        rows = ctx.execute(queries.row_count(ctx.dialect, relation.sql), limit=1).rows
    except WarehouseError as e:
        text = e.message.upper()
        if any(m in text for m in _DENIED):
            message = f"Permission denied on {relation.sql}: {e.message}"
            return None, {"status": "permission_denied", "message": message}
        if any(m in text for m in _NOT_FOUND):
            message = (
                f"Table {relation.sql} not found in the {env_name} environment; "
                "the artifacts may be stale (rebuild them with dbt)."
            )
            return None, {"status": "table_not_found", "message": message}
        raise WarehouseError(
            f"Row count of {relation.sql} ({name}) failed: {e.message}", relation=relation.sql
        ) from None
    value = rows[0][0] if rows else None
    return int(value or 0), {"status": "ok"}


Counted = dict[tuple[str, str], tuple[int | None, dict[str, Any]]]


def _count_chunk(ctx: RunContext, names: list[str], sides: tuple[str, ...]) -> Counted | None:
    """Every side of every model in ``names`` counted in one statement (a UNION ALL): a
    statement per model costs far more than the count itself, above all through dbt. None if
    the statement fails (a table missing on one side, a permission...): the models are then
    counted one statement each, so that each failure is reported on its own model."""
    counted: Counted = {}
    targets: dict[tuple[str, str], Relation] = {}
    for name in names:
        for side in sides:
            relation, meta = _target(ctx, name, side)
            if relation is None:
                counted[name, side] = (None, meta)
            else:
                targets[name, side] = relation
    if not targets:
        return counted
    keys = list(targets)
    sql = queries.row_counts(ctx.dialect, [targets[k].sql for k in keys])
    try:
        rows = ctx.execute(sql).rows
    except WarehouseError:
        return None
    for part, value in rows:
        counted[keys[int(part)]] = (int(value or 0), {"status": "ok"})
    return counted if len(counted) == len(names) * len(sides) else None


def run_row_count(ctx: RunContext, params: dict[str, Any], *, diff: bool) -> dict[str, Any]:
    names = node_names(ctx, params)
    sides = ("base", "current") if diff else ("current",)
    label = "Diff" if diff else "Query"
    result: dict[str, Any] = {}
    for start in range(0, len(names), COUNT_CHUNK):
        chunk = names[start : start + COUNT_CHUNK]
        ctx.progress(f"{label}: {chunk[0]} [{start + 1}/{len(names)}]", start / len(names))
        counted = _count_chunk(ctx, chunk, sides)
        for i, name in enumerate(chunk, start):
            if i > start:
                ctx.cancel.check()
                ctx.progress(f"{label}: {name} [{i + 1}/{len(names)}]", i / len(names))
            if counted is None:
                side_counts = {side: _count(ctx, name, side) for side in sides}
            else:
                side_counts = {side: counted[name, side] for side in sides}
            curr, curr_meta = side_counts["current"]
            if diff:
                base, base_meta = side_counts["base"]
                result[name] = {
                    "base": base,
                    "curr": curr,
                    "base_meta": base_meta,
                    "curr_meta": curr_meta,
                }
            else:
                result[name] = {"curr": curr, "curr_meta": curr_meta}
    return result


def _profile_values(
    ctx: RunContext, relation: Relation, columns: list[tuple[str, str]]
) -> list[Any]:
    """The profile statement's row (row count, then 6 values per column). On DuckDB, which
    runs in the server's process, a big table is profiled a few columns per statement, so
    the distinct counts and medians of only those columns are held at once, and the
    statements run where the engine bounds their memory (its diff instance). Above
    ``APART_ROWS`` rows even one column's would not fit there: the other statistics go
    ``partitions.GROUP_COLUMNS`` columns per statement, and each column's distinct count and
    median get a statement of their own that spills (``queries.distinct_count``,
    ``queries.middle_median``); those are small statements (``ctx.small_statements``)."""
    d = ctx.dialect
    per, rows = len(columns), 0
    if d.name == "duckdb" and len(columns) > 1:
        count = ctx.execute(queries.row_count(d, relation.sql), limit=1, relation=relation)
        rows = int(count.rows[0][0] or 0)
        per = max(
            1,
            min(len(columns), partitions.GROUP_COLUMNS, partitions.CELLS_PER_RANGE // max(1, rows)),
        )
    apart = d.name == "duckdb" and rows > APART_ROWS
    if apart:
        per = partitions.GROUP_COLUMNS
    values: list[Any] = []
    # Apart, every statement reads at most a group of columns, or one: small ones (12 MB).
    with ctx.small_statements(apart), ctx.bounded_scope():
        for start in range(0, len(columns), per):
            sql = queries.profile(d, relation.sql, columns[start : start + per], apart=apart)
            row = ctx.execute(sql, limit=1, relation=relation, bounded=True).rows[0]
            values = [row[0], *values[1:], *row[1:]] if values else list(row)
        if apart:
            for i, (name, db_type) in enumerate(columns):
                _apart(ctx, relation, name, column_class(db_type), values, 1 + 6 * i)
    return values


# Rows above which a DuckDB profile computes distinct counts and medians apart.
APART_ROWS = 250_000


def _apart(
    ctx: RunContext, relation: Relation, name: str, kind: str, values: list[Any], at: int
) -> None:
    """A column's distinct count and median (numeric) into ``values`` (its six start at
    ``at``), each from a statement of its own."""
    d = ctx.dialect

    def one(sql: str) -> Any:
        return ctx.execute(sql, limit=1, relation=relation, bounded=True).rows[0][0]

    if kind != "complex":
        values[at + 1] = one(queries.distinct_count(d, relation.sql, name))
    count = int(values[at] or 0)
    if kind == "numeric" and count:
        values[at + 5] = one(queries.middle_median(d, relation.sql, name, count))


def _profile_side(
    ctx: RunContext, model: str, env_name: str, wanted: list[str] | None
) -> dict[str, Any]:
    relation = ctx.model(model, env_name)
    columns = ctx.columns(relation)
    if wanted is not None:
        keep = {c.lower() for c in wanted}
        columns = [(n, t) for n, t in columns if n.lower() in keep]
    label = "[Base]" if env_name == "base" else "[Current]"
    ctx.progress(f"{label} Profile columns of {model}", None)
    rows: list[list[Any]] = []
    if columns:
        values = _profile_values(ctx, relation, columns)
        total = int(values[0] or 0)
        for i, (name, db_type) in enumerate(columns):
            n, d, lo, hi, avg, median = values[1 + 6 * i : 7 + 6 * i]
            rows.append(
                [
                    name,
                    db_type or None,
                    total,
                    (int(n) / total) if total else None,
                    (int(d) / total) if total and d is not None else None,
                    int(d) if d is not None else None,
                    None if not total or d is None else int(d) == total,
                    lo,
                    hi,
                    avg,
                    median,
                ]
            )
    names = [c for c, _ in PROFILE_COLUMNS]
    types = [t for _, t in PROFILE_COLUMNS]
    return dataframe(names, rows, types=types)


def run_profile(ctx: RunContext, params: dict[str, Any], *, diff: bool) -> dict[str, Any]:
    model, wanted = params["model"], params.get("columns")
    if not diff:
        return {"current": _profile_side(ctx, model, "current", wanted)}
    # Fail before any statement if either side lacks it: base first, as Recce reports.
    ctx.model(model, "base")
    ctx.model(model, "current")
    base = _profile_side(ctx, model, "base", wanted)
    return {"base": base, "current": _profile_side(ctx, model, "current", wanted)}
