"""query, query_base and query_diff (separate sides, or keyed and diffed in the warehouse)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from recce_trio.core.runresults.builder import FrameBuilder, RowSink, RowsSink
from recce_trio.core.runresults.frames import stamp_types
from recce_trio.core.runsql import keyed, queries
from recce_trio.errors import RunParamsError, WarehouseError
from recce_trio.warehouse import keyed_wide, query_groups, ranges
from recce_trio.warehouse.context import RunContext


def query_frame(ctx: RunContext, sql: str) -> dict[str, Any]:
    """A query's first 2,000 rows, ``more`` if there are others, and the total row count
    (read where the server's memory stays bounded, query_groups.py)."""
    limit = queries.QUERY_LIMIT
    frame = limited_frame(ctx, limit, lambda sink: query_groups.query_rows(ctx, sql, sink))
    total: int | None = len(frame["data"])
    if frame["more"]:
        try:
            count = queries.count_rows(ctx.dialect, sql)
            total = int(ctx.execute(count, limit=1, user=True).rows[0][0])
        except WarehouseError:
            total = None  # as in Recce: a statement that cannot be nested has no total
    frame["total_row_count"] = total
    return frame


def run_query(ctx: RunContext, params: dict[str, Any], *, env_name: str) -> dict[str, Any]:
    return query_frame(ctx, ctx.render(params["sql_template"], env_name))


def _match_keys(columns: list[str], keys: list[str]) -> list[str]:
    """The keys spelt as the query's columns (matched without regard to case)."""
    by_lower = {c.lower(): c for c in columns}
    matched = []
    for key in keys:
        actual = key if key in columns else by_lower.get(key.lower())
        if actual is None:
            raise RunParamsError(
                f"Primary key '{key}' is not a column of the query; "
                f"its columns are: {', '.join(columns)}."
            )
        matched.append(actual)
    return matched


def _same_width(base: list[str], current: list[str]) -> None:
    """Refuse a keyed diff of sides with different numbers of columns, which would compare
    nothing (its rows are matched column by column), saying which columns differ."""
    if len(base) == len(current):
        return
    only_base = [c for c in base if c not in current]
    only_current = [c for c in current if c not in base]
    where = "; ".join(
        f"only in {side}: {', '.join(names)}"
        for side, names in (("base", only_base), ("current", only_current))
        if names
    )
    raise RunParamsError(
        "A query diff with primary keys compares the two sides' rows column by column, but "
        f"the base query has {len(base)} columns and the current one {len(current)}"
        f"{f' ({where})' if where else ''}. Select the same columns on both sides (name them "
        "rather than *), or run it without primary keys to see each side's rows."
    )


def keyed_diff_rows(
    ctx: RunContext,
    base: tuple[str, list[str]],
    current: tuple[str, list[str]],
    keys: list[str],
    sink: RowSink,
    *,
    types: tuple[list[str], list[str]],
) -> None:
    """The keyed diff's first rows, into ``sink``: one join on the key where the dialect
    allows it and the key is unique on both sides (checked here), else Recce's EXCEPT
    form. A big DuckDB diff runs range by range of the first key (warehouse/ranges.py),
    each range checked and diffed on its own, until the row limit is reached."""
    d, limit = ctx.dialect, sink.limit + 1
    (base_sql, base_columns), (current_sql, current_columns) = base, current
    if not keyed.joinable(d, base_columns, current_columns, types=types):
        result = ctx.execute(queries.keyed_diff(d, base_sql, current_sql, keys, limit), limit=limit)
        sink.add_rows(result.columns, result.rows)
        return
    positions = [base_columns.index(k) for k in keys]
    current_keys = [current_columns[i] for i in positions]
    wide = keyed_wide.wide(len(base_columns))
    with ctx.small_statements(wide):  # a wide diff's statements read a group of columns each
        split = ranges.split(
            ctx,
            (base_sql, keys[0]),
            (current_sql, current_keys[0]),
            len(base_columns),
            ordered=True,
            grouped=wide,
        )
        parts = ranges.parts(ctx, split, keys[0], current_keys[0])
        _keyed_ranges(ctx, base, current, keys, current_keys, parts, sink)


def _keyed_ranges(
    ctx: RunContext,
    base: tuple[str, list[str]],
    current: tuple[str, list[str]],
    keys: list[str],
    current_keys: list[str],
    parts: list[ranges.Part],
    sink: RowSink,
) -> None:
    """Each range (``parts``) of a keyed join diff checked and diffed in turn, into ``sink``."""
    d, limit = ctx.dialect, sink.limit + 1
    (base_sql, base_columns), (current_sql, current_columns) = base, current
    positions = [base_columns.index(k) for k in keys]
    bounded = ranges.is_split(parts)
    # A wide split diff goes a group of columns at a time, where its keys travel as text.
    key_types = keyed_wide.exact_key_types(ctx, base_sql, keys, len(base_columns), bounded=bounded)

    def statement(base_condition: str | None, current_condition: str | None, n: int) -> str | int:
        a = ranges.restrict(base_sql, base_condition)
        b = ranges.restrict(current_sql, current_condition)
        check = keyed.duplicated_keys(d, a, b, keys, current_keys)
        if any(ctx.execute(check, limit=1, bounded=bounded).rows[0]):
            return queries.keyed_diff(d, a, b, keys, n)
        if key_types is not None:
            sides = (a, base_columns), (b, current_columns)
            return keyed_wide.diff(ctx, *sides, positions, key_types, n, sink, bounded=bounded)
        return keyed.joined_diff(d, (a, base_columns), (b, current_columns), positions, n)

    ranges.ordered(ctx, parts, statement, limit, sink)


def limited_frame(ctx: RunContext, limit: int, fill: Callable[[RowSink], None]) -> dict[str, Any]:
    """The frame of the first ``limit`` rows ``fill`` puts into a sink (``more`` if there
    were others), built a block at a time (core/runresults/builder.py); again, from every
    row at once, in the rare case where a column's type changed between blocks."""
    frame = None
    if ctx.build_frames:
        builder = FrameBuilder(limit, packed=ctx.packed_frames)
        fill(builder)
        frame = builder.frame()
    if frame is None:
        rows = RowsSink(limit)
        fill(rows)
        frame = rows.frame()
    assert frame is not None
    return frame


def run_query_diff(ctx: RunContext, params: dict[str, Any]) -> dict[str, Any]:
    """Recce's three modes: both sides separately (no keys), one keyed diff computed in the
    warehouse (keys: only differing rows come back), or a preview of ``current_model``."""
    current_model = params.get("current_model")
    current_sql = ctx.render(params["sql_template"], "current")
    if current_model:
        template = f'select * from {{{{ ref("{current_model}") }}}}'
        base_sql = ctx.render(template, "current")
    else:
        base_sql = ctx.render(params.get("base_sql_template") or params["sql_template"], "base")
    catalog_types = dict(ctx.stamp(current_model))
    keys = params.get("primary_keys") or []
    if not keys:
        base = query_frame(ctx, base_sql)
        current = query_frame(ctx, current_sql)
        if catalog_types:
            stamp_types(base, catalog_types)
            stamp_types(current, catalog_types)
        return {"base": base, "current": current, "diff": None}
    base_probe = ctx.execute(queries.probe_columns(base_sql), limit=0)
    keys = _match_keys(base_probe.columns, keys)
    params["primary_keys"] = keys
    current_probe = ctx.execute(queries.probe_columns(current_sql), limit=0)
    _same_width(base_probe.columns, current_probe.columns)
    diff = limited_frame(
        ctx,
        queries.QUERY_LIMIT,
        lambda sink: keyed_diff_rows(
            ctx,
            (base_sql, base_probe.columns),
            (current_sql, current_probe.columns),
            keys,
            sink,
            types=(base_probe.types, current_probe.types),
        ),
    )
    if catalog_types:
        stamp_types(diff, catalog_types)
    return {"base": None, "current": None, "diff": diff}
