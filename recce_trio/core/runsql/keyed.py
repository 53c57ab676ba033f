"""The keyed diff as one join on the key, where the warehouse can hash-join on a NULL-safe key.

Recce's keyed diff is ``A EXCEPT B`` and ``B EXCEPT A`` (rows compared as sets, by position,
ordered by the key). When the key is unique on both sides, the same rows come out of one
FULL OUTER JOIN on the key that keeps the pairs whose other columns differ (``IS DISTINCT
FROM``: NULLs equal, as EXCEPT compares): a row of A is in ``A EXCEPT B`` exactly when B has
no row with its key, or that row differs in some column. The join holds one side in a hash
table once, where the two EXCEPTs (each with its DISTINCT) hold three.

Only DuckDB takes this path: PostgreSQL refuses a FULL JOIN on ``IS NOT DISTINCT FROM``
(not hash- or merge-joinable), and other warehouses differ in what they accept; they keep
the EXCEPT statement, which runs in the warehouse's own process anyway.
"""

from __future__ import annotations

from collections.abc import Sequence

from recce_trio.core.runsql.dialect import SqlDialect
from recce_trio.core.runsql.queries import strip_statement


def joinable(
    d: SqlDialect,
    base_columns: Sequence[str],
    current_columns: Sequence[str],
    *,
    types: tuple[Sequence[str], Sequence[str]] | None = None,
) -> bool:
    """Whether the join form applies: a dialect that hash-joins ``IS NOT DISTINCT FROM``, the
    same number of columns on both sides, each named once (ignoring case), so every column
    can be selected by name, and (``types``: each side's column types) the same types on
    both sides, since EXCEPT casts to a common type where a join or COALESCE refuses to."""
    if not d.joins_not_distinct or len(base_columns) != len(current_columns):
        return False
    if types is not None and [t.lower() for t in types[0]] != [t.lower() for t in types[1]]:
        return False
    return all(
        len({c.lower() for c in cols}) == len(cols) for cols in (base_columns, current_columns)
    )


def duplicated_keys(
    d: SqlDialect,
    base_sql: str,
    current_sql: str,
    base_keys: Sequence[str],
    current_keys: Sequence[str],
) -> str:
    """One row: how many key values occur more than once in the base query, then in the
    current one (a NULL key is one value)."""

    def dups(sql: str, keys: Sequence[str]) -> str:
        cols = ", ".join(f"_recce_q.{d.quote(k)}" for k in keys)
        return (
            f"(SELECT COUNT(*) FROM (SELECT {cols} FROM ({strip_statement(sql)}) AS _recce_q "
            f"GROUP BY {cols} HAVING COUNT(*) > 1) AS _recce_dups)"
        )

    return (
        f"SELECT {d.cast_bigint(dups(base_sql, base_keys))} AS base_dups, "
        f"{d.cast_bigint(dups(current_sql, current_keys))} AS current_dups"
    )


def joined_diff(
    d: SqlDialect,
    base: tuple[str, Sequence[str]],
    current: tuple[str, Sequence[str]],
    key_positions: Sequence[int],
    limit: int,
) -> str:
    """The rows of ``keyed_diff`` (queries.py) for keys unique on both sides. ``base`` and
    ``current`` are (query, its column names); the key is at ``key_positions`` on both
    sides. The columns are named as the base query names them, then ``in_a``, ``in_b``."""
    base_sql, base_columns = base
    current_sql, current_columns = current

    def side(sql: str, columns: Sequence[str], tag: str) -> str:
        cols = ", ".join(f"_recce_q.{d.quote(c)} AS _recce_{tag}{i}" for i, c in enumerate(columns))
        return f"SELECT {cols}, 1 AS _recce_in{tag} FROM ({strip_statement(sql)}) AS _recce_q"

    keys = list(key_positions)
    others = [i for i in range(len(base_columns)) if i not in keys]
    on = " AND ".join(f"_recce_a{i} IS NOT DISTINCT FROM _recce_b{i}" for i in keys)
    changed = " OR ".join(
        ["_recce_ina IS NULL", "_recce_inb IS NULL"]
        + [f"_recce_a{i} IS DISTINCT FROM _recce_b{i}" for i in others]
    )
    picked = ", ".join(
        f"CASE WHEN _recce_s.s = 1 THEN _recce_a{i} ELSE _recce_b{i} END AS {d.quote(c)}"
        for i, c in enumerate(base_columns)
    )
    order = ", ".join([*(d.quote(base_columns[i]) for i in keys), "in_a DESC", "in_b DESC"])
    # Every differing pair is expanded into its one or two rows, and one ORDER BY ... LIMIT
    # keeps the first ``limit``: the same rows as taking the first ``limit`` keys first, but
    # the warehouse sorts the narrow expanded rows once, rather than the wide pairs too (in
    # DuckDB a top-N over both sides' columns holds several times more memory).
    differing = (
        f"SELECT * FROM ({side(base_sql, base_columns, 'a')}) AS _recce_l "
        f"FULL OUTER JOIN ({side(current_sql, current_columns, 'b')}) AS _recce_r ON {on} "
        f"WHERE {changed}"
    )
    sql = (
        f"SELECT {picked}, _recce_s.s = 1 AS in_a, _recce_s.s = 0 AS in_b "
        f"FROM ({differing}) AS _recce_d CROSS JOIN (VALUES (1), (0)) AS _recce_s(s) "
        f"WHERE (_recce_s.s = 1 AND _recce_ina = 1) OR (_recce_s.s = 0 AND _recce_inb = 1) "
        f"ORDER BY {order}"
    )
    return d.limit(sql, limit)
