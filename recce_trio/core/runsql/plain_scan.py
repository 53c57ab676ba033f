"""Whether a query is a plain read of one table: its rows then come in the table's order,
so a few of its columns at a time give the same rows in the same order (a wide query's
frame is built so, warehouse/query_groups.py)."""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from recce_trio.core.runsql.dialect import SqlDialect
from recce_trio.core.runsql.queries import strip_statement

# What a plain read may have: its columns (or expressions of them), one table, a filter, an
# order by its columns, and its first rows.
_SELECT_PARTS = frozenset({"expressions", "from_", "where", "order", "limit", "offset"})
_TABLE_PARTS = frozenset({"this", "db", "catalog", "alias"})
# Anything that makes the order of the rows the warehouse's choice, or reads another query.
_NOT_PLAIN = (exp.AggFunc, exp.Window, exp.Subquery, exp.Query, exp.Lateral, exp.Unnest)
# Functions whose value changes from one call to the next: a column that names another's
# alias would see another call's value in another statement.
_VOLATILE = frozenset({"random", "rand", "uuid", "gen_random_uuid", "uuidv4", "uuidv7", "nextval"})


def plain_read(d: SqlDialect, sql: str) -> tuple[tuple[str, ...], list[str | int]] | None:
    """The name of the one table ``sql`` reads (its parts, catalog first, as written) and
    what its ORDER BY orders by (``_order_keys``; [] without one), when ``sql`` is one
    SELECT of that table's columns, or expressions of one row's values, with at most a
    WHERE, and an ORDER BY of names or positions or a LIMIT and OFFSET: no join, aggregate,
    window, DISTINCT, subquery or CTE. Else (or if it does not parse) None."""
    tree = _select(d, sql)
    keys = _order_keys(tree) if tree is not None else None
    if tree is None or keys is None:
        return None
    if keys and (tree.args.get("limit") or tree.args.get("offset")):
        return None  # its first rows could be any of those tied at its limit's edge
    if any(value for key, value in tree.args.items() if key not in _SELECT_PARTS):
        return None
    source = tree.args.get("from_")
    table = source.this if isinstance(source, exp.From) else None
    if not isinstance(table, exp.Table) or not isinstance(table.this, exp.Identifier):
        return None
    if any(value for key, value in table.args.items() if key not in _TABLE_PARTS):
        return None
    for node in tree.walk():
        if node is not tree and isinstance(node, _NOT_PLAIN):
            return None
        if isinstance(node, exp.Rand | exp.Uuid) or (
            isinstance(node, exp.Func) and node.name.lower() in _VOLATILE
        ):
            return None
    parts = [table.args.get("catalog"), table.args.get("db"), table.this]
    return tuple(p.name for p in parts if isinstance(p, exp.Identifier)), keys


def scanned_table(d: SqlDialect, sql: str) -> tuple[str, ...] | None:
    """The table of a plain read (``plain_read``); None if ``sql`` is not one."""
    found = plain_read(d, sql)
    return found[0] if found is not None else None


def has_duplicate_names(columns: list[str]) -> bool:
    """Whether a query's columns (as ``unique_names`` gave them) cannot each be selected
    by name from it: two the same but for case, or one renamed (``a``, ``a_2``)."""
    lower = [c.lower() for c in columns]
    if len(set(lower)) != len(lower):
        return True
    names = set(lower)
    for name in lower:
        stem, _, number = name.rpartition("_")
        if stem in names and number.isdigit():
            return True
    return False


def base_table_check(d: SqlDialect, table: tuple[str, ...]) -> str:
    """DuckDB: one row, TRUE when the name (``plain_read``'s table parts) is a table's and
    no view has that name (a view's rows come in its own query's order)."""
    *qualifiers, name = table
    same = "lower({}) = lower({})".format
    conditions = [same("table_name", d.string(name))]
    if len(qualifiers) == 2:
        conditions += [same("database_name", d.string(qualifiers[0]))]
        conditions += [same("schema_name", d.string(qualifiers[1]))]
    elif qualifiers:  # a schema of the current database, or a database's default schema
        q = d.string(qualifiers[0])
        conditions += [f"({same('schema_name', q)} OR {same('database_name', q)})"]
    tables = f"SELECT 1 FROM duckdb_tables() WHERE {' AND '.join(conditions)}"
    views = f"SELECT 1 FROM duckdb_views() WHERE {same('view_name', d.string(name))}"
    return f"SELECT EXISTS ({tables}) AND NOT EXISTS ({views}) AS _recce_plain"


def is_one_query(d: SqlDialect, sql: str) -> bool:
    """Whether ``sql`` is one query (a SELECT, a set operation of them...) and nothing else,
    as far as sqlglot can tell (what it cannot parse is not)."""
    trees = _parse(d, sql)
    return trees is not None and len(trees) == 1 and isinstance(trees[0], exp.Query)


def _parse(d: SqlDialect, sql: str) -> list[exp.Expr | None] | None:
    try:
        return sqlglot.parse(strip_statement(sql), read=d.name or None)
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError):
        return None


def _select(d: SqlDialect, sql: str) -> exp.Select | None:
    trees = _parse(d, sql)
    if trees is None or len(trees) != 1 or not isinstance(trees[0], exp.Select):
        return None
    return trees[0]


def _order_keys(tree: exp.Select) -> list[str | int] | None:
    """What a SELECT's ORDER BY orders by, each a name (of an output column, or the
    table's) or a 1-based position: [] without ORDER BY; None if any is something else
    (an expression, a qualified name)."""
    order = tree.args.get("order")
    keys: list[str | int] = []
    for ordered in order.expressions if isinstance(order, exp.Order) else []:
        key = ordered.this
        if ordered.args.get("with_fill"):
            return None
        if isinstance(key, exp.Column) and not key.table and isinstance(key.this, exp.Identifier):
            keys.append(key.name)
        elif isinstance(key, exp.Literal) and not key.is_string and key.name.isdigit():
            keys.append(int(key.name))
        else:
            return None
    return keys


def no_ties(d: SqlDialect, sql: str, keys: list[str], rows: int) -> str:
    """One row, TRUE when no two of the first ``rows`` rows of ``sql`` have the same values
    of ``keys`` (its ORDER BY's, as output columns) as the ORDER BY compares them (``rank``
    over the same columns: collations included): then any run of ``sql`` gives the same
    first ``rows - 1`` rows in the same order."""
    names = ", ".join(d.quote(k) for k in keys)
    first = f"SELECT {names} FROM ({strip_statement(sql)}) AS _recce_query LIMIT {int(rows)}"
    ranks = f"SELECT rank() OVER (ORDER BY {names}) AS _recce_rank FROM ({first}) AS _recce_keys"
    return (
        "SELECT COUNT(*) = COUNT(DISTINCT _recce_rank) AS _recce_no_ties "
        f"FROM ({ranks}) AS _recce_ranks"
    )
