"""value_diff, value_diff_detail, top_k_diff and histogram_diff: one model, both sides."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal
from typing import Any

from recce_trio.core.runresults.builder import RowSink
from recce_trio.core.runresults.frames import dataframe, serialise, stamp_types
from recce_trio.core.runsql import histogram, keyed, partitions, queries
from recce_trio.core.runsql.relations import Relation
from recce_trio.errors import RunParamsError, WarehouseError
from recce_trio.warehouse import keyed_wide, ranges
from recce_trio.warehouse.context import RunContext
from recce_trio.warehouse.run_query import limited_frame


def _lookup(columns: list[tuple[str, str]], name: str, relation: Relation) -> str:
    names = [c for c, _ in columns]
    if name in names:
        return name
    by_lower = {c.lower(): c for c in names}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    raise WarehouseError(
        f"Column '{name}' not found in {relation.sql} ({relation.name}).", relation=relation.sql
    )


def _keyed_sides(
    ctx: RunContext,
    params: dict[str, Any],
    *,
    ordered: bool = False,
    grouped: bool = False,
    small: contextlib.ExitStack | None = None,
) -> tuple[Any, ...]:
    """Both relations, the key and compared columns spelt per side, and the key check
    (``ordered``: for a row-limited diff, which takes smaller ranges; ``grouped``: a diff
    that compares a group of columns per statement, see ``ranges.split``; ``small``: for a
    wide table, its statements from here on are small ones, until ``small`` closes)."""
    pk = params["primary_key"]
    keys = [pk] if isinstance(pk, str) else list(pk)
    if not keys:
        raise RunParamsError("Primary key cannot be empty")
    model = params["model"]
    base_rel, curr_rel = ctx.model(model, "base"), ctx.model(model, "current")
    base_cols, curr_cols = ctx.columns(base_rel), ctx.columns(curr_rel)
    if params.get("columns"):
        wanted = list(params["columns"])
    else:
        current_lower = {c.lower() for c, _ in curr_cols}
        wanted = [c for c, _ in base_cols if c.lower() in current_lower]
    base_keys = [_lookup(base_cols, k, base_rel) for k in keys]
    curr_keys = [_lookup(curr_cols, k, curr_rel) for k in keys]
    key_lower = {k.lower() for k in base_keys}
    wanted = base_keys + [c for c in wanted if c.lower() not in key_lower]
    base_names = [_lookup(base_cols, c, base_rel) for c in wanted]
    curr_names = [_lookup(curr_cols, c, curr_rel) for c in wanted]
    # Each compared column's type on both sides (they decide how the sides can be joined).
    types = ([dict(base_cols)[c] for c in base_names], [dict(curr_cols)[c] for c in curr_names])
    if small is not None:
        small.enter_context(ctx.small_statements(keyed_wide.wide(len(base_names))))
    split = ranges.split(
        ctx,
        (f"SELECT * FROM {base_rel.sql}", base_keys[0]),
        (f"SELECT * FROM {curr_rel.sql}", curr_keys[0]),
        len(base_names),
        relation=base_rel,
        ordered=ordered,
        grouped=grouped and keyed_wide.wide(len(base_names)),
    )
    parts = ranges.parts(ctx, split, base_keys[0], curr_keys[0])
    ctx.progress(f"Verify primary key: {', '.join(base_keys)}", None)

    def dups(base_condition: str | None, current_condition: str | None) -> str:
        a = ranges.restrict(f"SELECT * FROM {base_rel.sql}", base_condition)
        b = ranges.restrict(f"SELECT * FROM {curr_rel.sql}", current_condition)
        return keyed.duplicated_keys(ctx.dialect, a, b, base_keys, curr_keys)

    # Both sides' duplicated key values in one statement (per range), base reported first.
    counts = ranges.summed(ctx, parts, dups, relation=curr_rel)
    for (relation, names), invalids in zip(
        ((base_rel, base_keys), (curr_rel, curr_keys)), counts, strict=True
    ):
        if invalids:
            label = ", ".join(names)
            sql = queries.duplicate_keys(ctx.dialect, relation.sql, names)
            raise WarehouseError(
                f'Invalid primary key: "{label}". The column should be unique '
                f"({invalids} duplicated value(s) in {relation.sql}). "
                f"Please check by this sql: '{sql}'",
                relation=relation.sql,
            )
    return base_rel, curr_rel, base_keys, curr_keys, base_names, curr_names, types, parts


def run_value_diff(ctx: RunContext, params: dict[str, Any]) -> dict[str, Any]:
    """Per column, how many rows match between base and current (joined on the key)."""
    sides = _keyed_sides(ctx, params, grouped=True)
    base_rel, curr_rel, base_keys, curr_keys, base_names, curr_names, types, parts = sides
    ctx.progress(f"Diff columns: {', '.join(base_names)}", None)
    nkeys = len(base_keys)
    # A split diff compares a group of columns per statement (a scan pins blocks of each
    # column it reads): the counts of rows come from the first, the mismatches from each.
    groups = (
        partitions.groups(len(base_names)) if ranges.is_split(parts) else [range(len(base_names))]
    )

    def statement(base_condition: str | None, current_condition: str | None) -> list[str]:
        a = ranges.restrict_relation(base_rel.sql, base_condition)
        b = ranges.restrict_relation(curr_rel.sql, current_condition)
        return [
            queries.value_diff(
                ctx.dialect,
                (a, base_keys, base_names[g.start : g.stop]),
                (b, curr_keys, curr_names[g.start : g.stop]),
                raw_keys=types[0][:nkeys] == types[1][:nkeys],  # else joined as text
                first=g.start,
            )
            for g in groups
        ]

    def combine(rows: list[tuple[Any, ...]]) -> list[Any]:
        return [*rows[0][:4], *(v for row in rows for v in row[4:])]

    row = ranges.summed(ctx, parts, statement, relation=curr_rel, combine=combine)
    total, added, removed, common = row[:4]
    data = []
    for name, mismatched in zip(base_names, row[4:], strict=True):
        matched = common - int(mismatched or 0)
        data.append([name, matched, (matched / common) if common else None])
    frame = dataframe(["column", "matched", "matched_p"], data, types=["text", "number", "number"])
    return {"summary": {"total": total, "added": added, "removed": removed}, "data": frame}


def run_value_diff_detail(ctx: RunContext, params: dict[str, Any]) -> dict[str, Any]:
    """The rows that differ (base version first), keyed, computed in the warehouse."""
    with contextlib.ExitStack() as small:
        return _value_diff_detail(
            ctx, params, _keyed_sides(ctx, params, ordered=True, grouped=True, small=small)
        )


def _value_diff_detail(
    ctx: RunContext, params: dict[str, Any], sides: tuple[Any, ...]
) -> dict[str, Any]:
    base_rel, curr_rel, base_keys, _, base_names, curr_names, types, parts = sides
    d = ctx.dialect
    limit = queries.DETAIL_LIMIT
    base_sql = queries.select_columns(d, base_rel.sql, base_names)
    curr_sql = queries.select_columns(d, curr_rel.sql, curr_names)

    def fill(sink: RowSink) -> None:
        # The key was checked unique on both sides.
        if not keyed.joinable(d, base_names, curr_names, types=types):
            sql = queries.keyed_diff(d, base_sql, curr_sql, base_keys, limit + 1)
            result = ctx.execute(sql, limit=limit + 1, relation=curr_rel)
            sink.add_rows(result.columns, result.rows)
            return
        positions = range(len(base_keys))
        bounded = ranges.is_split(parts)
        # A wide split diff goes a group of columns at a time (keyed_wide.py).
        key_types = keyed_wide.exact_key_types(
            ctx, base_sql, base_keys, len(base_names), bounded=bounded
        )

        def statement(
            base_condition: str | None, current_condition: str | None, n: int
        ) -> str | int:
            a = ranges.restrict(base_sql, base_condition)
            b = ranges.restrict(curr_sql, current_condition)
            if key_types is not None:
                sides = (a, base_names), (b, curr_names)
                return keyed_wide.diff(ctx, *sides, positions, key_types, n, sink, bounded=bounded)
            return keyed.joined_diff(d, (a, base_names), (b, curr_names), positions, n)

        ranges.ordered(ctx, parts, statement, limit + 1, sink)

    frame = limited_frame(ctx, limit, fill)
    return stamp_types(frame, dict(ctx.stamp(params["model"])))


def _both(ctx: RunContext, model: str) -> tuple[Relation, Relation]:
    message = f"Model '{model}' not found in the manifest"
    return ctx.model(model, "base", message=message), ctx.model(model, "current", message=message)


def _column(ctx: RunContext, relation: Relation, name: str) -> tuple[str, str]:
    columns = ctx.columns(relation)
    actual = _lookup(columns, name, relation)
    return actual, dict(columns)[actual]


def run_top_k_diff(ctx: RunContext, params: dict[str, Any]) -> dict[str, Any]:
    """The k most frequent values of a column in current, with their counts on both sides."""
    base_rel, curr_rel = _both(ctx, params["model"])
    column, _ = _column(ctx, curr_rel, params["column_name"])
    k = int(params.get("k") or 10)
    d = ctx.dialect
    rows = ctx.execute(
        queries.top_k(d, base_rel.sql, curr_rel.sql, column, k), relation=curr_rel
    ).rows
    counts = ctx.execute(queries.valid_counts(d, base_rel.sql, curr_rel.sql, column)).rows
    (_, base_total, base_valids), (_, curr_total, curr_valids) = counts
    values = [None if r[0] == "__null__" else r[0] for r in rows]
    return {
        "base": {
            "values": values,
            "counts": [int(r[1]) for r in rows],
            "valids": int(base_valids),
            "total": int(base_total),
        },
        "current": {
            "values": list(values),
            "counts": [int(r[2]) for r in rows],
            "valids": int(curr_valids),
            "total": int(curr_total),
        },
    }


def _display(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal | float):
        number = float(value)
        return int(number) if number.is_integer() and isinstance(value, Decimal) else number
    if isinstance(value, dt.datetime):
        return serialise(value, "datetime")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def run_histogram_diff(ctx: RunContext, params: dict[str, Any]) -> dict[str, Any]:
    """Both sides' distributions of a numeric or date column over the same bins."""
    base_rel, curr_rel = _both(ctx, params["model"])
    column, db_type = _column(ctx, curr_rel, params["column_name"])
    column_type = params.get("column_type") or db_type
    d = ctx.dialect
    sides = [(base_rel, "base"), (curr_rel, "current")]
    stats = {}
    for relation, env_name in sides:
        lo, hi, valids = ctx.execute(
            queries.min_max(d, relation.sql, column), limit=1, relation=relation
        ).rows[0]
        stats[env_name] = (lo, hi, int(valids or 0))
    lows = [s[0] for s in stats.values() if s[0] is not None]
    highs = [s[1] for s in stats.values() if s[1] is not None]
    result: dict[str, Any] = {}
    if not lows:
        for _, env_name in sides:
            result[env_name] = {"counts": [], "total": stats[env_name][2]}
        result.update({"min": None, "max": None, "bin_edges": [], "labels": []})
        return result
    lo, hi = min(lows), max(highs)
    if histogram.is_date_type(column_type) or isinstance(lo, dt.date):
        unit, date_edges = histogram.date_edges(lo, hi)
        is_date = not isinstance(lo, dt.datetime)
        for relation, env_name in sides:
            sql = queries.date_bins(d, relation.sql, column, unit, is_date=is_date)
            rows = ctx.execute(sql, relation=relation).rows
            counts = histogram.place_dates(date_edges, [(r[0], int(r[1])) for r in rows])
            result[env_name] = {"counts": counts, "total": stats[env_name][2]}
        edges_json: list[Any] = [e.isoformat() for e in date_edges]
        labels: list[str] | None = None
    else:
        integral = histogram.is_integral_type(column_type) or (
            isinstance(lo, int) and isinstance(hi, int)
        )
        edges, width = histogram.numeric_edges(lo, hi, int(params["num_bins"]), integral=integral)
        for relation, env_name in sides:
            sql = queries.numeric_bins(d, relation.sql, column, edges)
            counts = [0] * (len(edges) - 1)
            for bin_index, n in ctx.execute(sql, relation=relation).rows:
                counts[int(bin_index)] += int(n)
            result[env_name] = {"counts": counts, "total": stats[env_name][2]}
        edges_json = [histogram.edge_json(e) for e in edges]
        labels = histogram.numeric_labels(edges, width)
    result.update({"min": _display(lo), "max": _display(hi), "bin_edges": edges_json})
    result["labels"] = labels
    return result
