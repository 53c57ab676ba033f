"""A wide keyed diff's range in two phases, a group of columns per statement
(recce_trio/core/runsql/keyed_groups.py): the same rows as the join form (keyed.joined_diff)
of that range, in statements that each read the key and at most
``partitions.GROUP_COLUMNS`` columns of both sides."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
    *,
    bounded: bool,
) -> QueryResult:
    """The first ``limit`` rows of the join form's diff of ``base`` and ``current`` (a
    range of each, keys unique on both sides), with its columns."""
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
    # (No keys at all: the statements still give the columns and their types.)
    parts = [
        run(keyed_groups.rows_of_keys(d, base, current, keys, group, chosen, types))
        for group in groups
    ]
    # The groups' columns side by side: every part has the same rows in the same order.
    positions = [keys + [i for i in group if i not in keys] for group in groups]
    width = len(base[1])
    kinds: list[Any] = [None] * width
    for part, where in zip(parts, positions, strict=True):
        for j, i in enumerate(where):
            kinds[i] = part.types[j]
    first = parts[0]
    rows_out = []
    for r in range(min(limit, len(first.rows))):
        row: list[Any] = [None] * width
        for part, where in zip(parts, positions, strict=True):
            for j, i in enumerate(where):
                row[i] = part.rows[r][j]
        rows_out.append((*row, *first.rows[r][-2:]))
    columns = unique_names([*base[1], "in_a", "in_b"])  # as one statement's would be
    return QueryResult(columns, [*kinds, *first.types[-2:]], rows_out)
