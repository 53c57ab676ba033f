"""Running a keyed diff range by range (recce_trio/core/runsql/partitions.py): how many
ranges, where they start, and the ranges' results put together."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from recce_trio.core.runresults.builder import RowSink
from recce_trio.core.runsql import partitions
from recce_trio.core.runsql.relations import Relation
from recce_trio.warehouse.context import RunContext


class Ranges(NamedTuple):
    """The boundaries of a split on the first key column, of type ``key_type``."""

    bounds: list[str]
    key_type: str

    def conditions(self, ctx: RunContext, key: str) -> list[str]:
        """Each range's condition on one side's spelling of the first key column."""
        return partitions.conditions(ctx.dialect, key, self.key_type, self.bounds)


Part = tuple[str | None, str | None]  # a range's condition on each side; None: every row


def parts(ctx: RunContext, ranges: Ranges | None, base_key: str, current_key: str) -> list[Part]:
    """Each range's conditions on both sides, in key order; one part without conditions
    when the diff is not split."""
    if ranges is None:
        return [(None, None)]
    pairs = zip(ranges.conditions(ctx, base_key), ranges.conditions(ctx, current_key), strict=True)
    return list(pairs)


def is_split(parts: Sequence[Part]) -> bool:
    """Whether the diff runs range by range: then its statements are small, and run where
    the engine bounds their memory (``ctx.execute(bounded=True)``)."""
    return parts[0] != (None, None)


def restrict(sql: str, condition: str | None) -> str:
    """A query's rows within one range (the query itself without a condition)."""
    return sql if condition is None else partitions.within(sql, condition)


def restrict_relation(relation: str, condition: str | None) -> str:
    """A relation's rows within one range, as something to select FROM."""
    if condition is None:
        return relation
    return f"({partitions.within(f'SELECT * FROM {relation}', condition)}) AS _recce_part"


def split(
    ctx: RunContext,
    base: tuple[str, str],
    current: tuple[str, str],
    columns: int,
    *,
    relation: Relation | None = None,
    ordered: bool = False,
    grouped: bool = False,
) -> Ranges | None:
    """How to split a diff of ``base`` and ``current`` (each a query and its spelling of
    the first key column) with ``columns`` compared columns (``ordered``: a row-limited
    diff, see ``partitions.count_for``): ``None`` to run it whole (a warehouse other than
    DuckDB, few rows, a key type that cannot be split or that differs between the sides, a
    session that orders otherwise). ``grouped``: the diff compares its columns at most
    ``partitions.GROUP_COLUMNS`` per statement, so its ranges are sized for that many (no
    boundaries at all, just the non-NULL and NULL keys, where one range would do)."""
    d = ctx.dialect
    if d.name != "duckdb":
        return None
    size = partitions.size(d, base, current)
    # (a wide diff's in the diff instance: the tables' blocks it reads stay cached there)
    found = ctx.execute(size, limit=1, relation=relation, bounded=grouped).rows[0]
    rows, base_type, current_type, plain = found
    count = partitions.count_for(int(rows or 0), columns, ordered=ordered)
    key_type = str(base_type or "")
    if count < 2 or not plain or base_type != current_type:
        return None
    if not partitions.splittable(d, key_type):
        return None
    if grouped:
        count = partitions.count_for(
            int(rows or 0) * partitions.GROUP_SHARE,
            min(columns, partitions.GROUP_COLUMNS),
            ordered=ordered,
        )
        if count < 2:
            return Ranges([], key_type)
    bounds = partitions.boundaries(d, base[0], base[1], count)
    sampled = ctx.execute(bounds, relation=relation, bounded=True)
    return Ranges([str(row[0]) for row in sampled.rows if row[0] is not None], key_type)


def ordered(
    ctx: RunContext,
    parts: Sequence[Part],
    statement: Callable[[str | None, str | None, int], str | int],
    limit: int,
    sink: RowSink,
) -> None:
    """The first ``limit`` rows of a diff ordered by key, into ``sink``:
    ``statement(base_condition, current_condition, rows_wanted)`` for each range in turn,
    until ``limit`` rows. It gives a statement, or the number of rows of its range it put
    into ``sink`` itself (a wide diff's, keyed_wide.py)."""
    added = 0
    with _scope(ctx, parts):
        for base_condition, current_condition in parts:
            wanted = limit - added
            sql = statement(base_condition, current_condition, wanted)
            if isinstance(sql, int):
                added += sql
            else:
                result = ctx.execute(sql, limit=wanted, bounded=is_split(parts))
                sink.add_rows(result.columns, result.rows)
                added += len(result.rows)
                del result
            if added >= limit:
                break


def _scope(ctx: RunContext, parts: Sequence[Part]) -> contextlib.AbstractContextManager[None]:
    """One bounded scope for every range of a split diff (``ctx.bounded_scope``)."""
    return ctx.bounded_scope() if is_split(parts) else contextlib.nullcontext()


def summed(
    ctx: RunContext,
    parts: Sequence[Part],
    statement: Callable[[str | None, str | None], str | Sequence[str]],
    *,
    relation: Relation | None = None,
    combine: Callable[[list[tuple[Any, ...]]], Sequence[Any]] | None = None,
) -> list[int]:
    """A one-row statement of counts run for each range, the counts summed (NULL as 0).
    ``statement`` may give several statements for a range (column groups): ``combine``
    makes one row of counts of their rows."""
    total: list[int] = []
    with _scope(ctx, parts):
        for base_condition, current_condition in parts:
            sqls = statement(base_condition, current_condition)
            bounded = is_split(parts)
            rows = [
                ctx.execute(sql, limit=1, relation=relation, bounded=bounded).rows[0]
                for sql in ([sqls] if isinstance(sqls, str) else sqls)
            ]
            row = rows[0] if combine is None else combine(rows)
            counts = [int(v or 0) for v in row]
            total = counts if not total else [a + b for a, b in zip(total, counts, strict=True)]
    return total
