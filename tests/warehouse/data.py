"""The small hand-made warehouse every engine test uses: schema ``prod`` is base, ``dev`` is
current, in a database called ``wh``. The expected results in test_runs.py are worked out by
hand from these rows."""

from __future__ import annotations

from recce_trio.core.artifacts.records import Manifest, ManifestMetadata, Node

DATABASE = "wh"

_CUSTOMERS = (
    "CREATE TABLE {s}.customers (customer_id INTEGER, name VARCHAR, balance DECIMAL(10,2), "
    "signup DATE, active BOOLEAN, updated_at TIMESTAMP WITH TIME ZONE)"
)
_ORDERS = (
    "CREATE TABLE {s}.orders (order_id INTEGER, line_no INTEGER, amount DECIMAL(10,2), "
    "status VARCHAR)"
)


def _ts(text: str) -> str:
    return f"CAST('{text}' AS TIMESTAMP WITH TIME ZONE)"


CUSTOMERS_PROD = [
    f"(1, 'Ana', 10.50, DATE '2024-01-05', TRUE, {_ts('2024-01-05 10:00:00+00')})",
    f"(2, 'Björn', 20.00, DATE '2024-02-10', FALSE, {_ts('2024-02-10 12:30:00+00')})",
    "(3, '山田', NULL, DATE '2024-03-15', TRUE, NULL)",
    f"(4, 'Zoë', 5.25, DATE '2024-04-20', NULL, {_ts('2024-04-20 08:00:00+00')})",
]
CUSTOMERS_DEV = [
    CUSTOMERS_PROD[0],
    f"(2, 'Björn', 25.00, DATE '2024-02-10', FALSE, {_ts('2024-02-10 12:30:00+00')})",
    CUSTOMERS_PROD[2],
    f"(5, 'Émile', 7.75, DATE '2024-05-25', TRUE, {_ts('2024-05-25 09:15:00+02')})",
]
ORDERS_PROD = [
    "(1, 1, 10.00, 'placed')",
    "(1, 2, 5.00, 'placed')",
    "(2, 1, 7.50, 'shipped')",
    "(3, 1, NULL, 'returned')",
    "(NULL, 1, 1.00, 'ghost')",
]
ORDERS_DEV = [
    "(1, 1, 10.00, 'placed')",
    "(1, 2, 6.00, 'placed')",
    "(2, 1, 7.50, 'completed')",
    "(4, 1, 3.00, 'placed')",
    "(NULL, 1, 1.00, 'ghost')",
]


def statements() -> list[str]:
    """The DDL and rows, in SQL that DuckDB and PostgreSQL both run."""
    out = []
    for schema, customers, orders in (
        ("prod", CUSTOMERS_PROD, ORDERS_PROD),
        ("dev", CUSTOMERS_DEV, ORDERS_DEV),
    ):
        out.append(f"CREATE SCHEMA {schema}")
        out.append(_CUSTOMERS.format(s=schema))
        out.append(f"INSERT INTO {schema}.customers VALUES {', '.join(customers)}")
        out.append(_ORDERS.format(s=schema))
        out.append(f"INSERT INTO {schema}.orders VALUES {', '.join(orders)}")
        # events: unique in prod, a duplicated id in dev
        out.append(f"CREATE TABLE {schema}.events (event_id INTEGER, kind VARCHAR)")
        dup = ", (2, 'again')" if schema == "dev" else ""
        out.append(f"INSERT INTO {schema}.events VALUES (1, 'a'), (2, 'b'){dup}")
        out.append(f"CREATE TABLE {schema}.legacy (x INTEGER)" if schema == "prod" else "")
        out.append(f"CREATE VIEW {schema}.paid AS SELECT * FROM {schema}.orders WHERE amount > 5")
    out.append("CREATE TABLE dev.new_model (id INTEGER)")
    out.append("INSERT INTO dev.new_model VALUES (1), (2), (3)")
    out.append("INSERT INTO prod.legacy VALUES (1), (2)")
    out += wide_statements()
    return [s for s in out if s]


# ``wide``: an id and WIDE_COLUMNS - 1 columns of integers, doubles, text and dates, NULL in
# about one row in 17; current changes values in a few columns (one row in 37), turns some
# NULL (one in 53), drops one row in 100 and adds 30 rows.
WIDE_COLUMNS = 150
WIDE_ROWS = 3000


def _wide_value(i: int, g: str) -> str:
    kind = i % 4
    if kind == 0:
        value = f"({g} * {i + 7}) % {13 + i}"
    elif kind == 1:
        value = f"CAST(({g} * {i + 3}) % 97 AS DOUBLE PRECISION) / {i + 2}"
    elif kind == 2:
        value = f"'v' || (({g} * {i}) % 31)"
    else:
        value = f"DATE '2024-01-01' + CAST(({g} * {i}) % 200 AS INTEGER)"
    return f"CASE WHEN ({g} + {i}) % 17 = 0 THEN NULL ELSE {value} END"


def wide_statements() -> list[str]:
    """``prod.wide`` and ``dev.wide``, in SQL that DuckDB and PostgreSQL both run."""
    series = f"generate_series(1, {WIDE_ROWS}) AS _t(g)"
    base = ", ".join(f"{_wide_value(i, 'g')} AS w{i}" for i in range(1, WIDE_COLUMNS))

    def current(i: int) -> str:
        if i % 25 == 3:
            return _wide_value(i, "(CASE WHEN g % 37 = 0 THEN g + 1 ELSE g END)")
        if i % 25 == 4:
            return f"CASE WHEN g % 53 = 0 THEN NULL ELSE {_wide_value(i, 'g')} END"
        return _wide_value(i, "g")

    changed = ", ".join(f"{current(i)} AS w{i}" for i in range(1, WIDE_COLUMNS))
    added = ", ".join(f"{_wide_value(i, 'g + 5')} AS w{i}" for i in range(1, WIDE_COLUMNS))
    return [
        f"CREATE TABLE prod.wide AS SELECT g AS id, {base} FROM {series}",
        f"CREATE TABLE dev.wide AS SELECT g AS id, {changed} FROM {series} "
        f"WHERE g % 100 <> 7 UNION ALL SELECT g + {WIDE_ROWS} AS id, {added} "
        f"FROM generate_series(1, 30) AS _t(g)",
    ]


def wide_manifest(schema: str) -> Manifest:
    """``manifest(schema)`` with the ``wide`` model."""
    found = manifest(schema)
    node = _node("wide", schema)
    found.nodes[node.unique_id] = node
    return found


def _node(name: str, schema: str, *, resource_type: str = "model", **config: str) -> Node:
    uid = f"{resource_type}.shop.{name}"
    relation = f'"{DATABASE}"."{schema}"."{name}"'
    return Node(
        unique_id=uid,
        resource_type=resource_type,
        name=name,
        package_name="shop",
        database=DATABASE,
        schema=schema,
        alias=name,
        # one node without relation_name: its relation is built from database.schema.alias
        relation_name=None if name == "orders" else relation,
        config={"materialized": "table", **config},
    )


def manifest(schema: str) -> Manifest:
    names = ["customers", "orders", "events", "stale"]
    names.append("legacy" if schema == "prod" else "new_model")
    nodes = {n.unique_id: n for n in (_node(name, schema) for name in names)}
    extra = [
        _node("paid", schema, materialized="view"),
        _node("eph", schema, materialized="ephemeral"),
        _node("country_codes", schema, resource_type="seed", materialized="seed"),
    ]
    nodes.update({n.unique_id: n for n in extra})
    src = Node(
        unique_id="source.shop.raw.customers",
        resource_type="source",
        name="customers",
        source_name="raw",
        package_name="shop",
        database=DATABASE,
        schema=schema,
        identifier="customers",
        relation_name=f'"{DATABASE}"."{schema}"."customers"',
    )
    return Manifest(
        metadata=ManifestMetadata(project_name="shop", adapter_type="duckdb"),
        nodes=nodes,
        sources={src.unique_id: src},
    )
