"""Column-level lineage of hand-written SQL, with the expected answer written by hand, in each
dialect the corpus uses."""

from __future__ import annotations

import pytest

from tests.unit.cll_helpers import lineage, reason, row_parents

ORDERS = [("id", "integer"), ("customer_id", "integer"), ("amount", "numeric"), ("status", "text")]
CUSTOMERS = [("id", "integer"), ("name", "text"), ("country", "text")]
PARENTS = {"orders": ORDERS, "customers": CUSTOMERS}
UPPER = {n: [(c.upper(), t) for c, t in cols] for n, cols in PARENTS.items()}


def test_passthrough_renamed_derived_and_literal() -> None:
    got = lineage(
        "select id, customer_id as buyer, amount * 100 as cents, 'x' as tag, count(*) over () as n"
        " from analytics.orders",
        PARENTS,
    )
    assert got == {
        "id": ("passthrough", {("orders", "id")}),
        "buyer": ("renamed", {("orders", "customer_id")}),
        "cents": ("derived", {("orders", "amount")}),
        "tag": ("source", set()),
        "n": ("source", set()),
    }


def test_select_star_expands_from_the_parents_catalog() -> None:
    got = lineage("select * from orders", PARENTS)
    assert list(got) == ["id", "customer_id", "amount", "status"]
    assert got["status"] == ("passthrough", {("orders", "status")})


def test_ctes_joins_with_aliases_and_aggregates() -> None:
    sql = """
    with o as (select customer_id, sum(amount) as total from analytics.orders group by 1),
         c as (select id as customer_id, upper(name) as name from analytics.customers)
    select c.customer_id, c.name, coalesce(o.total, 0) as lifetime_value
    from c left join o on o.customer_id = c.customer_id
    """
    got = lineage(sql, PARENTS)
    assert got == {
        "customer_id": ("renamed", {("customers", "id")}),
        "name": ("derived", {("customers", "name")}),
        "lifetime_value": ("derived", {("orders", "amount")}),
    }
    assert row_parents(sql, PARENTS) == {"orders.customer_id", "customers.id"}


def test_where_group_by_having_decide_the_rows() -> None:
    sql = (
        "select customer_id, sum(amount) as total from orders where status <> 'returned'"
        " group by customer_id having count(*) > 1"
    )
    assert row_parents(sql, PARENTS) == {"orders.status", "orders.customer_id"}


def test_union_all_lines_branches_up_by_position() -> None:
    # Recce merges branches by name, so it would give `b` no parent in customers.
    got = lineage(
        "select id, status as b from orders union all select id, name from customers", PARENTS
    )
    assert got == {
        "id": ("derived", {("orders", "id"), ("customers", "id")}),
        "b": ("derived", {("orders", "status"), ("customers", "name")}),
    }


def test_subqueries_scalar_and_derived_tables() -> None:
    sql = """
    select s.customer_id, s.n,
           (select max(c.name) from customers c where c.id = s.customer_id) as top_name
    from (select customer_id, count(*) as n from orders group by customer_id) as s
    """
    got = lineage(sql, PARENTS)
    assert got["customer_id"] == ("passthrough", {("orders", "customer_id")})
    assert got["n"] == ("source", set())  # count(*) reads no column
    assert got["top_name"] == (
        "derived",
        {("customers", "name"), ("customers", "id"), ("orders", "customer_id")},
    )


def test_window_function_and_case() -> None:
    sql = """
    select id,
           row_number() over (partition by customer_id order by amount desc) as rank_in_customer,
           case when status = 'paid' then amount else 0 end as paid_amount
    from orders
    """
    got = lineage(sql, PARENTS)
    assert got["rank_in_customer"] == ("derived", {("orders", "customer_id"), ("orders", "amount")})
    assert got["paid_amount"] == ("derived", {("orders", "status"), ("orders", "amount")})


def test_catalog_columns_the_sql_does_not_produce_are_unknown() -> None:
    got = lineage("select id from orders", PARENTS, catalog=[("id", "integer"), ("extra", "text")])
    assert got == {"id": ("passthrough", {("orders", "id")}), "extra": ("unknown", set())}


def test_raw_code_rendered_when_there_is_no_compiled_code() -> None:
    sql = (
        "{{ config(materialized='table') }}\nselect o.id, c.name from {{ ref('orders') }} o"
        " join {{ ref('customers') }} c on c.id = o.customer_id"
        " {% if is_incremental() %}where o.id > (select max(id) from {{ this }}){% endif %}"
    )
    got = lineage(sql, PARENTS, compiled=False)
    assert got == {
        "id": ("passthrough", {("orders", "id")}),
        "name": ("passthrough", {("customers", "name")}),
    }


def test_what_cannot_be_parsed_is_unknown_with_a_reason() -> None:
    why = reason("select (id from orders", PARENTS)
    assert why is not None and "does not parse" in why
    # Without compiled_code, a macro dbt would expand leaves the columns it builds unknown.
    sql = "select {{ my_macro('amount') }} as x, id from {{ ref('orders') }}"
    why = reason(sql, PARENTS, compiled=False)
    assert why is not None and "my_macro" in why
    got = lineage(sql, PARENTS, compiled=False)
    assert got == {"x": ("unknown", set()), "id": ("passthrough", {("orders", "id")})}
    why = reason("{{ union_everything() }}", PARENTS, compiled=False)
    assert why is not None and "no SELECT" in why and "union_everything" in why


# --- dialects ---------------------------------------------------------------------------------


def test_snowflake_qualify_lateral_flatten_and_upper_case_catalog() -> None:
    parents = {"events": [("ID", "NUMBER"), ("PAYLOAD", "VARIANT"), ("TS", "TIMESTAMP_NTZ")]}
    sql = """
    select e.id, f.value:name::string as item_name, e.ts
    from analytics.events e, lateral flatten(input => e.payload:items) f
    qualify row_number() over (partition by e.id order by e.ts desc) = 1
    """
    got = lineage(sql, parents, adapter="snowflake")
    assert got == {
        "ID": ("passthrough", {("events", "ID")}),
        "ITEM_NAME": ("derived", {("events", "PAYLOAD")}),
        "TS": ("passthrough", {("events", "TS")}),
    }
    assert row_parents(sql, parents, adapter="snowflake") == {
        "events.ID",
        "events.TS",
        "events.PAYLOAD",  # flatten multiplies the rows
    }


def test_snowflake_star_from_upper_case_catalog() -> None:
    got = lineage('select * from "DB"."ANALYTICS"."ORDERS"', UPPER, adapter="snowflake")
    assert list(got) == ["ID", "CUSTOMER_ID", "AMOUNT", "STATUS"]


def test_bigquery_struct_access_and_unnest() -> None:
    parents = {
        "sessions": [
            ("id", "INT64"),
            ("device", "STRUCT<os STRING, model STRING>"),
            ("hits", "ARRAY<INT64>"),
        ]
    }
    sql = """
    select s.id, s.device.os as os, hit
    from `proj`.`analytics`.`sessions` as s cross join unnest(s.hits) as hit
    """
    got = lineage(sql, parents, adapter="bigquery")
    assert got == {
        "id": ("passthrough", {("sessions", "id")}),
        "os": ("derived", {("sessions", "device")}),
        "hit": ("derived", {("sessions", "hits")}),
    }


@pytest.mark.parametrize("adapter", ["databricks", "spark"])
def test_spark_lateral_view_explode(adapter: str) -> None:
    parents = {"carts": [("id", "int"), ("items", "array<string>")]}
    got = lineage(
        "select c.id, item from analytics.carts c lateral view explode(c.items) t as item",
        parents,
        adapter=adapter,
    )
    assert got == {
        "id": ("passthrough", {("carts", "id")}),
        "item": ("derived", {("carts", "items")}),
    }


@pytest.mark.parametrize("adapter", ["postgres", "redshift"])
def test_postgres_family_casts_and_distinct_on(adapter: str) -> None:
    sql = (
        "select distinct on (customer_id) customer_id, amount::numeric(10, 2) as amount,"
        ' "status" as state from "db"."analytics"."orders" order by customer_id, id desc'
    )
    got = lineage(sql, PARENTS, adapter=adapter)
    assert got == {
        "customer_id": ("passthrough", {("orders", "customer_id")}),
        "amount": ("derived", {("orders", "amount")}),
        "state": ("renamed", {("orders", "status")}),
    }
    assert row_parents(sql, PARENTS, adapter=adapter) == {"orders.customer_id", "orders.id"}


def test_duckdb_using_join_and_group_by_all() -> None:
    sql = (
        "select customer_id, count(*) as n from orders"
        " join customers on customers.id = orders.customer_id group by all"
    )
    got = lineage(sql, PARENTS)
    assert got == {
        "customer_id": ("passthrough", {("orders", "customer_id")}),
        "n": ("source", set()),
    }


def test_unknown_table_gives_unknown_columns_not_sources() -> None:
    got = lineage("select x.a, orders.id from not_a_model x join orders on true", PARENTS)
    assert got == {"a": ("unknown", set()), "id": ("passthrough", {("orders", "id")})}


def test_pivot_and_unpivot_columns() -> None:
    parents = {"sales": [("REGION", "TEXT"), ("MONTH", "TEXT"), ("AMOUNT", "NUMBER")]}
    sql = """
    select p.region, p.jan, p.feb
    from (select region, month, amount from sales) as s
    pivot(sum(s.amount) for s.month in ('jan' as jan, 'feb' as feb)) as p
    """
    got = lineage(sql, parents, adapter="snowflake")
    assert got["REGION"] == ("passthrough", {("sales", "REGION")})
    assert got["JAN"] == ("derived", {("sales", "AMOUNT"), ("sales", "MONTH")})


def test_ephemeral_parent_injected_as_a_cte_is_a_parent_of_its_own() -> None:
    from recce_trio.core.cll.api import CllProject
    from tests.unit import factories as f

    eph = f.model(
        "eph_orders",
        "select id, amount from {{ ref('orders') }}",
        parents=["model.shop.orders"],
        config={"materialized": "ephemeral"},
    )
    compiled = (
        "with __dbt__cte__eph_orders as (select id, amount from analytics.orders)"
        " select id, amount * 2 as double_amount from __dbt__cte__eph_orders"
    )
    m = f.replace(f.model("m", "select ...", parents=[eph.unique_id]), compiled_code=compiled)
    orders = f.replace(f.model("orders", "select 1"), schema="analytics")
    manifest = f.manifest(orders, eph, m)
    cat = f.catalog({orders.unique_id: ORDERS})
    project = CllProject(manifest, cat, manifest, cat, changes={})
    entry = project.node(m.unique_id)
    assert entry is not None
    assert entry.columns["id"].parents == ((eph.unique_id, "id"),)
    assert entry.columns["double_amount"].kind == "derived"
    # The ephemeral model has no catalog entry: its columns come from its own SQL.
    own = project.node(eph.unique_id)
    assert own is not None and list(own.columns) == ["id", "amount"]
    assert own.columns["amount"].type is None


def test_a_parent_without_catalog_lends_the_columns_of_its_sql() -> None:
    from recce_trio.core.cll.api import CllProject
    from tests.unit import factories as f

    stg = f.replace(f.model("stg", "select 1"), compiled_code="select id, amount from raw_orders")
    m = f.replace(
        f.model("m", "select 1", parents=[stg.unique_id]), compiled_code="select * from main.stg"
    )
    manifest = f.manifest(stg, m)
    project = CllProject(manifest, None, manifest, None, changes={})
    entry = project.node(m.unique_id)
    assert entry is not None
    assert {n: c.parents for n, c in entry.columns.items()} == {
        "id": ((stg.unique_id, "id"),),
        "amount": ((stg.unique_id, "amount"),),
    }


def test_cross_database_macros_render_without_dbt() -> None:
    sql = (
        "select cast(id as {{ dbt.type_string() }}) as id_text,"
        " {{ dbt_utils.generate_surrogate_key(['id', 'status']) }} as order_key,"
        " {{ dbt.date_trunc('day', 'amount') }} as day"
        " from {{ ref('orders') }}"
    )
    got = lineage(sql, PARENTS, compiled=False)
    assert got == {
        "id_text": ("derived", {("orders", "id")}),
        "order_key": ("derived", {("orders", "id"), ("orders", "status")}),
        "day": ("derived", {("orders", "amount")}),
    }
    star = lineage(
        "select {{ dbt_utils.star(ref('orders')) }} from {{ ref('orders') }}",
        PARENTS,
        compiled=False,
    )
    assert list(star) == ["id", "customer_id", "amount", "status"]


def test_ephemeral_parent_named_but_not_injected() -> None:
    # dbt before 0.19 wrote compiled_sql that names __dbt__CTE__<model> without defining it.
    from recce_trio.core.cll.api import CllProject
    from tests.unit import factories as f

    eph = f.model("eph", "select 1", config={"materialized": "ephemeral"})
    eph = f.replace(eph, compiled_code="select 1 as id, 'x' as label")
    m = f.model("m", "select 1", parents=[eph.unique_id])
    m = f.replace(m, compiled_code="select label from __dbt__CTE__eph")
    manifest = f.manifest(eph, m)
    project = CllProject(manifest, None, manifest, None, changes={})
    entry = project.node(m.unique_id)
    assert entry is not None
    assert entry.columns["label"].parents == ((eph.unique_id, "label"),)
