"""A wide keyed diff's range in two phases, a group of columns per statement
(recce_trio/core/runsql/keyed_groups.py): the same rows as the join form (keyed.joined_diff)
of that range, in statements that each read the key and at most
``partitions.GROUP_COLUMNS`` columns of one side, put into a frame (core/runresults/builder.py)
a group of columns at a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from recce_trio.core.runresults.builder import RowSink
from recce_trio.core.runsql import keyed_groups, partitions
from recce_trio.warehouse.context import RunContext
from recce_trio.warehouse.engine import QueryResult, unique_names

Side = tuple[str, Sequence[str]]


def wide(columns: int) -> bool:
    """Whether a split keyed diff of this many compared columns goes a group at a time."""
    return columns > partitions.WIDE_COLUMNS


def exact_key_types(
    ctx: RunContext, sql: str, keys: Sequence[str], columns: int, *, bounded: bool
) -> list[str] | None:
    """For a split (``bounded``) diff of ``columns`` compared columns that goes a group at a
    time (``wide``), the key columns' types when every one of them travels exactly as text;
    else None (then each range's diff is one statement, as for a narrow table)."""
    if not (bounded and wide(columns)):
        return None
    types = [str(t) for t in ctx.execute(keyed_groups.key_types(ctx.dialect, sql, keys)).rows[0]]
    return types if all(keyed_groups.exact_key_type(t) for t in types) else None


def diff(
    ctx: RunContext,
    base: Side,
    current: Side,
    key_positions: Sequence[int],
    types: Sequence[str],
    limit: int,
    sink: RowSink,
    *,
    bounded: bool,
) -> int:
    """The first ``limit`` rows of the join form's diff of ``base`` and ``current`` (a
    range of each, keys unique on both sides) into ``sink``, a group of columns at a time
    (never every column's values at once); returns how many rows there were."""
    d = ctx.dialect
    keys = list(key_positions)
    others = [i for i in range(len(base[1])) if i not in keys]
    groups = [[others[i] for i in g] for g in partitions.groups(len(others))] or [[]]

    def run(sql: str, n: int | None = None) -> QueryResult:
        return ctx.execute(sql, limit=n, bounded=bounded)

    found: list[tuple[Any, ...]] = []
    lists = 0
    for group in groups:
        rows = run(keyed_groups.differing_keys(d, base, current, keys, group, limit), limit).rows
        found += rows
        lists += bool(rows)
    chosen: Sequence[keyed_groups.KeyText] = found
    if lists > 1:  # several groups' lists: their first keys together, in key order
        chosen = run(keyed_groups.first_keys(d, found, types, limit), limit).rows
    del found
    # (No keys at all: the statements still give the columns.) Every group's statement
    # gives the same rows in the same order: its columns go into the sink by position.
    width = len(base[1])
    columns = unique_names([*base[1], "in_a", "in_b"])  # as one statement's would be
    count = 0
    for g, group in enumerate(groups):
        sides = [
            run(keyed_groups.rows_of_keys(d, side, keys, group, chosen, types)).rows
            for side in (base, current)
        ]
        rows = keyed_groups.expand(*sides)[:limit]
        del sides
        where = keys + [i for i in group if i not in keys]
        if g == 0:
            count = len(rows)
            sink.begin(columns, count)
            where += [width, width + 1]  # in_a, in_b
        for j, i in enumerate(where):
            if g == 0 or i not in keys:
                sink.add_column(i, [row[j] for row in rows])
        del rows
    sink.end()
    return count
