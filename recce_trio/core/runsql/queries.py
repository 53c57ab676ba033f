"""The SQL recce-trio sends for each run type. Everything is computed in the warehouse; only
aggregates, or at most a capped number of rows, come back."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from recce_trio.core.runsql.dialect import SqlDialect

QUERY_LIMIT = 2000  # Recce's row limit for query results and the keyed query diff
DETAIL_LIMIT = 1000  # Recce's row limit for value_diff_detail
NULL_KEY = "_recce_surrogate_key_null_"
_NUMERIC_PREFIXES = (
    "int",
    "bigint",
    "smallint",
    "tinyint",
    "hugeint",
    "ubigint",
    "uinteger",
    "usmallint",
    "utinyint",
    "uhugeint",
    "float",
    "double",
    "decimal",
    "numeric",
    "number",
    "real",
    "dec(",
    "bignumeric",
)


def strip_statement(sql: str) -> str:
    """The statement without surrounding blanks and trailing semicolons (so it nests)."""
    sql = sql.strip()
    while sql.endswith(";"):
        sql = sql[:-1].rstrip()
    return sql


def column_class(db_type: str) -> str:
    """How a column is profiled: numeric, datetime, logical, complex or other (text...)."""
    t = db_type.strip().lower()
    if t.startswith(_NUMERIC_PREFIXES) and not t.startswith("interval"):
        return "numeric"
    if t.startswith(("date", "timestamp", "time")):
        return "datetime"
    if t.startswith("bool"):
        return "logical"
    if t.startswith(("struct", "map", "array", "list", "union", "json", "variant", "object")):
        return "complex"
    if t.endswith("]") or "<" in t:
        return "complex"
    return "other"


def count_rows(d: SqlDialect, sql: str) -> str:
    """Recce's total row count of a query (a second statement, as in Recce)."""
    return f"SELECT COUNT(*) AS _total_row_count FROM ({strip_statement(sql)}) AS _count_subquery"


def probe_columns(sql: str) -> str:
    """The query's columns without its rows."""
    return f"SELECT * FROM ({strip_statement(sql)}) AS _recce_probe WHERE 1 = 0"


def keyed_diff(
    d: SqlDialect, base_sql: str, current_sql: str, keys: Sequence[str], limit: int
) -> str:
    """Rows that differ between two queries with the same columns, with ``in_a``/``in_b``.

    A changed row comes back twice, base version first; identical rows never leave the
    warehouse. Like Recce, rows are compared as sets (duplicates collapse) and by position.
    """
    order = ", ".join([*(d.quote(k) for k in keys), "in_a DESC", "in_b DESC"])
    sql = (
        f"WITH _recce_a AS ({strip_statement(base_sql)}), "
        f"_recce_b AS ({strip_statement(current_sql)}), "
        f"_recce_a_only AS (SELECT * FROM _recce_a {d.except_distinct()} "
        f"SELECT * FROM _recce_b), "
        f"_recce_b_only AS (SELECT * FROM _recce_b {d.except_distinct()} "
        f"SELECT * FROM _recce_a) "
        f"SELECT * FROM ("
        f"SELECT _recce_a_only.*, {d.true()} AS in_a, {d.false()} AS in_b FROM _recce_a_only "
        f"UNION ALL "
        f"SELECT _recce_b_only.*, {d.false()} AS in_a, {d.true()} AS in_b FROM _recce_b_only"
        f") AS _recce_diff ORDER BY {order}"
    )
    return d.limit(sql, limit)


def select_columns(d: SqlDialect, relation: str, columns: Sequence[str]) -> str:
    return f"SELECT {', '.join(d.quote(c) for c in columns)} FROM {relation}"


def row_count(d: SqlDialect, relation: str) -> str:
    return f"SELECT {d.cast_bigint('COUNT(*)')} AS row_count FROM {relation}"


def row_counts(d: SqlDialect, relations: Sequence[str]) -> str:
    """The row counts of several relations in one statement: a row ``(part, row_count)`` for
    each, ``part`` its index in ``relations`` (UNION ALL keeps no order of its own)."""
    return " UNION ALL ".join(
        f"SELECT {i} AS part, {d.cast_bigint('COUNT(*)')} AS row_count FROM {relation}"
        for i, relation in enumerate(relations)
    )


def duplicate_keys(d: SqlDialect, relation: str, keys: Sequence[str]) -> str:
    """How many key values occur more than once (NULL keys count as one value)."""
    cols = ", ".join(d.quote(k) for k in keys)
    return (
        f"SELECT {d.cast_bigint('COUNT(*)')} AS invalids FROM "
        f"(SELECT {cols} FROM {relation} GROUP BY {cols} HAVING COUNT(*) > 1) AS _recce_dups"
    )


def value_diff(
    d: SqlDialect,
    base: tuple[str, Sequence[str], Sequence[str]],
    current: tuple[str, Sequence[str], Sequence[str]],
    *,
    raw_keys: bool | None = None,
    first: int = 0,
) -> str:
    """One statement for the whole value diff. ``base`` and ``current`` are (relation, key
    columns, compared columns), spelt as each side spells them; the compared columns start
    with the keys. Rows are joined on the key (NULL keys match each other); it returns
    ``total, added, removed, common`` and then one mismatch count per compared column.
    ``first``: the compared columns given are a group of the whole list, starting at that
    position (0: with the keys; the counts of rows are the same for every group).

    DuckDB joins on the keys themselves (``IS NOT DISTINCT FROM``), and a key column cannot
    mismatch there; elsewhere, or with ``raw_keys=False`` (key types that differ between the
    sides), the keys are joined as text with NULL spelt ``NULL_KEY``."""
    raw_keys = d.joins_not_distinct if raw_keys is None else raw_keys and d.joins_not_distinct
    nkeys = len(base[1])

    def side(relation: str, keys: Sequence[str], columns: Sequence[str]) -> str:
        if raw_keys:
            key_cols = [f"{d.quote(k)} AS _recce_k{i}" for i, k in enumerate(keys)]
        else:
            key_cols = [
                f"COALESCE({d.cast_text(d.quote(k))}, {d.string(NULL_KEY)}) AS _recce_k{i}"
                for i, k in enumerate(keys)
            ]
        value_cols = [
            f"{d.quote(c)} AS _recce_c{i}"
            for i, c in enumerate(columns)
            if not (raw_keys and first + i < nkeys)
        ]
        return f"SELECT {', '.join(key_cols + value_cols)}, 1 AS _recce_in FROM {relation}"

    eq = "IS NOT DISTINCT FROM" if raw_keys else "="
    on = " AND ".join(f"a._recce_k{i} {eq} b._recce_k{i}" for i in range(nkeys))
    both = "a._recce_in IS NOT NULL AND b._recce_in IS NOT NULL"
    counts = [
        f"{d.cast_bigint('COUNT(*)')} AS total",
        f"{d.cast_bigint('SUM(CASE WHEN a._recce_in IS NULL THEN 1 ELSE 0 END)')} AS added",
        f"{d.cast_bigint('SUM(CASE WHEN b._recce_in IS NULL THEN 1 ELSE 0 END)')} AS removed",
        f"{d.cast_bigint(f'SUM(CASE WHEN {both} THEN 1 ELSE 0 END)')} AS common",
    ]
    for i in range(len(base[2])):
        if raw_keys and first + i < nkeys:
            counts.append(f"{d.cast_bigint('0')} AS _recce_m{i}")
            continue
        a, b = f"a._recce_c{i}", f"b._recce_c{i}"
        mismatch = (
            f"SUM(CASE WHEN a._recce_in IS NULL OR b._recce_in IS NULL THEN 0 "
            f"WHEN {a} = {b} THEN 0 WHEN {a} IS NULL AND {b} IS NULL THEN 0 ELSE 1 END)"
        )
        counts.append(f"{d.cast_bigint(f'COALESCE({mismatch}, 0)')} AS _recce_m{i}")
    return (
        f"WITH a AS ({side(*base)}), b AS ({side(*current)}) "
        f"SELECT {', '.join(counts)} FROM a FULL OUTER JOIN b ON {on}"
    )


def profile(
    d: SqlDialect, relation: str, columns: Sequence[tuple[str, str]], *, apart: bool = False
) -> str:
    """One statement per side: per column, 7 aggregates (``_n``, ``_d``, min, max, avg,
    median), after the total row count. NULL where a statistic does not apply. ``apart``:
    NULL for the distinct counts and medians too, computed apart (``distinct_count``,
    ``middle_median``: statements that spill, where these aggregates hold every value)."""
    parts = [f"{d.cast_bigint('COUNT(*)')} AS _recce_rows"]
    for i, (name, db_type) in enumerate(columns):
        c = d.quote(name)
        kind = column_class(db_type)
        null = "NULL"
        parts.append(f"{d.cast_bigint(f'COUNT({c})')} AS _recce_n{i}")
        distinct = d.cast_bigint(f"COUNT(DISTINCT {c})") if kind != "complex" else null
        distinct = null if apart else distinct
        parts.append(f"{distinct} AS _recce_d{i}")
        ordered = kind in ("numeric", "datetime")
        parts.append(f"{d.cast_text(f'MIN({c})') if ordered else null} AS _recce_min{i}")
        parts.append(f"{d.cast_text(f'MAX({c})') if ordered else null} AS _recce_max{i}")
        if kind == "numeric":
            avg = d.cast_double(f"AVG({c})")
            median = null if apart else d.cast_double(d.median(c))
        elif kind == "logical":
            avg = d.cast_double(f"AVG(CASE WHEN {c} THEN 1 ELSE 0 END)")
            median = null
        else:
            avg = median = null
        parts.append(f"{avg} AS _recce_avg{i}")
        parts.append(f"{median} AS _recce_med{i}")
    return f"SELECT {', '.join(parts)} FROM {relation}"


def distinct_count(d: SqlDialect, relation: str, column: str) -> str:
    """``COUNT(DISTINCT column)`` as a GROUP BY, which spills where the aggregate does not."""
    c = d.quote(column)
    return (
        f"SELECT {d.cast_bigint('COUNT(*)')} AS _recce_d FROM (SELECT DISTINCT {c} "
        f"FROM {relation} WHERE {c} IS NOT NULL) AS _recce_values"
    )


def middle_median(d: SqlDialect, relation: str, column: str, count: int) -> str:
    """The median of a numeric column with ``count`` non-NULL values, as ``profile`` gives
    it: the same median aggregate over only the one or two middle values in the column's
    order (a sort, which spills, where the aggregate holds every value); the median of those
    is the median of all of them."""
    c = d.quote(column)
    low, high = (count - 1) // 2 + 1, count // 2 + 1
    return (
        f"SELECT {d.cast_double(d.median('_recce_v'))} AS _recce_med FROM (SELECT {c} AS "
        f"_recce_v, row_number() OVER (ORDER BY {c}) AS _recce_rn FROM {relation} "
        f"WHERE {c} IS NOT NULL) AS _recce_sorted WHERE _recce_rn BETWEEN {low} AND {high}"
    )


def top_k(d: SqlDialect, base_relation: str, current_relation: str, column: str, k: int) -> str:
    """The ``k`` most frequent non-null values (as text) of the current side, with both
    sides' counts; ties broken by base count, then by value."""
    c = d.quote(column)

    def counts(relation: str) -> str:
        cat = d.cast_text(c)
        return (
            f"SELECT {cat} AS _recce_cat, COUNT(*) AS _recce_n FROM {relation} "
            f"WHERE {c} IS NOT NULL GROUP BY {cat}"
        )

    sql = (
        f"WITH _recce_base AS ({counts(base_relation)}), "
        f"_recce_curr AS ({counts(current_relation)}) "
        f"SELECT * FROM (SELECT COALESCE(_recce_curr._recce_cat, _recce_base._recce_cat) "
        f"AS category, {d.cast_bigint('COALESCE(_recce_base._recce_n, 0)')} AS base_count, "
        f"{d.cast_bigint('COALESCE(_recce_curr._recce_n, 0)')} AS curr_count "
        f"FROM _recce_curr FULL OUTER JOIN _recce_base "
        f"ON _recce_curr._recce_cat = _recce_base._recce_cat) AS _recce_topk "
        f"ORDER BY curr_count DESC, base_count DESC, category"
    )
    return d.limit(sql, k)


def valid_counts(d: SqlDialect, base_relation: str, current_relation: str, column: str) -> str:
    """Rows and non-null values of a column on each side (side 0 = base)."""
    c = d.quote(column)
    total, valid = d.cast_bigint("COUNT(*)"), d.cast_bigint(f"COUNT({c})")
    return (
        f"SELECT * FROM (SELECT 0 AS side, {total} AS total, {valid} AS valids "
        f"FROM {base_relation} UNION ALL SELECT 1 AS side, {total}, {valid} "
        f"FROM {current_relation}) AS _recce_counts ORDER BY side"
    )


def min_max(d: SqlDialect, relation: str, column: str) -> str:
    c = d.quote(column)
    return (
        f"SELECT MIN({c}) AS min_value, MAX({c}) AS max_value, "
        f"{d.cast_bigint(f'COUNT({c})')} AS valids FROM {relation}"
    )


def numeric_bins(d: SqlDialect, relation: str, column: str, edges: Sequence[Decimal]) -> str:
    """Per-bin counts: bin i holds edges[i] <= value < edges[i+1]; the last bin also holds
    the top edge. Edges are exact decimal literals, so no floating error moves a value."""
    c = d.quote(column)
    last = len(edges) - 2
    whens = [f"WHEN {c} < {d.number(edges[i + 1])} THEN {i}" for i in range(last)]
    case = f"CASE {' '.join(whens)} ELSE {last} END" if whens else "0"
    return (
        f"SELECT _recce_bin, {d.cast_bigint('COUNT(*)')} AS n FROM "
        f"(SELECT {case} AS _recce_bin FROM {relation} WHERE {c} IS NOT NULL) AS _recce_b "
        f"GROUP BY _recce_bin ORDER BY _recce_bin"
    )


def date_bins(d: SqlDialect, relation: str, column: str, unit: str, *, is_date: bool) -> str:
    """Counts per truncated year, month or day (placed into bins in Python)."""
    c = d.quote(column)
    trunc = d.date_trunc(unit, c, is_date=is_date)
    return (
        f"SELECT _recce_t, {d.cast_bigint('COUNT(*)')} AS n FROM "
        f"(SELECT {trunc} AS _recce_t FROM {relation} WHERE {c} IS NOT NULL) AS _recce_b "
        f"GROUP BY _recce_t ORDER BY _recce_t"
    )
