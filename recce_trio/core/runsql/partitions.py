"""Key-range partitions, so a keyed diff of a big table runs as a few small statements.

A keyed diff joins the two sides on the key, and the join holds one side's rows in a hash
table: for 1M rows x 21 columns about 300 MB, in the server's own process where the
warehouse is embedded (DuckDB). Split on ranges of the first key column, each statement
joins only the rows of one range; a key value lies in exactly one range on both sides (the
range is a function of the value), so each range's diff is the diff of those keys, and
the ranges' diffs, in range order, are the whole diff in key order. A row-limited diff
stops at the range that fills the limit; counts are summed over the ranges.

The boundaries come from a sample of the base side's keys, fetched as text and cast back
to the key's type; they only decide how even the ranges are, never what a diff returns
(each cut is the GREATEST of the boundaries up to it, so the cuts ascend in any case).
Only DuckDB, with its default ordering (ascending, NULLs last, no collation), is split:
there the ranges' order is the order of ``ORDER BY key``, and NULL keys come last.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from recce_trio.core.runsql.dialect import SqlDialect
from recce_trio.core.runsql.queries import column_class, strip_statement

# Rows x compared columns per range: about 12 MB of hash table in DuckDB.
CELLS_PER_RANGE = 1_000_000
# A row-limited diff (the first 2,000 differing rows, in key order) takes ranges this many
# times smaller: on top of its join it sorts the rows it returns (about 9 MB in DuckDB,
# whatever the range), and it mostly stops after the first few ranges anyway.
ORDERED_SHARE = 4
# Beyond this many compared columns a range also takes fewer cells, in proportion: each
# column pins blocks of its own while it is scanned (on both sides), which leaves less of a
# bounded memory to the hash table (61 columns: ranges of about 5,600 rows).
WIDE_COLUMNS = 21
# A wide diff compares at most this many columns per statement (column groups, see
# ``groups``); its ranges are then sized for this many columns.
GROUP_COLUMNS = 10
# ... and ranges this many times smaller than a narrow diff's (a group's statements leave the
# blocks they read cached, which leaves less to the next group's hash table).
GROUP_SHARE = 2
MAX_RANGES = 256
_SAMPLE_ROWS = 20_000
_TEXT_TYPES = ("varchar", "text", "string")


def splittable(d: SqlDialect, key_type: str) -> bool:
    """Whether a first key column of this type can be split into ranges."""
    t = key_type.strip().lower()
    kind = column_class(t)
    if t.startswith("time") and not t.startswith("timestamp"):
        return False  # TIME WITH TIME ZONE orders by instant, not as its text
    return d.name == "duckdb" and (kind in ("numeric", "datetime") or t in _TEXT_TYPES)


def size(d: SqlDialect, base: tuple[str, str], current: tuple[str, str]) -> str:
    """One row: the base query's row count, the key column's type on each side as DuckDB
    names it (``typeof``, even with no rows: a probe's types can be guesses through dbt),
    and whether the session orders as ranges assume (ascending, NULLs last, no default
    collation). ``base`` and ``current`` are (query, key column)."""

    def key_type(sql: str, key: str) -> str:
        return (
            f"(SELECT typeof(_recce_q.{d.quote(key)}) FROM (SELECT 1) AS _recce_one "
            f"LEFT JOIN ({strip_statement(sql)}) AS _recce_q ON TRUE LIMIT 1)"
        )

    count = f"(SELECT COUNT(*) FROM ({strip_statement(base[0])}) AS _recce_q)"
    return (
        f"SELECT {d.cast_bigint(count)} AS n, {key_type(*base)} AS base_type, "
        f"{key_type(*current)} AS current_type, "
        "lower(current_setting('default_order')) IN ('asc', 'ascending') "
        "AND lower(current_setting('default_null_order')) "
        "IN ('nulls_last', 'nulls_last_on_asc_first_on_desc') "
        "AND COALESCE(current_setting('default_collation'), '') = '' AS plain"
    )


def count_for(rows: int, columns: int, *, ordered: bool = False) -> int:
    """How many ranges a diff of ``rows`` x ``columns`` is split into (1: not split);
    ``ordered``: a row-limited diff (smaller ranges, ``ORDERED_SHARE``)."""
    columns = max(1, columns)
    cells = max(1, CELLS_PER_RANGE // ORDERED_SHARE) if ordered else CELLS_PER_RANGE
    cells = max(1, cells * min(columns, WIDE_COLUMNS) // columns)
    return max(1, min(MAX_RANGES, math.ceil(rows * columns / cells)))


def groups(count: int, first: int = 0) -> list[range]:
    """Positions ``first``..``count - 1`` in groups of at most ``GROUP_COLUMNS``, in order."""
    return [range(i, min(count, i + GROUP_COLUMNS)) for i in range(first, count, GROUP_COLUMNS)]


def boundaries(d: SqlDialect, sql: str, key: str, ranges: int) -> str:
    """``ranges - 1`` quantiles of a sample of the key's non-NULL values, as text, one row
    each (a list would come back through dbt as one string)."""
    k = d.quote(key)
    fractions = ", ".join(str(i / ranges) for i in range(1, ranges))
    return (
        f"SELECT CAST(unnest(quantile_disc(_recce_s.{k}, [{fractions}])) AS VARCHAR) AS bound "
        f"FROM (SELECT _recce_q.{k} FROM ({strip_statement(sql)}) AS _recce_q "
        f"WHERE _recce_q.{k} IS NOT NULL) AS _recce_s "
        f"USING SAMPLE reservoir({_SAMPLE_ROWS} ROWS)"
    )


def conditions(d: SqlDialect, key: str, key_type: str, bounds: Sequence[str]) -> list[str]:
    """The WHERE condition (on column ``key``) of each range, in key order, NULL keys
    last: below the first cut, between two, from the last one up, then NULL. Each cut is
    the GREATEST of the boundaries so far, so the cuts ascend in the warehouse's own order
    whatever order the boundaries come in (text that came back through dbt, say): the
    ranges never overlap and miss nothing."""
    k = d.quote(key)
    literals: list[str] = []
    for b in bounds:
        literal = f"CAST({d.string(b)} AS {key_type})"
        if literal not in literals:
            literals.append(literal)
    cuts = [
        literals[0] if i == 0 else f"GREATEST({', '.join(literals[: i + 1])})"
        for i in range(len(literals))
    ]
    if not cuts:
        return [f"{k} IS NOT NULL", f"{k} IS NULL"]
    found = [f"{k} < {cuts[0]}"]
    found += [f"{k} >= {lo} AND {k} < {hi}" for lo, hi in itertools.pairwise(cuts)]
    found += [f"{k} >= {cuts[-1]}", f"{k} IS NULL"]
    return found


def within(sql: str, condition: str) -> str:
    """A query's rows that meet ``condition`` (on its columns)."""
    return f"SELECT * FROM ({strip_statement(sql)}) AS _recce_r WHERE {condition}"
