"""The keyed diff of a wide table (keyed.py's join form) in two phases, a group of columns
per statement: where the warehouse runs in the server's process (DuckDB), a scan pins a
block of every column it reads, so a statement over both sides' hundred columns does not
fit in a bounded memory whatever the range of keys it reads.

1. ``differing_keys``, once per group of columns: the first keys in key order whose rows
   differ in that group (a row on one side only differs in every group). The comparison
   is exact, ``IS DISTINCT FROM`` as in the join form, never a hash.
2. ``first_keys``: the first keys of all the groups' lists together, in key order: a key
   differs exactly when it differs in some group, and the first ``n`` differing keys are
   among the first ``n`` of each group's.
3. ``rows_of_keys``, once per group and side: that side's rows of those keys, the key and
   that group's columns, with each key's place in the list (which is in key order);
   ``expand`` puts both sides' rows in the join form's order (by key, base row first).
   Every group gives the same rows in the same order, so the groups' columns are put side
   by side by position.

The keys travel between the statements as text (a JSON list per key column), cast back to
their type: only key types whose text is exact (``exact_key_type``: numbers, dates and
timestamps, text) take this form. DuckDB only (``typeof``, ``from_json``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from recce_trio.core.runsql.dialect import SqlDialect
from recce_trio.core.runsql.queries import column_class, strip_statement

Side = tuple[str, Sequence[str]]  # a query and its column names
KeyText = tuple[str | None, ...]  # a key's columns as text (None: NULL)
Row = tuple[Any, ...]


def exact_key_type(key_type: str) -> bool:
    """Whether a key column of this type (as DuckDB's ``typeof`` names it) comes back as
    text that casts back to the same value."""
    t = key_type.strip().lower()
    if t.startswith("time") and not t.startswith("timestamp"):
        return False
    return column_class(t) in ("numeric", "datetime") or t in ("varchar", "text", "string")


def key_types(d: SqlDialect, sql: str, keys: Sequence[str]) -> str:
    """One row: each key column's type as DuckDB names it (``typeof``, even with no rows)."""
    cols = ", ".join(f"typeof(_recce_q.{d.quote(k)}) AS _recce_t{i}" for i, k in enumerate(keys))
    return (
        f"SELECT {cols} FROM (SELECT 1) AS _recce_one "
        f"LEFT JOIN ({strip_statement(sql)}) AS _recce_q ON TRUE LIMIT 1"
    )


def _side(d: SqlDialect, side: Side, positions: Sequence[int], tag: str) -> str:
    sql, columns = side
    cols = ", ".join(f"_recce_q.{d.quote(columns[i])} AS _recce_{tag}{i}" for i in positions)
    return f"SELECT {cols}, 1 AS _recce_in{tag} FROM ({strip_statement(sql)}) AS _recce_q"


def differing_keys(
    d: SqlDialect,
    base: Side,
    current: Side,
    key_positions: Sequence[int],
    group: Sequence[int],
    limit: int,
) -> str:
    """Phase 1: the first ``limit`` keys, in key order, whose rows differ in the columns at
    ``group`` (or are on one side only), each key column as text."""
    keys = list(key_positions)
    positions = keys + [i for i in group if i not in keys]
    on = " AND ".join(f"_recce_a{i} IS NOT DISTINCT FROM _recce_b{i}" for i in keys)
    changed = " OR ".join(
        ["_recce_ina IS NULL", "_recce_inb IS NULL"]
        + [f"_recce_a{i} IS DISTINCT FROM _recce_b{i}" for i in group if i not in keys]
    )
    key = [f"COALESCE(_recce_a{i}, _recce_b{i})" for i in keys]
    texts = ", ".join(f"{d.cast_text(k)} AS _recce_k{j}" for j, k in enumerate(key))
    sql = (
        f"SELECT {texts} FROM ({_side(d, base, positions, 'a')}) AS _recce_l "
        f"FULL OUTER JOIN ({_side(d, current, positions, 'b')}) AS _recce_r ON {on} "
        f"WHERE {changed} ORDER BY {', '.join(key)}"
    )
    return d.limit(sql, limit)


def _values(
    d: SqlDialect, keys: Sequence[KeyText], types: Sequence[str], *, ordinal: bool = False
) -> str:
    """``keys`` as rows of their types, to select FROM: each key column's texts as one JSON
    list, unnested side by side (one literal per column: as many literals as keys, 40,000
    of them, held DuckDB's parser and planner some 40 MB outside its memory limit);
    ``ordinal``: with each key's place in ``keys`` (``_recce_o``, from 0)."""
    lists = [json.dumps([k[j] for k in keys]) for j in range(len(types))]
    unnested = ", ".join(
        f"unnest(from_json({d.string(text)}, '[\"VARCHAR\"]')) AS _recce_u{j}"
        for j, text in enumerate(lists)
    )
    cast = ", ".join(f"CAST(_recce_u{j} AS {t}) AS _recce_k{j}" for j, t in enumerate(types))
    if ordinal:
        unnested = f"unnest(range({len(keys)})) AS _recce_o, {unnested}"
        cast = f"_recce_o, {cast}"
    return f"(SELECT {cast} FROM (SELECT {unnested}) AS _recce_lists) AS _recce_v"


def first_keys(d: SqlDialect, keys: Sequence[KeyText], types: Sequence[str], limit: int) -> str:
    """Phase 2: the first ``limit`` of ``keys`` (several groups' lists, given as text, of
    key columns of ``types``), in the warehouse's key order, each once, as text again."""
    names = [f"_recce_k{j}" for j in range(len(types))]
    # (named apart from the keys: ORDER BY a name of the SELECT list would order the text)
    texts = ", ".join(f"{d.cast_text(n)} AS _recce_t{j}" for j, n in enumerate(names))
    sql = (
        f"SELECT {texts} FROM (SELECT DISTINCT * FROM {_values(d, keys, types)}) AS _recce_u "
        f"ORDER BY {', '.join(names)}"
    )
    return d.limit(sql, limit)


def rows_of_keys(
    d: SqlDialect,
    side: Side,
    key_positions: Sequence[int],
    group: Sequence[int],
    keys: Sequence[KeyText],
    types: Sequence[str],
) -> str:
    """Phase 3, for one side: its rows of ``keys`` (all of them differing keys, in key
    order), each key's place in ``keys`` first (``_recce_o``), then the key columns and
    the columns at ``group``, in the order of ``keys``. The rows are picked by a join on the
    key with the list: no join of the two sides, no sort of wide rows by key (a statement
    over both sides, a UNION ALL of these two, did not fit in 12 MB)."""
    sql, columns = side
    kpos = list(key_positions)
    positions = kpos + [i for i in group if i not in kpos]
    picked = ", ".join(f"_recce_q.{d.quote(columns[i])} AS _recce_c{i}" for i in positions)
    match = " AND ".join(
        f"_recce_v._recce_k{j} IS NOT DISTINCT FROM _recce_q.{d.quote(columns[i])}"
        for j, i in enumerate(kpos)
    )
    return (
        f"SELECT _recce_v._recce_o, {picked} FROM ({strip_statement(sql)}) AS _recce_q "
        f"JOIN {_values(d, keys, types, ordinal=True)} ON {match} ORDER BY _recce_v._recce_o"
    )


def expand(base_rows: Sequence[Row], current_rows: Sequence[Row]) -> list[Row]:
    """Both sides' rows of one group (``rows_of_keys``: each key's place first) as the join
    form gives them: in the order of the keys, a key's base row before its current row,
    without the place, with ``in_a`` and ``in_b``."""
    out: list[Row] = []
    i = j = 0
    while i < len(base_rows) or j < len(current_rows):
        if j == len(current_rows) or (i < len(base_rows) and base_rows[i][0] <= current_rows[j][0]):
            out.append((*base_rows[i][1:], True, False))
            i += 1
        else:
            out.append((*current_rows[j][1:], False, True))
            j += 1
    return out
